"""The asyncio transport: asyncio protocol connections (buffered for HTTP/1.1), the shared pool rules,
HTTP/1.1 through the same sans-IO parser as the sync side.

Protocols (not streams) keep the per-request cost low: bytes go from the socket straight into the
parser, and a request usually completes with a single await. Waiting uses one future at a time per
connection and one timer per wait. Works on uvloop as on the default loop.

Cancellation: any await can be cancelled (a task cancelled, a timeout). Every path that owns a connection
or a pool slot gives it back in ``except BaseException``: an unfinished exchange closes its connection,
a cancelled pool waiter passes its wake-up on. The pool never loses a slot and never hands out a
half-read connection.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._core.log import debug_logger
from brisk._protocol.http11 import LAST_CHUNK, ResponseParser, chunk_header, encode_request_head
from brisk._transport._common import (
    add_url_context,
    budget,
    cleartext_h2,
    literal_address,
    may_multiplex,
    method_of,
    origin_of,
    request_body,
    request_line_and_headers,
    timeout_message,
)
from brisk._transport.base import AsyncPulledBody, ByteStream, SendOptions, StaleConnection, Timings
from brisk._transport.pool import PoolState
from brisk.exceptions import (
    ConnectionError,
    ConnectionRefused,
    ConnectTimeout,
    NameResolutionError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    RequestException,
    SSLError,
    WriteTimeout,
)
from brisk.models import Response

if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.aio_h2 import H2Conn
    from brisk.models import PreparedRequest

__all__ = ["AsyncioTransport"]

_HIGH_WATER = 1024 * 1024  # unread body bytes before we stop reading from the socket
_CONTINUE_WAIT = 1.0


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


class _TimedOut(Exception):
    pass


class Connection(asyncio.BufferedProtocol):
    """One connection: bytes in go to the current response's parser; at most one task waits on it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._buffer = _read_buffer()  # made in the loop's thread, used only there
        self.transport: asyncio.Transport | None = None
        self.parser: ResponseParser | None = None
        self.idle_since = 0.0
        self.multiplexed = False
        self.http_version = "HTTP/1.1"
        self.served = 0
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

    # -- waiting ------------------------------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, timeout: float | None) -> None:
        """Wait until data, EOF or an error arrives (or raise _TimedOut)."""
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        waiter = self._waiter = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def taken(self) -> None:
        self._unread = 0

    async def drain(self, timeout: float | None) -> None:
        """Wait until the transport's write buffer drains below its high-water mark."""
        if not self._write_paused or self.closed:
            return
        waiter = self._drain_waiter = self.loop.create_future()
        timer = None if timeout is None else self.loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        finally:
            self._drain_waiter = None
            if timer is not None:
                timer.cancel()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_TimedOut())


AnyConnection = "Connection | H2Conn"


class AsyncioTransport:
    """A pool of HTTP/1.1 connections for one event loop."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._state: PoolState[Connection | H2Conn] = PoolState(limits)
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        url: URL = request._url  # type: ignore[assignment]
        key = (url.scheme, url.host, url.effective_port, options.config)
        timings = Timings(time.monotonic())
        try:
            # Serialising validates the request (no CR/LF/NUL anywhere): fail before any connection is made.
            # Not needed when an HTTP/2 connection is pooled: its stream validates the same way before a
            # byte goes out, and an HTTP/1.1 head would be thrown away.
            head = None if self._state.speaks_multiplexed(key) else self._head(request, url, options)
            conn = await self._acquire(key, url, options, timings)
        except RequestException as exc:
            add_url_context(exc, url, request)
            raise
        try:
            if isinstance(conn, Connection):
                if head is None:  # the HTTP/2 connection went away meanwhile
                    head = self._head(request, url, options)
                return await self._exchange(key, conn, request, head, options, timings)
            from brisk._transport import aio_h2

            body = request_body(request)
            return await aio_h2.exchange(self, key, conn, request, body, url, options, timings)
        except StaleConnection:
            self._finish(key, conn, conn.multiplexed and conn.looks_alive())
            raise
        except RequestException as exc:
            self._finish(key, conn, conn.multiplexed and conn.looks_alive())
            add_url_context(exc, url, request)
            raise
        except BaseException:
            self._finish(key, conn, conn.multiplexed and conn.looks_alive())
            raise

    @staticmethod
    def _head(request: PreparedRequest, url: URL, options: SendOptions) -> bytes:
        target, headers = request_line_and_headers(request, url, options)
        return encode_request_head(method_of(request), target, headers)

    async def aclose(self) -> None:
        self._closed = True
        for conn in self._state.drain():
            conn.close()
        self._wake_waiters()

    def close(self) -> None:
        self._closed = True
        for conn in self._state.drain():
            conn.close()
        self._wake_waiters()

    # -- pool ---------------------------------------------------------------------------------------------

    async def _acquire(
        self, key: Hashable, url: URL, options: SendOptions, timings: Timings
    ) -> Connection | H2Conn:
        give_up: float | None = None
        multiplex = may_multiplex(options.config, url)
        loop = asyncio.get_running_loop()
        while True:
            if self._closed:
                raise RuntimeError("this session is closed; create a new one to send requests")
            now = time.monotonic()
            conn, may_open, to_close = self._state.acquire(key, now, multiplex)
            for old in to_close:
                old.close()
            if conn is not None:
                if conn.looks_alive():
                    timings.reused = True
                    return conn
                conn.close()
                self._give_back(key, conn)
                continue
            if may_open:
                try:
                    opened = await self._open(url, options, timings, loop)
                except BaseException:
                    self._give_back(key, None)
                    raise
                self._state.opened(key, opened)
                if opened.multiplexed:
                    self._wake_waiters()  # everyone waiting for this origin can share it
                return opened
            if give_up is None:
                wait = budget(
                    options.timeout.pool,
                    options.deadline,
                    PoolTimeout,
                    "waiting for a free connection in the pool",
                )
                give_up = None if wait is None else now + wait
            remaining = None if give_up is None else give_up - now
            if remaining is not None and remaining <= 0:
                raise PoolTimeout(
                    f"no connection to {url.host_header} became free in the pool within "
                    f"{options.timeout.pool}s (Limits.max_connections*)"
                )
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            timer = None if remaining is None else loop.call_later(remaining, _expire, waiter)
            try:
                await waiter
            except _TimedOut:
                pass
            except BaseException:
                # Cancelled: if we had just been woken, pass the wake-up on so no slot goes unused.
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self._wake_one()
                raise
            finally:
                if timer is not None:
                    timer.cancel()
                if not waiter.done():
                    waiter.cancel()
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_waiters(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _give_back(self, key: Hashable, conn: Connection | H2Conn | None) -> None:
        if not self._closed:
            self._state.discard(key, conn)
        self._wake_one()

    def _finish(self, key: Hashable, conn: Connection | H2Conn, reusable: bool) -> None:
        if isinstance(conn, Connection):
            reusable = conn.exchange_over(reusable)
        elif conn.closed or not conn.looks_alive():
            reusable = False
        must_close = True if self._closed else self._state.release(key, conn, reusable, time.monotonic())
        if must_close:
            conn.close()
            log = debug_logger()
            if log is not None:
                log.debug(
                    "connection to %s closed (%s)", origin_of(key), "reusable" if reusable else "not reusable"
                )
        self._wake_one()

    async def _open(
        self, url: URL, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
    ) -> Connection | H2Conn:
        config = options.config
        if config.proxy is not None:
            from brisk._transport import _proxy_async

            opened = await _proxy_async.open_through_proxy(url, options, timings, loop)
            if not isinstance(opened, Connection):
                await opened.ready(options)
            return opened
        ssl_context = None
        if url.scheme in ("https", "wss"):  # before connecting: a bad CA path must not leave a socket open
            from brisk._transport.tls import ssl_context as make_context

            ssl_context = make_context(config)
        sock = await connect_tcp(url.host, url.effective_port, options, timings, loop)
        conn = upgrade_if_h2(
            await start_connection(sock, ssl_context, url.host, options, timings, loop),
            options,
            loop,
            cleartext_h2(config, url),
        )
        if not isinstance(conn, Connection):
            await conn.ready(options)
        log = debug_logger()
        if log is not None:
            log.debug(
                "connection opened to %s (dns %.1f ms, connect %.1f ms, tls %.1f ms)",
                url.host_header,
                timings.dns * 1000,
                timings.connect * 1000,
                timings.tls * 1000,
            )
        return conn

    # -- one exchange -------------------------------------------------------------------------------------

    async def _exchange(
        self,
        key: Hashable,
        conn: Connection,
        request: PreparedRequest,
        head: bytes,
        options: SendOptions,
        timings: Timings,
    ) -> Response:
        reused = timings.reused
        parser = conn.parser = ResponseParser(method_of(request), options.limits)
        conn.error = None
        body = request_body(request)
        transport = conn.transport
        assert transport is not None
        must_close = False
        if body is None:
            transport.write(head)
        elif isinstance(body, bytes) and len(body) <= 65536:
            transport.write(head + body)
        else:
            transport.write(head)
            if request.headers.get("Expect", "").lower() == "100-continue" and not await self._continue(
                conn, parser, options
            ):
                must_close = True
            else:
                await self._write_body(conn, parser, body, "transfer-encoding" in request.headers, options)
                if parser.head is not None:
                    must_close = True  # answered before the whole body was sent
        timings.request_sent = time.monotonic() - timings.start
        await self._read_head(conn, parser, options, reused)
        timings.first_byte = time.monotonic() - timings.start
        head_ = parser.head
        assert head_ is not None
        if must_close:
            head_.keep_alive = False
        if parser.complete:
            # The whole body came with the head (small responses): give the connection back now.
            conn.served += 1
            timings.total = time.monotonic() - timings.start
            self._finish(key, conn, parser.reusable)
            stream: _AsyncBody | ByteStream = ByteStream(parser.take_body())
        else:
            stream = _AsyncBody(self, key, conn, parser, options, timings)
        return Response._from_transport(
            head_.status_code, head_.reason, head_.http_version, head_, stream, request, timings
        )

    async def _write_body(
        self,
        conn: Connection,
        parser: ResponseParser,
        body: bytes | RequestBody,
        chunked: bool,
        options: SendOptions,
    ) -> None:
        transport = conn.transport
        assert transport is not None
        if isinstance(body, bytes):
            transport.write(body)
            await self._drain(conn, options)
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
            await self._drain(conn, options)
        if chunked and not conn.closed:
            transport.write(LAST_CHUNK)

    async def _drain(self, conn: Connection, options: SendOptions) -> None:
        try:
            await conn.drain(
                budget(options.timeout.write, options.deadline, WriteTimeout, "sending the request")
            )
        except _TimedOut:
            raise WriteTimeout(
                timeout_message("sending the request", options.timeout.write, options)
            ) from None

    async def _continue(self, conn: Connection, parser: ResponseParser, options: SendOptions) -> bool:
        """After a head with ``Expect: 100-continue``: True to send the body now."""
        read = options.timeout.read
        try:
            while parser.head is None and not parser.informational and not conn.eof and conn.error is None:
                await conn.wait(_CONTINUE_WAIT if read is None else min(_CONTINUE_WAIT, read))
        except _TimedOut:
            return True
        return parser.head is None

    async def _read_head(
        self, conn: Connection, parser: ResponseParser, options: SendOptions, reused: bool
    ) -> None:
        while parser.head is None:
            if conn.error is not None:
                raise conn.error
            if conn.eof:
                try:
                    parser.feed_eof()
                except RemoteProtocolError as exc:
                    if reused and not parser.received_any:
                        raise StaleConnection(exc) from exc
                    ssl = sys.modules.get("ssl")
                    if conn.lost is not None and ssl is not None and isinstance(conn.lost, ssl.SSLError):
                        raise SSLError(
                            f"TLS error while waiting for the response: {conn.lost}"
                        ) from conn.lost
                    if conn.lost is not None:
                        raise ConnectionError(
                            f"the connection broke while waiting for the response: {conn.lost}"
                        ) from conn.lost
                    raise
            try:
                await conn.wait(
                    budget(
                        options.timeout.read,
                        options.deadline,
                        ReadTimeout,
                        "waiting for the server's response",
                    )
                )
            except _TimedOut:
                raise ReadTimeout(
                    timeout_message("waiting for the server's response", options.timeout.read, options)
                ) from None


async def connect_tcp(
    host: str, port: int, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> socket.socket:
    """Resolve and connect a non-blocking socket, within the connect timeout."""
    start = time.monotonic()
    phase = options.timeout.connect
    deadline = options.deadline
    if phase is not None and (deadline is None or start + phase < deadline):
        deadline = start + phase
    infos = literal_address(host, port)
    if infos is None:
        try:
            infos = await _bounded(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), deadline)
        except socket.gaierror as exc:
            raise NameResolutionError(f"could not resolve host {host!r}: {exc.strerror}") from None
        except _TimedOut:
            raise ConnectTimeout(timeout_message(f"resolving {host}", phase, options)) from None
    resolved = time.monotonic()
    timings.dns = resolved - start
    last_error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await _bounded(loop.sock_connect(sock, address), deadline)
        except _TimedOut:
            sock.close()
            raise ConnectTimeout(timeout_message(f"connecting to {host}:{port}", phase, options)) from None
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        timings.connect = time.monotonic() - resolved
        return sock
    if isinstance(last_error, ConnectionRefusedError):
        raise ConnectionRefused(f"connection refused by {host}:{port} (nothing listens there)") from None
    raise ConnectionError(f"could not connect to {host}:{port}: {last_error}") from last_error


async def start_connection(
    sock: socket.socket,
    ssl_context: Any,
    host: str,
    options: SendOptions,
    timings: Timings,
    loop: asyncio.AbstractEventLoop,
) -> Connection:
    """Wrap a connected socket in a Connection protocol, running the TLS handshake when asked (see
    ``upgrade_if_h2`` for what follows when the server chose HTTP/2)."""
    start = time.monotonic()
    try:
        if ssl_context is None:
            _, conn = await loop.create_connection(lambda: Connection(loop), sock=sock)
        else:
            import ssl

            timeout = budget(
                options.timeout.connect, options.deadline, ConnectTimeout, f"the TLS handshake with {host}"
            )
            try:
                _, conn = await loop.create_connection(
                    lambda: Connection(loop),
                    sock=sock,
                    ssl=ssl_context,
                    server_hostname=host,
                    ssl_handshake_timeout=timeout,
                )
            except ssl.SSLError as exc:
                from brisk._transport.tls import describe_ssl_error

                raise SSLError(describe_ssl_error(exc, host)) from exc
            except (TimeoutError, ConnectionAbortedError):  # asyncio aborts a handshake that takes too long
                raise ConnectTimeout(
                    timeout_message(f"the TLS handshake with {host}", options.timeout.connect, options)
                ) from None
            except OSError as exc:  # reset, broken pipe, ...: as the sync transport does
                raise SSLError(f"the connection broke during the TLS handshake with {host!r}: {exc}") from exc
            timings.tls = time.monotonic() - start
    except BaseException:
        sock.close()
        raise
    return conn


def upgrade_if_h2(
    conn: Connection, options: SendOptions, loop: asyncio.AbstractEventLoop, cleartext: bool = False
) -> Connection | H2Conn:
    """Swap the protocol of a fresh connection for HTTP/2: over TLS when ALPN chose h2, over plain TCP when
    ``cleartext`` (HTTP/2 by prior knowledge)."""
    transport = conn.transport
    assert transport is not None
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is not None:
        if ssl_object.selected_alpn_protocol() != "h2":
            return conn
    elif not cleartext:
        return conn
    from brisk._transport.aio_h2 import H2Conn

    h2conn = H2Conn(loop, transport, options.limits)
    transport.set_protocol(h2conn)
    for data in conn.early:  # what the server sent before the swap (its SETTINGS, usually)
        h2conn.data_received(data)
    return h2conn


async def _bounded(awaitable: Any, deadline: float | None) -> Any:
    if deadline is None:
        return await awaitable
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        awaitable.close() if hasattr(awaitable, "close") else None
        raise _TimedOut
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the result when the awaitable finishes
    # just as the task is cancelled, and the cancellation is lost (a cancelled connect went on to a TLS
    # handshake and a ConnectTimeout seconds later). asyncio.timeout keeps the task's cancellation.
    try:
        async with asyncio.timeout(remaining):
            return await awaitable
    except TimeoutError:
        raise _TimedOut from None


class _AsyncBody(AsyncPulledBody):
    """The body of one HTTP/1.1 response; gives its connection back to the pool when done (or closes it)."""

    __slots__ = ("_conn", "_done", "_key", "_options", "_parser", "_timings", "_transport")

    def __init__(
        self,
        transport: AsyncioTransport,
        key: Hashable,
        conn: Connection,
        parser: ResponseParser,
        options: SendOptions,
        timings: Timings,
    ) -> None:
        self._transport = transport
        self._key = key
        self._conn = conn
        self._parser = parser
        self._options = options
        self._timings = timings
        self._done = False
        if parser.complete:  # the body is all in the parser: the connection is free already
            self._finish()

    def close(self) -> None:
        if not self._done:
            if self._parser.complete:
                self._finish()
            else:
                self._drop()

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
            await conn.wait(
                budget(options.timeout.read, options.deadline, ReadTimeout, "reading the response body")
            )
        except _TimedOut:
            raise ReadTimeout(
                timeout_message("reading the response body", options.timeout.read, options)
            ) from None

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._conn.served += 1
            self._timings.total = time.monotonic() - self._timings.start
            self._transport._finish(self._key, self._conn, self._parser.reusable)

    def _drop(self) -> None:
        if not self._done:
            self._done = True
            self._conn.close()
            self._transport._finish(self._key, self._conn, False)

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
