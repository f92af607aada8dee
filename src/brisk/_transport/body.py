"""What every streamed response body shares, sync or asyncio, HTTP/1.1 or HTTP/2: it gives its connection
back to the transport exactly once, kept when the response ended cleanly, closed when it was given up
half-way."""

from __future__ import annotations

import time
from collections.abc import Hashable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, Protocol, TypeVar

    from brisk._protocol.http2 import H2Stream
    from brisk._protocol.http11 import ResponseParser
    from brisk._response.connection_info import ConnectionInfo
    from brisk._transport.base import SendOptions, Timings
else:
    from brisk._core.typing_lite import Generic, Protocol, TypeVar

__all__ = ["H1Body", "H2Body", "Pool", "PooledBody"]


class Connection(Protocol):
    served: int
    info: ConnectionInfo

    def close(self) -> None: ...


class H2Connection(Connection, Protocol):
    def release(self, stream: H2Stream) -> None: ...
    def looks_alive(self) -> bool: ...


C = TypeVar("C", bound=Connection)
M = TypeVar("M", bound=H2Connection)


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

    @property
    def trailers(self) -> list[tuple[str, str]] | None:
        """The trailer fields once the body has ended ([] when it had none); None before."""
        parser = self._parser
        return (parser.trailers or []) if parser.complete else None

    def _abort(self) -> None:
        self._close_connection()


class H2Body(PooledBody[M]):
    """An HTTP/2 body, read from ``stream``; the connection serves other streams meanwhile and after."""

    __slots__ = ("_stream",)

    def __init__(
        self,
        transport: Pool[M],
        key: Hashable,
        conn: M,
        stream: H2Stream,
        options: SendOptions,
        timings: Timings,
    ) -> None:
        super().__init__(transport, key, conn, options, timings)
        self._stream = stream

    @property
    def trailers(self) -> list[tuple[str, str]] | None:
        """The trailer fields once the stream has ended ([] when it had none); None before."""
        stream = self._stream
        return (stream.trailers or []) if stream.complete else None

    def close(self) -> None:
        """Done: releasing a stream that was not read to the end resets it."""
        if not self._done:
            self._conn.release(self._stream)
            self._give_back(self._conn.looks_alive())
