"""HTTP/2 on asyncio: one ``H2Conn`` protocol per connection, many concurrent streams on it.

The connection is chosen by ALPN: after the TLS handshake of an https connection that offered h2, the
transport swaps its protocol for an ``H2Conn`` (``asyncio.Transport.set_protocol``). Requests then run as
streams; each waits on its own future, woken only when its stream changes. The pool lends the connection
to any request while it has free streams (the server's MAX_CONCURRENT_STREAMS, re-read on every SETTINGS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING

from brisk._protocol.http2 import H2Connection, H2Stream
from brisk._transport._common import budget, h2_headers, method_of, timeout_message
from brisk._transport.base import AsyncPulledBody, StaleConnection
from brisk.exceptions import ConnectionError, ReadTimeout, WriteTimeout
from brisk.models import Response

if TYPE_CHECKING:
    from brisk._core.config import Limits
    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.aio import AsyncioTransport
    from brisk._transport.base import SendOptions, Timings
    from brisk.models import PreparedRequest

__all__ = ["H2Conn", "exchange"]


class _TimedOut(Exception):
    pass


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_TimedOut())


class H2Conn(asyncio.Protocol):
    """An HTTP/2 connection: bytes from the socket go to the sans-IO state, waiting streams are woken."""

    multiplexed = True
    http_version = "HTTP/2"

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, limits: Limits) -> None:
        self.loop = loop
        self.transport = transport
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
        if not self.closed:
            self.closed = True
            try:
                goodbye = self.h2.close()
                if goodbye:
                    self.transport.write(goodbye)
            finally:
                self.transport.close()

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
        from brisk.exceptions import ConnectTimeout

        try:
            while not self.h2.settings_received:
                if self.h2.error is not None or self.closed:
                    raise self.h2.error or ConnectionError("the server closed the HTTP/2 connection")
                await self.wait(
                    -1,
                    budget(
                        options.timeout.connect,
                        options.deadline,
                        ConnectTimeout,
                        "waiting for the server's HTTP/2 settings",
                    ),
                )
        except _TimedOut:
            self.close()
            raise ConnectTimeout(
                timeout_message("waiting for the server's HTTP/2 settings", options.timeout.connect, options)
            ) from None
        except BaseException:
            self.close()
            raise

    async def wait(self, key: int, timeout: float | None) -> None:
        """Wait for news on stream ``key`` (0: for the send window to open)."""
        waiter = self._waiters[key] = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            if self._waiters.get(key) is waiter:
                del self._waiters[key]
            if timer is not None:
                timer.cancel()


async def exchange(
    transport: AsyncioTransport,
    key: Hashable,
    conn: H2Conn,
    request: PreparedRequest,
    body: bytes | RequestBody | None,
    url: URL,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Send ``request`` as a new stream on ``conn`` and return its response once the head arrives."""
    headers = h2_headers(request, options)
    authority = request.headers.get("host") or url.host_header
    stream = conn.h2.send_request(
        method_of(request), url.scheme, authority, url.target, headers, end_stream=body is None
    )
    conn.flush()
    try:
        if body is not None:
            await _send_body(conn, stream, body, options)
        timings.request_sent = time.monotonic() - timings.start
        while stream.status is None:
            if stream.error is not None:
                if stream.unprocessed:
                    raise StaleConnection(stream.error, unprocessed=True)
                raise stream.error
            try:
                await conn.wait(
                    stream.id,
                    budget(
                        options.timeout.read,
                        options.deadline,
                        ReadTimeout,
                        "waiting for the server's response",
                    ),
                )
            except _TimedOut:
                raise ReadTimeout(
                    timeout_message("waiting for the server's response", options.timeout.read, options)
                ) from None
    except BaseException:
        conn.h2.release(stream)
        conn.flush()
        raise
    timings.first_byte = time.monotonic() - timings.start
    return Response._from_transport(
        stream.status,
        "",
        "HTTP/2",
        stream.headers,
        _H2Body(transport, key, conn, stream, options, timings),
        request,
        timings,
    )


async def _send_body(conn: H2Conn, stream: H2Stream, body: bytes | RequestBody, options: SendOptions) -> None:
    if isinstance(body, bytes):
        await _send_bytes(conn, stream, body, options)
    else:
        async for chunk in body:
            if chunk:
                await _send_bytes(conn, stream, chunk, options)
    if stream.error is None and not conn.closed:
        conn.h2.end_stream(stream)
        conn.flush()


async def _send_bytes(conn: H2Conn, stream: H2Stream, data: bytes, options: SendOptions) -> None:
    view = memoryview(data)
    while view:
        if stream.error is not None or stream.status is not None:
            return  # reset, or answered early: stop sending
        window = conn.h2.send_window(stream)
        if window <= 0:
            try:
                await conn.wait(
                    0, budget(options.timeout.write, options.deadline, WriteTimeout, "sending the request")
                )
            except _TimedOut:
                raise WriteTimeout(
                    timeout_message(
                        "sending the request (HTTP/2 flow control)", options.timeout.write, options
                    )
                ) from None
            continue
        conn.h2.send_data(stream, bytes(view[:window]))
        conn.write_now()
        view = view[window:]


class _H2Body(AsyncPulledBody):
    """The body of one HTTP/2 response, read from its stream."""

    __slots__ = ("_conn", "_done", "_key", "_options", "_stream", "_timings", "_transport")

    def __init__(
        self,
        transport: AsyncioTransport,
        key: Hashable,
        conn: H2Conn,
        stream: H2Stream,
        options: SendOptions,
        timings: Timings,
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._stream = stream
        self._options = options
        self._timings = timings
        self._done = False

    def close(self) -> None:
        if not self._done:
            self._finish()

    def _take(self) -> bytes:
        data = self._conn.h2.take_body(self._stream)
        if data:
            self._conn.flush()  # taking it opens the flow-control window again
        return data

    def _ended(self) -> bool:
        return self._stream.complete

    def _drop(self) -> None:
        self.close()  # releasing an unfinished stream resets it; the connection serves on

    async def _fill(self) -> None:
        stream, options = self._stream, self._options
        if stream.error is not None:
            raise stream.error
        try:
            await self._conn.wait(
                stream.id,
                budget(options.timeout.read, options.deadline, ReadTimeout, "reading the response body"),
            )
        except _TimedOut:
            raise ReadTimeout(
                timeout_message("reading the response body", options.timeout.read, options)
            ) from None

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._conn.h2.release(self._stream)  # resets the stream if the body was not read to the end
            self._conn.flush()
            self._conn.served += 1
            self._timings.total = time.monotonic() - self._timings.start
            self._transport._finish(self._key, self._conn, self._conn.looks_alive())

    def __del__(self) -> None:
        if not self._done:
            self._done = True
            try:
                self._conn.loop.call_soon(self._release_later)
            except RuntimeError:
                pass

    def _release_later(self) -> None:
        self._conn.h2.release(self._stream)
        self._conn.flush()
        self._transport._finish(self._key, self._conn, self._conn.looks_alive())
