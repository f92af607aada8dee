"""HTTP/1.1 on asyncio: the connection (a buffered protocol), one request/response exchange, and the body.

Protocols (not streams) keep the per-request cost low: bytes go from the socket straight into the parser,
and a request usually completes with a single await. Waiting uses one future at a time per connection and
one timer per wait. Works on uvloop as on the default loop.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
import time
from collections.abc import Hashable

from brisk._protocol.http11 import LAST_CHUNK, ResponseParser, chunk_header
from brisk._transport.asyncio.body import AsyncPulledBody
from brisk._transport.asyncio.waiting import TimedOut, expire, wait_until_woken
from brisk._transport.asyncio.writes import SENT_AT_ONCE, left_after_late_write
from brisk._transport.base import StaleConnection
from brisk._transport.body import H1Body
from brisk._transport.deadline import READING_BODY, SENDING, WAITING_FOR_RESPONSE
from brisk._transport.errors import broken
from brisk._transport.exchange import h1_response
from brisk._transport.facts import of_transport
from brisk._transport.wire import method_of, request_body
from brisk.exceptions import RemoteProtocolError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._request.body import RequestBody
    from brisk._response.connection_info import ConnectionInfo
    from brisk._transport.asyncio.transport import AsyncTransport
    from brisk._transport.base import SendOptions, Timings
    from brisk.models import PreparedRequest, Response

__all__ = ["AsyncH1Connection", "exchange"]

_HIGH_WATER = 1024 * 1024  # unread body bytes before we stop reading from the socket
_CONTINUE_WAIT = 1.0  # longest wait for "100 Continue" before sending the body anyway
_SMALL_BODY = 65536  # a bytes body up to this size goes out in one write with the head

#: Bytes asked of the socket per read, as asyncio's own transports ask (256 KiB).
_READ_SIZE = 256 * 1024
_read_buffers = threading.local()


def _read_buffer() -> memoryview:
    """This thread's read buffer, shared by its connections.

    A plain ``asyncio.Protocol`` gets a fresh bytes object per read: asyncio allocates 256 KiB and shrinks
    it to what arrived. Whether glibc serves that with mmap, mremap and munmap (three system calls and a
    page fault per read) or from its heap depends on the process's allocation history, and it moved the
    bench's 100-concurrent-GET figure by 30% from one process to the next. As a ``BufferedProtocol`` a
    connection receives into this buffer instead and copies out only what arrived. One buffer per thread
    is enough: asyncio calls ``get_buffer``, reads, and calls ``buffer_updated`` with nothing in between,
    and an event loop never leaves its thread.
    """
    view: memoryview | None = getattr(_read_buffers, "view", None)
    if view is None:
        view = _read_buffers.view = memoryview(bytearray(_READ_SIZE))
    return view


class AsyncH1Connection(asyncio.BufferedProtocol):
    """One connection: bytes in go to the current response's parser; at most one task waits on it."""

    info: ConnectionInfo  # set by connection_made (and again after a TLS handshake inside a proxy tunnel)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._buffer = _read_buffer()  # made in the loop's thread, used only there
        self.transport: asyncio.Transport | None = None
        self.parser: ResponseParser | None = None
        self.idle_since = 0.0
        self.multiplexed = False
        self.http_version = "HTTP/1.1"
        self.served = 0
        self.head_sent_at: float | None = SENT_AT_ONCE  # set by the pool's WriteBatch (writes.py)
        self.closed = False
        self.eof = False
        self.error: BaseException | None = None  # a parse error, raised to the reader
        self.lost: BaseException | None = None  # why the connection was lost, if it was
        self.dirty = False  # data arrived while idle: never reuse
        self._poll: select.poll | None = None  # the socket, for looks_alive
        self.early: list[bytes] = []  # bytes received before the first request (see data_received)
        self._waiter: asyncio.Future[None] | None = None
        self._unread = 0
        self._reading_paused = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    # -- asyncio.BufferedProtocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.info = of_transport(transport)  # the connection's facts, shared by its responses
        sock = transport.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
        if fd >= 0:
            self._poll = select.poll()
            self._poll.register(fd, select.POLLIN)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._buffer[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None:
            self.dirty = True  # bytes nobody asked for: this connection must not carry another request
            if self.served == 0 and len(self.early) < 16:
                # Before the first request: an HTTP/2 server's SETTINGS can arrive before we swap in the
                # HTTP/2 protocol (it is sent right after the TLS handshake); keep it for the swap.
                self.early.append(data)
            return
        if self.error is None:
            try:
                parser.feed(data)
            except Exception as exc:  # a protocol error: hand it to the reader
                self.error = exc
            self._unread += len(data)
            if self._unread > _HIGH_WATER and not self._reading_paused and self.transport is not None:
                self._reading_paused = True
                self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.parser is not None and self.parser.head is None:
            self._salvage()
        self.closed = True
        self.eof = True
        self.lost = exc
        self._wake()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _salvage(self) -> None:
        """After a write error asyncio closes the socket without reading what the server had already sent
        — usually the answer that explains the close (413, 401, a redirect before the upload was read).
        The socket is still open during connection_lost: read what is there (plain TCP only; TLS bytes
        would need the SSL object) so the response reaches the caller, as it does in the sync client."""
        transport = self.transport
        if transport is None or transport.get_extra_info("sslcontext") is not None:
            return
        sock = transport.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
        for _ in range(64):  # bounded: at most 4 MiB
            if fd < 0:
                return
            try:
                data = os.read(fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.data_received(data)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- pool protocol ------------------------------------------------------------------------------------

    def has_capacity(self) -> bool:
        return False

    def looks_alive(self) -> bool:
        """Before reuse: an idle connection must have nothing to read (see the sync ``looks_alive``).

        What ``data_received`` and ``eof_received`` reported is not enough. The event loop delivers bytes
        on its next turn, and a task that got its response and sends the next request at once (or that
        kept the loop busy meanwhile) gives it none: a stray response or a FIN that came in after the
        response would wait in the socket, and the next request would read it as its answer, or go to a
        closed connection. So the socket itself is asked too (one poll() with no wait) and, over TLS, the
        TLS layer for bytes it took from the socket but did not deliver: decrypted and unread, or waiting
        in its input buffer while reading is paused.
        """
        if self.closed or self.eof or self.dirty:
            return False
        poll = self._poll
        if poll is not None and poll.poll(0):
            return False
        return not self._tls_holds_bytes()

    def exchange_over(self, reusable: bool) -> bool:
        """The response is done with this connection: True if it may wait in the pool. What the callbacks
        reported decides here; the socket itself is asked before reuse (``looks_alive``)."""
        self.parser = None
        self._unread = 0  # what was received is the finished response's, in its body or dropped with it
        if not reusable or self.closed or self.eof or self.dirty:
            return False
        if self._reading_paused and self.transport is not None:
            # Paused at the high-water mark with the end of the body already in: an idle connection is
            # read, so that a close or stray bytes show at once (over TLS, not held in the TLS buffer).
            self._reading_paused = False
            self.transport.resume_reading()
        return True

    def _tls_holds_bytes(self) -> bool:
        transport = self.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        if ssl_object is None:
            return False
        if ssl_object.pending():
            return True
        # asyncio's TLS protocol feeds what it reads from below to a memory BIO: bytes wait there while
        # reading is paused. With TLS inside TLS (an https URL through an https proxy) the outer layer
        # has its BIO and its decrypted bytes too. These attributes are private (absent on other loops).
        # A partial record that OpenSSL has taken from a BIO stays invisible: Python has no
        # SSL_has_pending().
        protocol = getattr(transport, "_ssl_protocol", None)
        while protocol is not None:
            incoming = getattr(protocol, "_incoming", None)
            if incoming is not None and incoming.pending:
                return True
            outer = getattr(protocol, "_sslobj", None)
            if outer is not None and outer is not ssl_object and outer.pending():
                return True
            protocol = getattr(getattr(protocol, "_transport", None), "_ssl_protocol", None)
        return False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.abort()

    def write_failed(self, exc: Exception) -> None:
        """A request written for this connection by its pool's write batch failed: the waiting exchange
        fails with it."""
        if self.error is None:
            error = self.error = broken(exc, "sending the request")
            error.__cause__ = exc
        self.close()
        self._wake()

    # -- waiting ------------------------------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Wait until data, EOF or an error arrives (or raise TimedOut)."""
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        # The timer inline rather than through wait_until_woken: this wait is on every request's path.
        waiter = self._waiter = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def taken(self) -> None:
        self._unread = 0

    async def drain(self, options: SendOptions) -> None:
        """Wait until the transport's write buffer drains below its high-water mark (within the write
        timeout)."""
        if not self._write_paused or self.closed:
            return
        waiter = self._drain_waiter = self.loop.create_future()
        try:
            await wait_until_woken(waiter, SENDING.budget(options))
        except TimedOut:
            raise SENDING.timed_out(options) from None
        finally:
            self._drain_waiter = None


# -- one request/response exchange -------------------------------------------------------------------------


async def exchange(
    transport: AsyncTransport,
    key: Hashable,
    conn: AsyncH1Connection,
    request: PreparedRequest,
    head: bytes,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Send ``request`` (its serialised ``head`` and its body) on ``conn``; return the response once its
    head has arrived."""
    reused = timings.reused
    parser = conn.parser = ResponseParser(method_of(request), options.limits)
    conn.error = None
    body = request.body
    if body is not None:  # most requests have none: no call for them
        body = request_body(request)
    transport_ = conn.transport
    assert transport_ is not None
    must_close = False
    writes = transport.writes
    writes.in_flight += 1
    try:
        if body is None:
            writes.write(conn, head)
        elif isinstance(body, bytes) and len(body) <= _SMALL_BODY:
            writes.write(conn, head + body)
        else:
            conn.head_sent_at = SENT_AT_ONCE
            transport_.write(head)
            if request.headers.get("Expect", "").lower() == "100-continue" and not await _continue_awaited(
                conn, parser, options
            ):
                must_close = True
            else:
                await _send_body(conn, parser, body, "transfer-encoding" in request.headers, options)
                if parser.head is not None:
                    must_close = True  # answered before the whole body was sent
        timings.request_sent = time.monotonic() - timings.start
        await _read_head(conn, parser, options, reused)
    finally:
        writes.in_flight -= 1
    if conn.head_sent_at:  # written by the batch at the loop's next turn: that is when it was sent
        timings.request_sent = conn.head_sent_at - timings.start
    timings.first_byte = time.monotonic() - timings.start
    return h1_response(_AsyncH1Body, transport, key, conn, parser, request, options, timings, must_close)


async def _send_body(
    conn: AsyncH1Connection,
    parser: ResponseParser,
    body: bytes | RequestBody,
    chunked: bool,
    options: SendOptions,
) -> None:
    transport = conn.transport
    assert transport is not None
    if isinstance(body, bytes):
        transport.write(body)
        await conn.drain(options)
        return
    async for chunk in body:
        if conn.closed or parser.head is not None:
            break  # the server went away or answered early: stop sending
        if not chunk:
            continue
        if chunked:
            # One write(), not writelines(): the selector transport's writelines() of Python 3.12.0-3.12.8
            # and 3.13.0-3.13.1 never pauses the protocol (CPython gh-127655), so drain() would not
            # wait, the body would pile up in memory and the write timeout would never fire.
            transport.write(chunk_header(len(chunk)) + chunk + b"\r\n")
        else:
            transport.write(chunk)
        await conn.drain(options)
    if chunked and not conn.closed:
        transport.write(LAST_CHUNK)


async def _continue_awaited(conn: AsyncH1Connection, parser: ResponseParser, options: SendOptions) -> bool:
    """After a head with ``Expect: 100-continue``: True to send the body now."""
    read = options.timeout.read
    try:
        while parser.head is None and not parser.informational and not conn.eof and conn.error is None:
            await conn.wait(_CONTINUE_WAIT if read is None else min(_CONTINUE_WAIT, read))
    except TimedOut:
        return True  # no answer in time: send the body anyway (RFC 9110 section 10.1.1)
    return parser.head is None


async def _read_head(
    conn: AsyncH1Connection, parser: ResponseParser, options: SendOptions, reused: bool
) -> None:
    late: float | None = None  # the read timeout left for a head the pool's batch wrote late (writes.py)
    while parser.head is None:
        if conn.error is not None:
            raise conn.error
        if conn.eof:
            try:
                parser.feed_eof()
            except RemoteProtocolError as exc:
                if reused and not parser.received_any:
                    raise StaleConnection(exc) from exc
                if conn.lost is not None:
                    raise broken(conn.lost, "waiting for the response") from conn.lost
                raise
        try:
            await conn.wait(WAITING_FOR_RESPONSE.budget(options) if late is None else late)
            late = None
        except TimedOut:
            late = left_after_late_write(conn, options)
            if late is None:
                raise WAITING_FOR_RESPONSE.timed_out(options) from None


# -- the body ----------------------------------------------------------------------------------------------


class _AsyncH1Body(H1Body[AsyncH1Connection], AsyncPulledBody):
    """The body of one HTTP/1.1 response; gives its connection back to the pool when done (or closes it)."""

    __slots__ = ()

    def _take(self) -> bytes:
        if not self._done:
            self._conn.taken()
        return self._parser.take_body()

    def _ended(self) -> bool:
        return self._parser.complete

    async def _fill(self) -> None:
        conn, parser, options = self._conn, self._parser, self._options
        if conn.error is not None:
            raise conn.error
        if conn.eof and not parser.has_body_data():
            parser.feed_eof()  # completes a close-delimited body, or raises IncompleteBody
            return
        try:
            await conn.wait(READING_BODY.budget(options))
        except TimedOut:
            raise READING_BODY.timed_out(options) from None

    def __del__(self) -> None:
        # A response dropped unread. Garbage collection may run in the middle of a pool operation, so the
        # slot is given back from the event loop, not from here.
        if not self._done:
            self._done = True
            self._conn.close()
            try:
                self._conn.loop.call_soon(self._transport._finish, self._key, self._conn, False)
            except RuntimeError:  # the loop is closed: the pool is gone with it
                pass
