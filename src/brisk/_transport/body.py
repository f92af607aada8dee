"""What every streamed response body shares, sync or asyncio, HTTP/1.1 or HTTP/2: it gives its connection
back to the transport exactly once, kept when the response ended cleanly, closed when it was given up
half-way; and the HTTP/1.1 response a transport builds once the head has been parsed."""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

from brisk._core.streams import ByteStream
from brisk.models import Response

if TYPE_CHECKING:
    from brisk._protocol.http11 import ResponseParser
    from brisk._transport.base import AsyncByteStream, SendOptions, SyncByteStream, Timings
    from brisk.models import PreparedRequest

__all__ = ["H1Body", "PooledBody", "h1_response"]


class Connection(Protocol):
    served: int

    def close(self) -> None: ...


C = TypeVar("C", bound=Connection)


class Pool(Protocol[C]):  # type: ignore[misc]
    """The transport side a body talks to."""

    def _finish(self, key: Hashable, conn: C, reusable: bool) -> None: ...


class PooledBody(Generic[C]):
    """The body of one response on a pooled connection ``conn`` (pool key ``key``)."""

    __slots__ = ("_conn", "_done", "_key", "_options", "_timings", "_transport")

    def __init__(
        self, transport: Pool[C], key: Hashable, conn: C, options: SendOptions, timings: Timings
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._options = options
        self._timings = timings
        self._done = False

    def _give_back(self, reusable: bool) -> None:
        """The response is complete: count and time it, and hand the connection back to the pool."""
        self._done = True
        self._conn.served += 1
        self._timings.total = time.monotonic() - self._timings.start
        self._transport._finish(self._key, self._conn, reusable)

    def _close_connection(self) -> None:
        """Given up half-way: the rest of the body is still on the connection, so it is closed."""
        if not self._done:
            self._done = True
            self._conn.close()
            self._transport._finish(self._key, self._conn, False)


class H1Body(PooledBody[C]):
    """An HTTP/1.1 body, framed by ``parser``; the connection is free again once the body has been read."""

    __slots__ = ("_parser",)

    def __init__(
        self,
        transport: Pool[C],
        key: Hashable,
        conn: C,
        parser: ResponseParser,
        options: SendOptions,
        timings: Timings,
    ) -> None:
        super().__init__(transport, key, conn, options, timings)
        self._parser = parser

    def close(self) -> None:
        if not self._done:
            if self._parser.complete:
                self._finish()
            else:
                self._abort()

    def _finish(self) -> None:
        if not self._done:
            self._give_back(self._parser.reusable)

    def _abort(self) -> None:
        self._close_connection()


def h1_response(
    body_type: type[H1Body[C]],
    transport: Pool[C],
    key: Hashable,
    conn: C,
    parser: ResponseParser,
    request: PreparedRequest,
    options: SendOptions,
    timings: Timings,
    must_close: bool,
) -> Response:
    """The response once ``parser`` has its head. A body that came whole with the head (a small response)
    is taken at once and the connection goes back to the pool now; a longer one streams from it
    (``body_type``). ``must_close``: the connection cannot carry another request whatever the server says."""
    head = parser.head
    assert head is not None
    if must_close:
        head.keep_alive = False
    stream: SyncByteStream | AsyncByteStream
    if parser.complete:
        conn.served += 1
        timings.total = time.monotonic() - timings.start
        transport._finish(key, conn, parser.reusable)
        stream = ByteStream(parser.take_body())
    else:
        stream = cast(
            "SyncByteStream | AsyncByteStream", body_type(transport, key, conn, parser, options, timings)
        )
    return Response._from_transport(
        head.status_code, head.reason, head.http_version, head, stream, request, timings
    )
