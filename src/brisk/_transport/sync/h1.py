"""HTTP/1.1 over a blocking socket: the connection, one request/response exchange, and the response body.

The exchange writes the request head (and body), then feeds what the socket returns to the sans-IO parser
(``brisk._protocol.http11``) until the head is complete. A body that came with the head is handed out
whole; a longer one is read as the response asks for it (``_SyncH1Body``).
"""

from __future__ import annotations

import errno
import io
import os
import socket
import struct
import sys
import time
from collections.abc import Callable, Hashable, Iterator

from brisk._core.streams import ByteStream
from brisk._protocol.accelerator import speedups
from brisk._protocol.http11 import LAST_CHUNK, ResponseHead, ResponseParser, chunk_header
from brisk._transport.base import StaleConnection
from brisk._transport.body import H1Body
from brisk._transport.deadline import READING_BODY, SENDING, WAITING_FOR_RESPONSE, Phase
from brisk._transport.errors import broken
from brisk._transport.exchange import h1_response
from brisk._transport.facts import of_socket
from brisk._transport.sync.busypoll import BusyPoll
from brisk._transport.wire import request_body
from brisk.exceptions import ConnectionError, IncompleteBody, RemoteProtocolError, RequestException
from brisk.models import Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from brisk._request.body import RequestBody
    from brisk._transport.base import SendOptions, Timings
    from brisk._transport.sync.transport import SyncTransport
    from brisk.models import PreparedRequest

__all__ = ["SyncH1Connection", "exchange"]

_RECV_HEAD = 65536
_RECV_BODY = 262144
_SMALL_BODY = 65536
_DIRECT_READ = 1024 * 1024  # Content-Length bodies at least this large are read in one piece (read_all)
_PIECE_BUFFER = 1024 * 1024  # socket reads of a Content-Length body taken in fixed-size pieces (_iter_direct)
# os.sendfile refusing the file itself (its file system cannot, or the kernel has no sendfile): read it.
_NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})
_CONTINUE_WAIT = 1.0  # longest wait for "100 Continue" before sending the body anyway
# The C accelerator's send-and-read of a request sent in one piece (see _exchange_in_c), or None.
_c_exchange: Callable[..., Any] | None = getattr(speedups, "exchange", None)
_fast_head: Callable[..., Any] | None = None if speedups is None else speedups.parse_head
_BEGUN = Response._begun  # (bound once: a classmethod read binds on every access)
_GOT_EOF, _SEND_FAILED, _RECV_FAILED = 1, 2, 3  # its outcomes besides data (0)
_POLLED_IN_VAIN = 2
_BODILESS_ANSWERS = frozenset({"HEAD", "CONNECT"})  # methods whose answer's framing C does not judge


class _SendError(Exception):
    """Sending failed with an OS error; the server may still have sent a response worth reading."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def _send_failed(exc: OSError, options: SendOptions) -> NoReturn:
    """Raise what a failed send of a request means: a write timeout; or ``_SendError`` (the server may have
    answered before it closed: the caller reads that answer)."""
    if isinstance(exc, TimeoutError | BlockingIOError):  # (EAGAIN: a kernel-timed call ran out)
        raise SENDING.timed_out(options) from None
    if isinstance(exc, RequestException):
        raise exc
    raise _SendError(exc) from exc


def _recv_failed(exc: OSError, options: SendOptions, phase: Phase) -> NoReturn:
    """Raise what a failed read means: the phase's timeout, or the connection broken (``broken``)."""
    if isinstance(exc, TimeoutError | BlockingIOError):  # (EAGAIN: a kernel-timed call ran out)
        raise phase.timed_out(options) from None
    raise broken(exc, phase.doing) from exc


class SyncH1Connection:
    """One socket to one origin, speaking HTTP/1.1."""

    __slots__ = (
        "_busy", "_in_c", "_kernel_timeouts", "_pending", "_poll", "_read_timeout", "_sends_whole",
        "_timeout", "_write_timeout", "closed", "http_version", "idle_since", "info", "multiplexed", "served",
        "sock",
    )  # fmt: skip

    def __init__(self, sock: socket.socket, connect_time: float = 0.0, busy_poll: float = 0.0) -> None:
        self.sock = sock
        self.info = of_socket(sock)  # the connection's facts, shared by its responses
        self.idle_since = 0.0
        self.multiplexed = False
        self.http_version = "HTTP/1.1"
        self.served = 0  # responses completed on this connection
        self.closed = False
        self._timeout: float | None = -1.0
        self._read_timeout: float | None = -1.0
        self._write_timeout: float | None = -1.0
        self._poll = BusyPoll.poll_for(sock)
        # Python implements a socket timeout with a poll() before every send and recv. On a plain TCP socket
        # the kernel can time each call itself (SO_RCVTIMEO/SO_SNDTIMEO on a blocking socket): the same
        # per-operation timeout, one system call fewer per read and per write. (Not for TLS: CPython's SSL
        # layer would wait forever when the kernel times out a read on a blocking socket.)
        self._kernel_timeouts = type(sock) is socket.socket
        if self._kernel_timeouts:
            sock.settimeout(None)
        # The C accelerator's exchange (``_exchange_in_c``) blocks in its system calls: only on a descriptor
        # that blocks (gevent and eventlet make theirs non-blocking and wait in their own loop instead).
        self._in_c = _c_exchange is not None and self._kernel_timeouts and os.get_blocking(sock.fileno())
        # Python's TLS socket writes all it is given in one send() (OpenSSL's partial writes are not enabled),
        # within one timeout. (Not imported here: a plain request loads no ssl.)
        ssl = sys.modules.get("ssl")
        self._sends_whole = ssl is not None and type(sock) is ssl.SSLSocket
        # Busy polling (see ``busy_poll``), with the policy HTTP/1.1 and WebSocket reads share.
        self._busy = BusyPoll(sock, self._poll, connect_time, busy_poll)
        self._pending = self._busy.pending

    def has_capacity(self) -> bool:
        return False

    # -- reads and writes, each within its time budget -------------------------------------------------

    def send(self, data: bytes, options: SendOptions) -> None:
        """Write all of ``data``; an OS error becomes ``_SendError`` (the server may have answered)."""
        if options.deadline is None:
            self._set_write_timeout(options.timeout.write)
        else:
            self._set_write_timeout(SENDING.budget(options))
        try:
            self.sock.sendall(data)
        except OSError as exc:
            _send_failed(exc, options)

    def send_file(self, descriptor: int, offset: int, count: int, options: SendOptions) -> int | None:
        """Write up to ``count`` bytes of the file ``descriptor`` from ``offset`` with ``os.sendfile`` (the
        kernel copies them; plain TCP sockets only: ``sends_files``), each call within the write timeout.
        Returns the bytes sent: fewer when the file ended early; None when the kernel cannot send this file
        (nothing was sent: the caller reads it instead)."""
        sent = 0
        while sent < count:
            self._set_write_timeout(
                options.timeout.write if options.deadline is None else SENDING.budget(options)
            )
            try:
                done = os.sendfile(self.sock.fileno(), descriptor, offset + sent, count - sent)
            except BlockingIOError:  # the kernel's write timeout ran out (EAGAIN) with nothing sent
                raise SENDING.timed_out(options) from None
            except RequestException:
                raise
            except OSError as exc:
                if not sent and exc.errno in _NO_SENDFILE:
                    return None
                raise _SendError(exc) from exc
            if not done:
                break
            sent += done
        return sent

    @property
    def sends_files(self) -> bool:
        return self._kernel_timeouts

    def recv(self, size: int, options: SendOptions, phase: Phase = WAITING_FOR_RESPONSE) -> bytes:
        """Read up to ``size`` bytes (b"" at EOF) within the read timeout."""
        self._budget_read(options, phase)
        try:
            return self.sock.recv(size)
        except OSError as exc:
            _recv_failed(exc, options, phase)

    def recv_failed(self, error: int, options: SendOptions, phase: Phase = WAITING_FOR_RESPONSE) -> NoReturn:
        """Raise what ``recv`` raises for the OS error ``error`` (a read done in C: ``_exchange_in_c``)."""
        _recv_failed(OSError(error, os.strerror(error)), options, phase)  # (the subclass sock.recv raises)

    def recv_into(self, buffer: Any, size: int, options: SendOptions) -> int:
        """``recv`` into ``buffer`` (the direct reads of large bodies)."""
        self._budget_read(options, READING_BODY)
        try:
            got: int = self.sock.recv_into(buffer, size)
        except (TimeoutError, BlockingIOError):
            raise READING_BODY.timed_out(options) from None
        except OSError as exc:
            raise broken(exc, READING_BODY.doing) from exc
        return got

    def _budget_read(self, options: SendOptions, phase: Phase) -> None:
        if options.deadline is None:
            self._set_read_timeout(options.timeout.read)
        else:
            self._set_read_timeout(phase.budget(options))

    def _set_read_timeout(self, timeout: float | None) -> None:
        if timeout != self._read_timeout:
            self._read_timeout = timeout
            self._apply(timeout, socket.SO_RCVTIMEO)

    def _set_write_timeout(self, timeout: float | None) -> None:
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
            # One timeout serves both directions here: the other one is now this one too.
            self._timeout = self._read_timeout = self._write_timeout = timeout

    # -- waiting -----------------------------------------------------------------------------------------

    def busy_poll(self, seconds: float) -> None:
        """Before a read that may sleep: poll the socket for up to ``seconds`` (``Limits.busy_poll``), where
        the shared policy says it pays (``brisk._transport.sync.busypoll``)."""
        self._busy.before_read(seconds)

    def readable_within(self, seconds: float) -> bool:
        """Does the socket have something to read within ``seconds``?"""
        return bool(self._poll.poll(seconds * 1000))

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


# -- one request/response exchange -------------------------------------------------------------------------


def exchange(
    transport: SyncTransport,
    key: Hashable,
    conn: SyncH1Connection,
    request: PreparedRequest,
    head: bytes,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Send ``request`` (its serialised ``head`` and its body) on ``conn``; return the response once its
    head has arrived."""
    method = request.method
    if method is None:  # (method_of, without a call)
        method = "GET"
    body = request.body
    if type(body) is bytes:  # (request_body's answer, without a call: most bodies are none or bytes)
        body = body or None
    elif body is not None:
        body = request_body(request)
    if _fast_head is not None and options.deadline is None and method not in _BODILESS_ANSWERS:
        # The request goes out in one piece, as below: the head, with a small body appended.
        in_one_read = _exchange_in_c if conn._in_c else _exchange_in_python
        if body is None:
            response = in_one_read(transport, key, conn, request, method, head, options, timings)
        elif (
            isinstance(body, bytes) and len(body) <= _SMALL_BODY
            and ("expect" not in request.headers._store or not _expects_continue(request))
        ):  # fmt: skip
            response = in_one_read(transport, key, conn, request, method, head + body, options, timings)
        else:
            response = None
        if response is not None:
            return response
    reused = timings.reused
    parser = ResponseParser(method, options.limits)
    must_close = False
    try:
        if body is None:
            conn.send(head, options)
        elif _expects_continue(request):
            conn.send(head, options)
            if _continue_awaited(conn, parser, options):
                _send_body(conn, body, options)
            else:
                must_close = True  # the server answered before the body: it is not on the wire
        elif isinstance(body, bytes) and len(body) <= _SMALL_BODY:
            conn.send(head + body, options)
        else:
            conn.send(head, options)
            _send_body(conn, body, options)
    except _SendError as exc:
        must_close = True
        _answer_to_failed_send(conn, parser, options, reused, exc.error)
    timings.request_sent = time.monotonic() - timings.start
    _read_head(conn, parser, options, reused, None)
    timings.first_byte = timings.first_byte or time.monotonic() - timings.start
    return h1_response(_SyncH1Body, transport, key, conn, parser, request, options, timings, must_close)


def _expects_continue(request: PreparedRequest) -> bool:
    return request.headers.get("Expect", "").lower() == "100-continue"


def _answer_to_failed_send(
    conn: SyncH1Connection, parser: ResponseParser, options: SendOptions, reused: bool, error: OSError
) -> None:
    """Sending failed with ``error``. The server may have answered early (413, 401, ...) and closed: read
    its answer, which the caller prefers to the error. On a reused connection that has answered nothing,
    the server most likely closed it while idle: a StaleConnection, to be sent again on a new one."""
    if reused and parser.head is None and not parser.informational:
        raise StaleConnection(
            ConnectionError(f"the connection was closed by the server while sending the request: {error}")
        ) from None
    _read_head(conn, parser, options, reused, error)


def _exchange_in_c(
    transport: SyncTransport,
    key: Hashable,
    conn: SyncH1Connection,
    request: PreparedRequest,
    method: str,
    data: bytes,
    options: SendOptions,
    timings: Timings,
) -> Response | None:
    """``exchange`` of a request that goes out in one piece (``data``: the head, and a small body if any)
    on a blocking socket whose kernel times each call, its system calls made by the C accelerator: the
    request sent, busy polling, and the first read, in one call that skips a dozen Python calls. A
    response whose head and whole Content-Length body came in that read (the common small answer) is
    built here at once; anything else (an error, a longer or unusual response) goes on in the Python
    reader from where C stopped, so the results and errors are the same. None, before anything is sent,
    when the accelerator declines (Limits that are not ints)."""
    fd = conn.sock.fileno()
    if fd < 0:
        return None  # closed under us: the Python path raises what a closed socket does
    limits = options.limits
    _, read, write, _, _ = options.timeout._phases  # (the properties cost a call each, on every request)
    if write != conn._write_timeout:
        conn._set_write_timeout(write)
    if read != conn._read_timeout:
        conn._set_read_timeout(read)
    busy_poll = limits.busy_poll
    if read is not None and read < busy_poll:  # polling never outlasts a read timeout shorter than itself
        busy_poll = read
    busy = conn._busy
    skip = busy.skip
    assert _c_exchange is not None  # (exchange calls this only then)
    done = _c_exchange(
        fd,
        data,
        _RECV_HEAD,
        busy.allowed(busy_poll) if busy_poll else 0.0,  # (polling off: no call)
        limits.max_head_size,
        limits.max_header_line,
        limits.max_header_count,
        # made while the server answers (after the send, before the wait): the Response as far as it is
        # known without its head
        _BEGUN,
        request,
        timings,
        conn.info,
    )
    if done is None:
        busy.skip = skip  # nothing was done: the Python path asks the policy about this read itself
        return None
    outcome, error, sent_at, polled, received, found, begun = done
    if polled:
        busy.polled(polled == _POLLED_IN_VAIN)
    timings.request_sent = sent_at - timings.start
    if not outcome:
        return _answered(transport, key, conn, request, method, received, found, begun, options, timings)
    reused = timings.reused
    parser = ResponseParser(method, limits)
    must_close = False
    if outcome == _SEND_FAILED:
        failure = OSError(error, os.strerror(error))  # the subclass sock.sendall raises
        if isinstance(failure, TimeoutError | BlockingIOError):  # as send: EAGAIN is the write timeout
            raise SENDING.timed_out(options) from None
        must_close = True
        _answer_to_failed_send(conn, parser, options, reused, failure)
        timings.request_sent = time.monotonic() - timings.start  # as the Python path: after that answer
    else:  # the read failed or met EOF: nothing was read
        _read_head(conn, parser, options, reused, None, False, (outcome, error))
    timings.first_byte = time.monotonic() - timings.start
    return h1_response(_SyncH1Body, transport, key, conn, parser, request, options, timings, must_close)


def _exchange_in_python(
    transport: SyncTransport,
    key: Hashable,
    conn: SyncH1Connection,
    request: PreparedRequest,
    method: str,
    data: bytes,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """``_exchange_in_c`` where C cannot make the system calls (TLS, whose layer is the ssl module's; a
    socket that does its own waiting), with the socket calls of the connection's ``send`` and ``recv``:
    ``data`` sent in one piece, the Response begun while the server answers, busy polling, one read, and a
    response that came whole in it built at once from what the accelerator's ``parse_head`` read there.
    EOF, a failed send and anything ``_answered`` does not build at once go on as in ``exchange``, with the
    same errors."""
    reused = timings.reused
    _, read, write, _, _ = options.timeout._phases  # (as _exchange_in_c: send and recv without their calls)
    if write != conn._write_timeout:
        conn._set_write_timeout(write)
    sock = conn.sock
    try:
        if conn._sends_whole:  # (one call: sendall's loop over memoryviews costs a few more)
            sent = sock.send(data)
            if sent < len(data):
                sock.sendall(memoryview(data)[sent:])
        else:
            sock.sendall(data)
    except OSError as exc:  # what send makes of it: a timeout, or the failed send's answer (or stale)
        try:
            _send_failed(exc, options)
        except _SendError as failed:
            parser = ResponseParser(method, options.limits)
            _answer_to_failed_send(conn, parser, options, reused, failed.error)
            timings.request_sent = timings.first_byte = time.monotonic() - timings.start
            return h1_response(_SyncH1Body, transport, key, conn, parser, request, options, timings, True)
    timings.request_sent = time.monotonic() - timings.start
    begun = _BEGUN(request, timings, conn.info)  # (while the server answers, as the C exchange does)
    limits = options.limits
    busy_poll = limits.busy_poll
    if busy_poll:
        conn._busy.before_read(busy_poll if read is None or read >= busy_poll else read)
    if read != conn._read_timeout:
        conn._set_read_timeout(read)
    try:
        received = sock.recv(_RECV_HEAD)
    except OSError as exc:  # what recv makes of it, as _read_head's first read
        try:
            _recv_failed(exc, options, WAITING_FOR_RESPONSE)
        except (RemoteProtocolError, ConnectionError) as error:
            if reused:
                raise StaleConnection(error) from error
            raise
    if not received:
        parser = ResponseParser(method, limits)
        _read_head(conn, parser, options, reused, None, False, (_GOT_EOF, 0))
        timings.first_byte = time.monotonic() - timings.start
        return h1_response(_SyncH1Body, transport, key, conn, parser, request, options, timings, False)
    assert _fast_head is not None  # (exchange calls this only then)
    found = _fast_head(received, limits.max_head_size, limits.max_header_line, limits.max_header_count)
    return _answered(transport, key, conn, request, method, received, found, begun, options, timings)


def _answered(
    transport: SyncTransport,
    key: Hashable,
    conn: SyncH1Connection,
    request: PreparedRequest,
    method: str,
    received: bytes,
    found: Any,
    begun: Response,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """The response to the bytes of the first read of an answer, ``received``, where ``found`` is what
    ``parse_head`` read in them (None: no plain head). A plain head with its whole Content-Length body and
    nothing after it (the common small answer) completes ``begun`` at once, without a parser, and the
    connection goes back to the pool now; anything else goes to the Python reader, from those bytes on."""
    if found is not None:
        end, status, reason, block, length, close, missing = found
        if length >= 0 and len(received) - end == length and status not in (204, 304):
            now = time.monotonic()
            timings.first_byte = timings.total = now - timings.start
            conn.served += 1
            transport._finish(key, conn, not close, now)
            response_head = ResponseHead(status, reason, "HTTP/1.1", block, not close, missing)
            return begun._from_head(
                status, reason, "HTTP/1.1", response_head, ByteStream(received[end:]), missing
            )
    parser = ResponseParser(method, options.limits)
    parser.feed(received)
    _read_head(conn, parser, options, timings.reused, None, True)
    timings.first_byte = time.monotonic() - timings.start
    return h1_response(_SyncH1Body, transport, key, conn, parser, request, options, timings, False)


def _send_body(conn: SyncH1Connection, body: bytes | RequestBody, options: SendOptions) -> None:
    if isinstance(body, bytes):
        conn.send(body, options)
        return
    length = body.content_length
    if length is not None and length > _SMALL_BODY and conn.sends_files:
        span = body.file_range()  # a file opened with "rb": the kernel copies it, no read into Python
        if span is not None:
            sent = conn.send_file(*span, options)
            if sent is not None:
                body.range_sent(sent)
                return
            body.rewind()  # the kernel cannot send this file: it is read below, from where it starts
    chunked = length is None
    for chunk in body:
        if not chunk:
            continue
        if chunked:
            conn.send(chunk_header(len(chunk)) + chunk + b"\r\n", options)
        else:
            conn.send(chunk, options)
    if chunked:
        conn.send(LAST_CHUNK, options)


def _continue_awaited(conn: SyncH1Connection, parser: ResponseParser, options: SendOptions) -> bool:
    """After sending a head with ``Expect: 100-continue``: True to send the body now."""
    read = options.timeout.read
    if not conn.readable_within(_CONTINUE_WAIT if read is None else min(_CONTINUE_WAIT, read)):
        return True  # no answer in time: send the body anyway (RFC 9110 section 10.1.1)
    while parser.head is None:
        data = conn.recv(_RECV_HEAD, options)
        if not data:
            parser.feed_eof()
        parser.feed(data)
        if parser.informational:
            return True
    return False


def _read_head(
    conn: SyncH1Connection,
    parser: ResponseParser,
    options: SendOptions,
    reused: bool,
    send_error: BaseException | None,
    got_bytes: bool = False,
    failed_read: tuple[int, int] | None = None,
) -> None:
    """Read until ``parser`` has the response head. ``got_bytes``: bytes of the response were read already;
    ``failed_read``: the outcome and OS error of the read C made last (``_exchange_in_c``), to be handled
    as if it were this function's own first read."""
    busy_poll = options.limits.busy_poll
    if options.timeout.read is not None:  # polling never outlasts a read timeout shorter than itself
        busy_poll = min(busy_poll, options.timeout.read)
    while parser.head is None:
        try:
            if failed_read is None:
                # Only the wait for the answer is busy-polled: there the server's reply time is what the
                # caller waits for. Inside a long body the socket's buffer does the waiting, and polling
                # would spin.
                conn.busy_poll(busy_poll)
                data = conn.recv(_RECV_HEAD, options)
            else:
                outcome, error = failed_read
                failed_read = None
                if outcome == _RECV_FAILED:
                    conn.recv_failed(error, options)
                data = b""  # _GOT_EOF
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


# -- the body ----------------------------------------------------------------------------------------------


class _DirectReader(io.RawIOBase):
    """The raw side of the direct reads of a Content-Length body: the body bytes already parsed, then at
    most ``left`` bytes from the socket (never past the body's end, whatever the buffering above asks)."""

    def __init__(self, body: _SyncH1Body, prefix: bytes, left: int) -> None:
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
        try:
            got = body._conn.recv_into(buffer, min(len(buffer), self._left), body._options)
        except ConnectionError as exc:
            raise _cut_off(exc) from exc
        self._left -= got
        return got


def _cut_off(exc: ConnectionError) -> IncompleteBody:
    """A reset mid-body is a broken-off body, as in the async transport and in requests."""
    return IncompleteBody(f"the connection broke in the middle of the response body: {exc.__cause__}")


class _SyncH1Body(H1Body[SyncH1Connection]):
    """The body of one response, read from its connection; gives the connection back when done."""

    __slots__ = ("__weakref__", "piece_size", "read_size")

    _transport: SyncTransport

    def __init__(
        self,
        transport: SyncTransport,
        key: Hashable,
        conn: SyncH1Connection,
        parser: ResponseParser,
        options: SendOptions,
        timings: Timings,
    ) -> None:
        super().__init__(transport, key, conn, parser, options, timings)
        self.read_size = _RECV_BODY  # the reader's chunk size, when it has one: reading it saves re-slicing
        # Set when the reader takes the body in pieces of exactly this size (iter_content(65536)): a
        # Content-Length body is then read in large reads and cut into such pieces (_iter_direct).
        self.piece_size: int | None = None

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
        remaining = self._parser.body_remaining
        if remaining is not None and remaining >= _DIRECT_READ and not self._done:
            return self._read_direct(remaining)
        parser = self._parser
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
        64 KiB at a time took twice the CPU time of 1 MiB reads here, and cutting exact pieces from the
        buffer spares the re-slicing of whatever recv() happened to return."""
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
        if self._conn.readable_within(0) or (self._conn._pending is not None and self._conn._pending()):
            self._parser.leftover = True  # bytes after the body were not read: never reuse this connection

    def _fill(self) -> None:
        parser = self._parser
        remaining = parser.body_remaining
        size = self.read_size if remaining is None else min(remaining, self.read_size)
        try:
            data = self._conn.recv(size, self._options, READING_BODY)
        except ConnectionError as exc:
            raise _cut_off(exc) from exc
        if data:
            parser.feed(data)
        else:
            parser.feed_eof()

    def __del__(self) -> None:
        if not self._done:
            self._done = True
            self._transport.orphan(self._key, self._conn)
