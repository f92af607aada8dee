"""HTTP/2 on asyncio: one ``AsyncH2Connection`` protocol per connection, many concurrent streams on it.

The connection is chosen by ALPN: after the TLS handshake of an https connection that offered h2, the
transport swaps its protocol for an ``AsyncH2Connection`` (``asyncio.Transport.set_protocol``). Requests
then run as streams; each waits on its own future, woken only when its stream changes. The pool lends the
connection to any request while it has free streams (the server's MAX_CONCURRENT_STREAMS, re-read on every
SETTINGS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable

from brisk._core.url import UNIX_SCHEME
from brisk._protocol.http2 import H2Connection, H2Stream
from brisk._transport.asyncio.body import AsyncPulledBody
from brisk._transport.asyncio.waiting import TimedOut, wait_until_woken
from brisk._transport.body import H2Body
from brisk._transport.deadline import H2_FLOW_CONTROL, H2_SETTINGS, READING_BODY, WAITING_FOR_RESPONSE, Phase
from brisk._transport.exchange import h2_request, h2_response, raise_stream_error
from brisk._transport.facts import of_transport
from brisk.exceptions import ConnectionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.config import Limits
    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.asyncio.transport import AsyncTransport
    from brisk._transport.base import SendOptions, Timings
    from brisk.models import PreparedRequest, Response

__all__ = ["AsyncH2Connection", "exchange"]


class AsyncH2Connection(asyncio.Protocol):
    """An HTTP/2 connection: bytes from the socket go to the sans-IO state, waiting streams are woken."""

    multiplexed = True
    http_version = "HTTP/2"

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, limits: Limits) -> None:
        self.loop = loop
        self.transport = transport
        self.info = of_transport(transport)  # the connection's facts, shared by its responses
        self.h2 = H2Connection(limits)
        self.idle_since = 0.0
        self.served = 0
        self.closed = False
        self._waiters: dict[int, asyncio.Future[None]] = {}  # stream id -> waiter; 0: waiting for a window
        self._flush_pending = False
        self.write_now()

    # -- asyncio.Protocol ---------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        touched = self.h2.receive(data)
        self.flush()
        if 0 in touched:
            self._wake_all()
        else:
            for stream_id in touched:
                self._wake(stream_id)

    def eof_received(self) -> bool:
        self.h2.connection_lost()
        self._wake_all()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.h2.connection_lost()
        self._wake_all()

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        self._wake(0)

    # -- pool protocol ------------------------------------------------------------------------------------

    def has_capacity(self) -> bool:
        return not self.closed and self.h2.can_open_stream()

    def looks_alive(self) -> bool:
        return not self.closed and self.h2.error is None and not self.h2.goaway

    @property
    def open_streams(self) -> int:
        return self.h2.open_streams

    def close(self) -> None:
        """Say GOAWAY and close the socket now, as the HTTP/1.1 connection and the sync transport do.

        Not ``transport.close()``: over TLS that starts asyncio's graceful shutdown, which closes the socket
        only once the server has answered the client's close_notify. A session closed just before its
        event loop ends (``async with`` as the last thing in ``asyncio.run``, a bulk run's loop) left the
        socket to the garbage collector whenever the server was slower than those last turns of the loop
        ("unclosed transport" ResourceWarnings, later, in unrelated code). ``abort()`` closes it on the
        loop's next turn; the GOAWAY is already in the socket (a transport with an empty buffer writes at
        once), only a write the socket could not take would be dropped."""
        if not self.closed:
            self.closed = True
            try:
                goodbye = self.h2.close()
                if goodbye:
                    self.transport.write(goodbye)
            finally:
                self.transport.abort()

    # -- plumbing -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the connection has to send, at the end of this turn of the event loop: the requests
        that tasks start in one turn (a gather of 100) leave in one TLS write instead of 100."""
        if not self._flush_pending and not self.closed:
            self._flush_pending = True
            self.loop.call_soon(self.write_now)

    def write_now(self) -> None:
        self._flush_pending = False
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.transport.write(data)

    def release(self, stream: H2Stream) -> None:
        """The response is done with ``stream`` (reset if it was not read to the end)."""
        self.h2.release(stream)
        self.flush()

    def _wake(self, key: int) -> None:
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_all(self) -> None:
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_result(None)

    async def ready(self, options: SendOptions) -> None:
        """Wait for the server's first SETTINGS, so the pool never lends out more streams than it allows."""
        try:
            while not self.h2.settings_received:
                if self.h2.error is not None or self.closed:
                    raise self.h2.error or ConnectionError("the server closed the HTTP/2 connection")
                await self.wait(-1, H2_SETTINGS, options)
        except BaseException:
            self.close()
            raise

    async def wait(self, key: int, phase: Phase, options: SendOptions) -> None:
        """Wait for news on stream ``key`` (0: for the send window to open; -1: for the server's settings),
        within ``phase``'s time budget."""
        waiter = self._waiters[key] = self.loop.create_future()
        try:
            await wait_until_woken(waiter, phase.budget(options))
        except TimedOut:
            raise phase.timed_out(options) from None
        finally:
            if self._waiters.get(key) is waiter:
                del self._waiters[key]


async def exchange(
    transport: AsyncTransport,
    key: Hashable,
    conn: AsyncH2Connection,
    request: PreparedRequest,
    body: bytes | RequestBody | None,
    url: URL,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Send ``request`` as a new stream on ``conn`` and return its response once the head arrives."""
    method, authority, headers = h2_request(request, url, options)
    scheme = url.scheme if url.scheme != UNIX_SCHEME else "http"  # http+unix is http on the wire
    stream = conn.h2.send_request(method, scheme, authority, url.target, headers, end_stream=body is None)
    conn.flush()
    try:
        if body is not None:
            await _send_body(conn, stream, body, options)
        timings.request_sent = time.monotonic() - timings.start
        while stream.status is None:
            raise_stream_error(stream)
            await conn.wait(stream.id, WAITING_FOR_RESPONSE, options)
    except BaseException:
        conn.release(stream)
        raise
    reader = _AsyncH2Body(transport, key, conn, stream, options, timings)
    return h2_response(stream, reader, request, timings, conn.info)


async def _send_body(
    conn: AsyncH2Connection, stream: H2Stream, body: bytes | RequestBody, options: SendOptions
) -> None:
    if isinstance(body, bytes):
        await _send_bytes(conn, stream, body, options)
    else:
        async for chunk in body:
            if chunk:
                await _send_bytes(conn, stream, chunk, options)
    if stream.error is None and not conn.closed:
        conn.h2.end_stream(stream)
        conn.flush()


async def _send_bytes(conn: AsyncH2Connection, stream: H2Stream, data: bytes, options: SendOptions) -> None:
    view = memoryview(data)
    while view:
        if stream.error is not None or stream.status is not None:
            return  # reset, or answered early: stop sending
        window = conn.h2.send_window(stream)
        if window <= 0:
            await conn.wait(0, H2_FLOW_CONTROL, options)
            continue
        conn.h2.send_data(stream, bytes(view[:window]))
        conn.write_now()
        view = view[window:]


class _AsyncH2Body(H2Body[AsyncH2Connection], AsyncPulledBody):
    """The body of one HTTP/2 response, read from its stream."""

    __slots__ = ()

    def _take(self) -> bytes:
        data = self._conn.h2.take_body(self._stream)
        if data:
            self._conn.flush()  # taking it opens the flow-control window again
        return data

    def _ended(self) -> bool:
        return self._stream.complete

    def _finish(self) -> None:
        self.close()

    def _abort(self) -> None:
        self.close()  # the stream is reset; the connection serves on

    async def _fill(self) -> None:
        stream = self._stream
        if stream.error is not None:
            raise stream.error
        await self._conn.wait(stream.id, READING_BODY, self._options)

    def __del__(self) -> None:
        if not self._done:
            self._done = True
            try:
                self._conn.loop.call_soon(self._release_later)
            except RuntimeError:
                pass

    def _release_later(self) -> None:
        self._conn.release(self._stream)
        self._transport._finish(self._key, self._conn, self._conn.looks_alive())
