"""What both drivers do around one request/response exchange once the bytes are in: the response built
from a parsed HTTP/1.1 head or an HTTP/2 stream's head, and the error of a stream that failed first."""

from __future__ import annotations

import time
from collections.abc import Hashable

from brisk._core.streams import ByteStream
from brisk._transport.base import StaleConnection
from brisk._transport.body import Connection, H1Body, Pool
from brisk._transport.wire import h2_headers, method_of
from brisk.models import Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar, cast

    from brisk._core.url import URL
    from brisk._protocol.http2 import H2Stream
    from brisk._protocol.http11 import ResponseParser
    from brisk._response.connection_info import ConnectionInfo
    from brisk._transport.base import AsyncByteStream, SendOptions, SyncByteStream, Timings
    from brisk.models import PreparedRequest
else:
    from brisk._core.typing_lite import TypeVar, cast

__all__ = ["h1_response", "h2_request", "h2_response", "raise_stream_error"]

C = TypeVar("C", bound=Connection)


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
        stream = ByteStream(parser.take_body()) if parser.trailers is None else _Trailed(parser)
    else:
        stream = cast(
            "SyncByteStream | AsyncByteStream", body_type(transport, key, conn, parser, options, timings)
        )
    return Response._from_transport(
        head.status_code,
        head.reason,
        head.http_version,
        head,
        stream,
        request,
        timings,
        conn.info,
        head.missing,
    )


def h2_request(
    request: PreparedRequest, url: URL, options: SendOptions
) -> tuple[str, str, list[tuple[str, str]]]:
    """The method, the ``:authority`` and the headers of ``request`` as an HTTP/2 stream sends them."""
    authority = request.headers.get("host") or url.host_header
    return method_of(request), authority, h2_headers(request, options)


def raise_stream_error(stream: H2Stream) -> None:
    """Raise the error of a stream that failed before its response head (if it did). A stream the server
    never processed (refused, or beyond a GOAWAY's last stream) may be sent again on another connection."""
    error = stream.error
    if error is not None:
        if stream.unprocessed:
            raise StaleConnection(error, unprocessed=True)
        raise error


def h2_response(
    stream: H2Stream, body: Any, request: PreparedRequest, timings: Timings, info: ConnectionInfo
) -> Response:
    """The response once ``stream`` has its head; ``body`` reads the rest of the stream."""
    assert stream.status is not None
    timings.first_byte = time.monotonic() - timings.start
    return Response._from_transport(stream.status, "", "HTTP/2", stream.headers, body, request, timings, info)


class _Trailed(ByteStream):
    """A chunked body that came whole with its head, and the trailer fields that ended it."""

    __slots__ = ("trailers",)

    def __init__(self, parser: ResponseParser) -> None:
        super().__init__(parser.take_body())
        self.trailers = parser.trailers
