"""The sync transport: blocking sockets, a thread-safe pool, HTTP/1.1 through the sans-IO protocol.

Threads share one ``SyncTransport``. The pool's decisions are made by ``PoolState`` under a lock; connecting,
TLS handshakes, liveness checks and closing happen outside it.
"""

from __future__ import annotations

import io
import os
import select
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._core.log import debug_logger
from brisk._protocol.http11 import LAST_CHUNK, ResponseParser, chunk_header, encode_request_head
from brisk._transport import _connect
from brisk._transport._common import (
    add_url_context,
    budget,
    cleartext_h2,
    may_multiplex,
    method_of,
    origin_of,
    request_body,
    request_line_and_headers,
    timeout_message,
)
from brisk._transport.base import ByteStream, SendOptions, StaleConnection, Timings
from brisk._transport.pool import PoolState
from brisk.exceptions import (
    ConnectionError,
    IncompleteBody,
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
    from brisk._transport.sync_h2 import SyncH2Connection
    from brisk.models import PreparedRequest

__all__ = ["SyncTransport"]

_RECV_HEAD = 65536
_RECV_BODY = 262144
_SMALL_BODY = 65536
_DIRECT_READ = 1024 * 1024  # Content-Length bodies at least this large are read in one piece (read_all)
_PIECE_BUFFER = 1024 * 1024  # socket reads of a Content-Length body taken in fixed-size pieces (_iter_direct)
_CONTINUE_WAIT = 1.0  # longest wait for "100 Continue" before sending the body anyway
_NEAR_ROUND_TRIPS = 10  # busy polling is for servers whose TCP handshake took at most this many budgets
# Busy polling needs a second CPU: on one, the server (if local) could not run while this process polls.
_MANY_CPUS = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) > 1


def _broken(exc: OSError, doing: str) -> ConnectionError:
    """A failed read or write as a brisk exception: a TLS alert (a rejected client certificate, say) is an
    SSLError, anything else a ConnectionError."""
    ssl = sys.modules.get("ssl")
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return SSLError(f"TLS error while {doing}: {exc.reason or exc}")
    return ConnectionError(f"the connection broke while {doing}: {exc}")


def _still_usable(conn: SyncConnection | SyncH2Connection) -> bool:
    """After a failed exchange: an HTTP/2 connection outlives one failed stream; HTTP/1.1 never does."""
    return conn.multiplexed and conn.looks_alive()


class _SendError(Exception):
    """Sending failed with an OS error; the server may still have sent a response worth reading."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class SyncConnection:
    """One socket to one origin, speaking HTTP/1.1."""

    __slots__ = (
        "_busy_poll_backoff", "_busy_poll_skip", "_kernel_timeouts", "_pending", "_poll", "_read_timeout",
        "_timeout", "_write_timeout", "closed", "http_version", "idle_since", "multiplexed", "served", "sock",
    )  # fmt: skip

    def __init__(self, sock: socket.socket, connect_time: float = 0.0, busy_poll: float = 0.0) -> None:
        self.sock = sock
        self.idle_since = 0.0
        self.multiplexed = False
        self.http_version = "HTTP/1.1"
        self.served = 0  # responses completed on this connection
        self.closed = False
        self._timeout: float | None = -1.0
        self._read_timeout: float | None = -1.0
        self._write_timeout: float | None = -1.0
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        # Python implements a socket timeout with a poll() before every send and recv. On a plain TCP socket
        # the kernel can time each call itself (SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket): the same
        # per-operation timeout, one system call fewer per read and per write. (Not for TLS: CPython's SSL
        # layer would wait forever when the kernel times out a read on a blocking socket.)
        self._kernel_timeouts = type(sock) is socket.socket
        if self._kernel_timeouts:
            sock.settimeout(None)
        # Busy polling (see ``busy_poll``) needs to know whether a read would sleep: on a plain socket
        # poll() tells; over TLS, bytes already received and buffered (``pending``) count too. A socket
        # type that cannot say is never busy-polled, and neither is a far server: its answers take at least
        # the round trip the TCP handshake took. (Ten times the budget, because the handshake as measured
        # also holds this process's own work: 50 us on loopback here, 150 us for a process's first.)
        self._pending = getattr(sock, "pending", None)
        pollable = self._kernel_timeouts or self._pending is not None
        near = connect_time <= _NEAR_ROUND_TRIPS * busy_poll
        self._busy_poll_skip = 0 if pollable and near and _MANY_CPUS else -1
        self._busy_poll_backoff = 0

    def has_capacity(self) -> bool:
        return False

    def set_timeout(self, timeout: float | None) -> None:
        """The timeout of both reads and writes (used where both happen, e.g. a handshake)."""
        self.set_read_timeout(timeout)
        self.set_write_timeout(timeout)

    def set_read_timeout(self, timeout: float | None) -> None:
        if timeout != self._read_timeout:
            self._read_timeout = timeout
            self._apply(timeout, socket.SO_RCVTIMEO)

    def set_write_timeout(self, timeout: float | None) -> None:
        if timeout != self._write_timeout:
            self._write_timeout = timeout
            self._apply(timeout, socket.SO_SNDTIMEO)

    def _apply(self, timeout: float | None, option: int) -> None:
        if self._kernel_timeouts:
            seconds = 0.0 if timeout is None else max(timeout, 1e-6)  # a zero timeval means "forever"
            whole = int(seconds)
            self.sock.setsockopt(
                socket.SOL_SOCKET, option, struct.pack("ll", whole, int((seconds - whole) * 1e6))
            )
        elif timeout != self._timeout:
            self.sock.settimeout(timeout)
            self._timeout = timeout

    def busy_poll(self, seconds: float) -> None:
        """Before a read that may sleep: poll the socket for up to ``seconds`` (``Limits.busy_poll``).

        A core that sleeps in the kernel takes tens of microseconds to wake on a virtual machine, longer
        than a server on loopback takes to answer; polling keeps the core awake and the reply is read
        at once. The cost is bounded: only in a single-threaded process (a polling thread would take a
        core and compete for the GIL with the others' work), and a server that answers later than
        ``seconds`` makes this connection skip polling for its next 1, 2, 4 ... 64 responses.
        """
        skip = self._busy_poll_skip
        if skip:  # waiting out a backoff, or -1: never
            if skip > 0:
                self._busy_poll_skip = skip - 1
            return
        if not seconds or threading.active_count() > 1:
            return
        poll = self._poll.poll
        if poll(0) or (self._pending is not None and self._pending()):
            return
        give_up = time.monotonic() + seconds
        while not poll(0):
            if time.monotonic() >= give_up:
                self._busy_poll_backoff = backoff = min(2 * self._busy_poll_backoff or 1, 64)
                self._busy_poll_skip = backoff
                return
        self._busy_poll_backoff = 0

    def looks_alive(self) -> bool:
        """An idle connection must have nothing to read: data or EOF means the server closed it or broke
        the protocol, so it must not carry the next request.

        Sent there, the request would get the bytes already waiting as its answer (a stray response, a
        duplicate: another request's answer), or go to a server that has closed the connection. One poll()
        sees bytes and EOF in the kernel; over TLS, ``pending`` counts bytes the TLS layer has already taken
        from the socket (the rest of a record whose first part ended the body, say).

        Stray bytes that arrive after this check cannot be told from the answer to the request sent next:
        HTTP/1.1 responses carry nothing that ties them to their request. No check can close that window.
        """
        if self._poll.poll(0):
            return False
        pending = self._pending
        return not (pending is not None and pending())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


class SyncTransport:
    """A pool of HTTP/1.1 connections shared by threads."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._state: PoolState[SyncConnection | SyncH2Connection] = PoolState(limits)
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._orphans: deque[tuple[Hashable, SyncConnection]] = deque()  # from abandoned responses (GC)
        self._closed = False
        self._waiting = 0  # threads waiting in _acquire for a free connection (guarded by the lock)

    # -- the one public method ----------------------------------------------------------------------

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        url = request._url
        assert url is not None
        key = (url.scheme, url.host, url.effective_port, options.config)
        timings = Timings(time.monotonic())
        try:
            # Serialising validates the request (no CR/LF/NUL anywhere): fail before any connection is made.
            target, headers = request_line_and_headers(request, url, options)
            head = encode_request_head(method_of(request), target, headers)
            conn = self._acquire(key, url, options, timings)
        except RequestException as exc:
            add_url_context(exc, url, request)
            raise
        try:
            if isinstance(conn, SyncConnection):
                return self._exchange(key, conn, request, head, options, timings)
            from brisk._transport import sync_h2

            return sync_h2.exchange(self, key, conn, request, request_body(request), url, options, timings)
        except StaleConnection:
            self._finish(key, conn, _still_usable(conn))
            raise
        except RequestException as exc:
            self._finish(key, conn, _still_usable(conn))
            add_url_context(exc, url, request)
            raise
        except BaseException:
            self._finish(key, conn, _still_usable(conn))
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = self._state.drain()
            self._freed.notify_all()
        for conn in conns:
            conn.close()

    # -- pool ---------------------------------------------------------------------------------------

    def _acquire(
        self, key: Hashable, url: URL, options: SendOptions, timings: Timings
    ) -> SyncConnection | SyncH2Connection:
        give_up: float | None = None
        multiplex = may_multiplex(options.config, url)
        while True:
            now = time.monotonic()
            with self._lock:
                if self._closed:
                    raise RuntimeError("this session is closed; create a new one to send requests")
                if self._orphans:
                    self._collect_orphans()
                conn, may_open, to_close = self._state.acquire(key, now, multiplex)
                if conn is None and not may_open:
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
                            f"no connection to {url.host_header} became free in the pool "
                            f"within {options.timeout.pool}s (Limits.max_connections*)"
                        )
                    self._waiting += 1
                    try:
                        self._freed.wait(remaining)
                    finally:
                        self._waiting -= 1
                    continue
            for old in to_close:
                old.close()
            if conn is not None:
                # Checked before every reuse, however recently the connection was released: the server
                # may have closed it, or sent bytes after its response, a moment after the response was
                # read (see SyncConnection.looks_alive).
                if conn.looks_alive():
                    timings.reused = True
                    return conn
                conn.close()
                self._give_back(key, conn)
                continue
            try:
                conn = self._open(url, options, timings)
            except BaseException:
                self._give_back(key, None)
                raise
            with self._lock:
                self._state.opened(key, conn)
                if self._waiting:
                    self._freed.notify_all()
            return conn

    def _open(self, url: URL, options: SendOptions, timings: Timings) -> SyncConnection | SyncH2Connection:
        sock = _connect.open_socket(url, options, timings)
        alpn = getattr(sock, "selected_alpn_protocol", None)
        if (alpn() == "h2") if alpn is not None else cleartext_h2(options.config, url):
            from brisk._transport.sync_h2 import SyncH2Connection

            try:
                h2conn = SyncH2Connection(sock, options.limits)
            except OSError as exc:  # writing the preface; with TLS 1.3 a refused client cert shows here
                sock.close()
                raise _broken(exc, "starting HTTP/2") from exc
            h2conn.ready(options)
            return h2conn
        log = debug_logger()
        if log is not None:
            log.debug(
                "connection opened to %s (dns %.1f ms, connect %.1f ms, tls %.1f ms%s)",
                url.host_header,
                timings.dns * 1000,
                timings.connect * 1000,
                timings.tls * 1000,
                f", via {options.config.proxy.rsplit('@', 1)[-1]}" if options.config.proxy else "",
            )
        return SyncConnection(sock, timings.connect, options.limits.busy_poll)

    def _give_back(self, key: Hashable, conn: SyncConnection | SyncH2Connection | None) -> None:
        with self._lock:
            if not self._closed:
                self._state.discard(key, conn)
            if self._waiting:
                self._freed.notify_all()

    def _finish(self, key: Hashable, conn: SyncConnection | SyncH2Connection, reusable: bool) -> None:
        """A response is done with ``conn``: keep it for the next request or close it."""
        if conn.closed:
            reusable = False
        with self._lock:
            must_close = True if self._closed else self._state.release(key, conn, reusable, time.monotonic())
            if self._waiting:  # notify_all costs a microsecond or two even with nobody waiting
                self._freed.notify_all()
        if must_close:
            conn.close()
            log = debug_logger()
            if log is not None:
                log.debug(
                    "connection to %s closed (%s)", origin_of(key), "reusable" if reusable else "not reusable"
                )

    def _collect_orphans(self) -> None:
        """Free the slots of responses that were garbage-collected unread (called under the lock)."""
        while self._orphans:
            key, conn = self._orphans.popleft()
            conn.close()
            self._state.discard(key, conn)

    def orphan(self, key: Hashable, conn: SyncConnection) -> None:
        # Called from __del__, possibly inside the pool's own locked section: so no locking here.
        self._orphans.append((key, conn))

    # -- one request/response exchange ---------------------------------------------------------------

    def _exchange(
        self,
        key: Hashable,
        conn: SyncConnection,
        request: PreparedRequest,
        head: bytes,
        options: SendOptions,
        timings: Timings,
    ) -> Response:
        url = request._url
        assert url is not None
        reused = timings.reused
        parser = ResponseParser(method_of(request), options.limits)
        body = request_body(request)
        must_close = False
        try:
            if body is not None and request.headers.get("Expect", "").lower() == "100-continue":
                self._write(conn, head, options)
                if self._await_continue(conn, parser, options):
                    self._write_body(conn, body, request, options)
                else:
                    must_close = True  # the server answered before the body: it is not on the wire
            else:
                self._write_request(conn, head, body, request, options)
        except _SendError as exc:
            # The server may have answered early (413, 401, ...) and closed: prefer its answer.
            if reused and parser.head is None and not parser.informational:
                raise StaleConnection(
                    ConnectionError(
                        f"the connection was closed by the server while sending the request: {exc.error}"
                    )
                ) from None
            must_close = True
            self._read_head(conn, parser, options, reused, exc.error)
        timings.request_sent = time.monotonic() - timings.start
        self._read_head(conn, parser, options, reused, None)
        timings.first_byte = timings.first_byte or time.monotonic() - timings.start
        head_ = parser.head
        assert head_ is not None
        if must_close:
            head_.keep_alive = False
        if parser.complete:
            # The whole body came with the head (small responses): give the connection back now.
            conn.served += 1
            timings.total = time.monotonic() - timings.start
            self._finish(key, conn, parser.reusable)
            stream: _SyncBody | ByteStream = ByteStream(parser.take_body())
        else:
            stream = _SyncBody(self, key, conn, parser, options, timings)
        return Response._from_transport(
            head_.status_code, head_.reason, head_.http_version, head_, stream, request, timings
        )

    def _write_request(
        self,
        conn: SyncConnection,
        head: bytes,
        body: bytes | RequestBody | None,
        request: PreparedRequest,
        options: SendOptions,
    ) -> None:
        if body is None:
            self._write(conn, head, options)
        elif isinstance(body, bytes) and len(body) <= _SMALL_BODY:
            self._write(conn, head + body, options)
        else:
            self._write(conn, head, options)
            self._write_body(conn, body, request, options)

    def _write_body(
        self, conn: SyncConnection, body: bytes | RequestBody, request: PreparedRequest, options: SendOptions
    ) -> None:
        if isinstance(body, bytes):
            self._write(conn, body, options)
            return
        chunked = body.content_length is None
        for chunk in body:
            if not chunk:
                continue
            if chunked:
                self._write(conn, chunk_header(len(chunk)) + chunk + b"\r\n", options)
            else:
                self._write(conn, chunk, options)
        if chunked:
            self._write(conn, LAST_CHUNK, options)

    def _write(self, conn: SyncConnection, data: bytes, options: SendOptions) -> None:
        if options.deadline is None:
            conn.set_write_timeout(options.timeout.write)
        else:
            phase = options.timeout.write
            conn.set_write_timeout(budget(phase, options.deadline, WriteTimeout, "sending the request"))
        try:
            conn.sock.sendall(data)
        except (TimeoutError, BlockingIOError):  # BlockingIOError: a kernel-timed call ran out (EAGAIN)
            raise WriteTimeout(
                timeout_message("sending the request", options.timeout.write, options)
            ) from None
        except RequestException:
            raise
        except OSError as exc:
            raise _SendError(exc) from exc

    def _await_continue(self, conn: SyncConnection, parser: ResponseParser, options: SendOptions) -> bool:
        """After sending a head with ``Expect: 100-continue``: True to send the body now."""
        read = options.timeout.read
        wait = _CONTINUE_WAIT if read is None else min(_CONTINUE_WAIT, read)
        if not conn._poll.poll(wait * 1000):
            return True  # no answer in time: send the body anyway (RFC 9110 section 10.1.1)
        while parser.head is None:
            data = self._recv(conn, _RECV_HEAD, options)
            if not data:
                parser.feed_eof()
            parser.feed(data)
            if parser.informational:
                return True
        return False

    def _read_head(
        self,
        conn: SyncConnection,
        parser: ResponseParser,
        options: SendOptions,
        reused: bool,
        send_error: BaseException | None,
    ) -> None:
        got_bytes = False
        busy_poll = options.limits.busy_poll
        if options.timeout.read is not None:  # polling never outlasts a read timeout shorter than itself
            busy_poll = min(busy_poll, options.timeout.read)
        while parser.head is None:
            # Only the wait for the answer is busy-polled: there the server's reply time is what the caller
            # waits for. Inside a long body the socket's buffer does the waiting, and polling would spin.
            conn.busy_poll(busy_poll)
            try:
                data = self._recv(conn, _RECV_HEAD, options)
                if not data:
                    parser.feed_eof()
            except (RemoteProtocolError, ConnectionError) as exc:
                if send_error is not None:
                    raise ConnectionError(
                        f"the connection broke while sending the request: {send_error}"
                    ) from send_error
                if reused and not got_bytes:
                    raise StaleConnection(exc) from exc
                raise
            got_bytes = True
            parser.feed(data)

    def _recv(
        self,
        conn: SyncConnection,
        size: int,
        options: SendOptions,
        doing: str = "waiting for the server's response",
    ) -> bytes:
        if options.deadline is None:
            conn.set_read_timeout(options.timeout.read)
        else:
            phase = options.timeout.read
            conn.set_read_timeout(budget(phase, options.deadline, ReadTimeout, "reading the response"))
        try:
            return conn.sock.recv(size)
        except (TimeoutError, BlockingIOError):  # BlockingIOError: a kernel-timed call ran out (EAGAIN)
            raise ReadTimeout(timeout_message(doing, options.timeout.read, options)) from None
        except OSError as exc:
            raise _broken(exc, doing) from exc


class _DirectReader(io.RawIOBase):
    """The raw side of the direct reads of a Content-Length body: the body bytes already parsed, then at
    most ``left`` bytes from the socket (never past the body's end, whatever the buffering above asks)."""

    def __init__(self, body: _SyncBody, prefix: bytes, left: int) -> None:
        self._body = body
        self._prefix = memoryview(prefix)
        self._left = left

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        prefix = self._prefix
        if prefix:
            size = min(len(buffer), len(prefix))
            buffer[:size] = prefix[:size]
            self._prefix = prefix[size:]
            return size
        if self._left <= 0:
            return 0
        body = self._body
        options = body._options
        conn = body._conn
        if options.deadline is None:
            conn.set_read_timeout(options.timeout.read)
        else:
            conn.set_read_timeout(
                budget(options.timeout.read, options.deadline, ReadTimeout, "reading the response")
            )
        try:
            got: int = conn.sock.recv_into(buffer, min(len(buffer), self._left))
        except (TimeoutError, BlockingIOError):
            raise ReadTimeout(
                timeout_message("reading the response body", options.timeout.read, options)
            ) from None
        except OSError as exc:
            raise IncompleteBody(f"the connection broke in the middle of the response body: {exc}") from exc
        self._left -= got
        return got


class _SyncBody:
    """The body of one response, read from its connection; gives the connection back when done."""

    __slots__ = (
        "__weakref__", "_conn", "_done", "_key", "_options", "_parser", "_timings", "_transport",
        "piece_size", "read_size",
    )  # fmt: skip

    def __init__(
        self,
        transport: SyncTransport,
        key: Hashable,
        conn: SyncConnection,
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
        self.read_size = _RECV_BODY  # the reader's chunk size, when it has one: reading it saves re-slicing
        # Set when the reader takes the body in pieces of exactly this size (iter_content(65536)): a
        # Content-Length body is then read in large reads and cut into such pieces (_iter_direct).
        self.piece_size: int | None = None
        if parser.complete:
            self._finish()

    def __iter__(self) -> Iterator[bytes]:
        parser = self._parser
        if self.piece_size is not None and parser.body_remaining and not self._done:
            yield from self._iter_direct(self.piece_size)
            return
        try:
            data = parser.take_body()
            if data:
                yield data
            while not parser.complete:
                self._fill()
                data = parser.take_body()
                if data:
                    yield data
        except BaseException:
            self._abort()
            raise
        self._finish()

    def read_all(self) -> bytes:
        parser = self._parser
        remaining = parser.body_remaining
        if remaining is not None and remaining >= _DIRECT_READ and not self._done:
            return self._read_direct(remaining)
        chunks: list[bytes] = []
        try:
            data = parser.take_body()
            if data:
                chunks.append(data)
            while not parser.complete:
                self._fill()
                data = parser.take_body()
                if data:
                    chunks.append(data)
        except BaseException:
            self._abort()
            raise
        self._finish()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        if not self._done:
            if self._parser.complete:
                self._finish()
            else:
                self._abort()

    def _read_direct(self, remaining: int) -> bytes:
        """A large Content-Length body read straight into its final bytes object: io.BufferedReader.read(n)
        allocates the result once and has the raw reader fill it in place, so each byte is copied once
        (from the kernel), not received into pieces and joined."""
        parser = self._parser
        prefix = parser.take_body()
        try:
            reader = _DirectReader(self, prefix, remaining)
            data = io.BufferedReader(reader, buffer_size=65536).read(len(prefix) + remaining)
            if len(data) < len(prefix) + remaining:
                parser.feed_eof()  # raises IncompleteBody: fewer bytes than announced
            self._end_direct(remaining)
        except BaseException:
            self._abort()
            raise
        self._finish()
        return data

    def _iter_direct(self, size: int) -> Iterator[bytes]:
        """A Content-Length body in pieces of exactly ``size`` bytes (the last one shorter), cut from a
        buffer of up to 1 MiB that recv_into fills. Large reads are what makes this fast: receiving 100 MB
        64 KiB at a time took twice the CPU time of 1 MiB reads here (about 1,250 against 2,500 MB/s), and
        cutting exact pieces from the buffer spares the re-slicing of whatever recv() happened to return."""
        parser = self._parser
        remaining = parser.body_remaining
        assert remaining is not None
        prefix = parser.take_body()
        left = len(prefix) + remaining
        try:
            buffer_size = min(max(size, _PIECE_BUFFER), left)
            reader = io.BufferedReader(_DirectReader(self, prefix, remaining), buffer_size=buffer_size)
            while left:
                piece = reader.read(min(size, left))
                if not piece:
                    parser.feed_eof()  # raises IncompleteBody: fewer bytes than announced
                left -= len(piece)
                if not left:  # done before the last piece is handed out: a caller may stop right there
                    self._end_direct(remaining)
                    self._finish()
                yield piece
        except BaseException:
            self._abort()
            raise

    def _end_direct(self, remaining: int) -> None:
        """The ``remaining`` bytes of the body were read past the parser: account for them."""
        self._parser.consume_length(remaining)
        conn = self._conn
        if conn._poll.poll(0) or (conn._pending is not None and conn._pending()):
            self._parser.leftover = True  # bytes after the body were not read: never reuse this connection

    def _fill(self) -> None:
        parser = self._parser
        remaining = parser.body_remaining
        size = self.read_size if remaining is None else min(remaining, self.read_size)
        try:
            data = self._transport._recv(self._conn, size, self._options, "reading the response body")
        except ConnectionError as exc:
            # A reset mid-body is a broken-off body, as in the async transport and in requests.
            message = f"the connection broke in the middle of the response body: {exc.__cause__}"
            raise IncompleteBody(message) from exc
        if data:
            parser.feed(data)
        else:
            parser.feed_eof()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._conn.served += 1
            self._timings.total = time.monotonic() - self._timings.start
            self._transport._finish(self._key, self._conn, self._parser.reusable)

    def _abort(self) -> None:
        if not self._done:
            self._done = True
            self._conn.close()
            self._transport._finish(self._key, self._conn, False)

    def __del__(self) -> None:
        if not self._done:
            self._done = True
            self._transport.orphan(self._key, self._conn)
