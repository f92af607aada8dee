"""A scripted raw-socket server, for responses no well-behaved server would send.

A handler function runs once per accepted connection, in its own thread, and talks to the client through
:class:`RawConnection`::

    def handler(conn: RawConnection) -> None:
        conn.recv_request()
        conn.send(b"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nhalf")
        conn.reset()                                   # RST instead of the remaining 6 bytes

    def test_truncated_body(raw_server):
        server = raw_server(handler)
        ...  # the client requests server.url; server.requests and server.connection_count tell what happened

Every wait is bounded (``timeout``, 10 s by default); :meth:`RawServer.stop` wakes handlers blocked on the
client, joins every thread, and re-raises the first exception a handler raised that was not a plain network
error (so an ``assert`` inside a handler fails the test).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Protocol

import pytest

__all__ = [
    "NETWORK_ERRORS",
    "RawConnection",
    "RawRequest",
    "RawServer",
    "canned",
    "http_response",
    "raw_server",
]

Handler = Callable[["RawConnection"], object]

#: Exceptions a handler may meet because the client misbehaved or went away; recorded, never re-raised.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, ssl.SSLError, TimeoutError, EOFError)

MAX_HEAD = 64 * 1024


class ServerContextFactory(Protocol):
    def server_context(self) -> ssl.SSLContext: ...


@dataclass(frozen=True)
class RawRequest:
    """One HTTP/1.1 request as received: its parts, and the exact bytes (head and body as framed)."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header(self, name: str) -> str | None:
        """The first value of header *name*, any case, or None."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def header_values(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]


class RawConnection:
    """One accepted connection, as the handler sees it."""

    def __init__(self, sock: socket.socket, server: RawServer, index: int) -> None:
        self.sock = sock
        self.server = server
        #: 0 for the first connection the server accepted, 1 for the next, ...
        self.index = index
        self._buffer = b""
        self.closed = False
        sock.settimeout(server.timeout)

    # -- reading -------------------------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False at end of stream."""
        data = self.sock.recv(65536)
        if not data:
            return False
        self._buffer += data
        return True

    def recv(self, size: int = 65536) -> bytes:
        """Whatever bytes come next (buffered ones first), at most *size*; b"" at end of stream."""
        if not self._buffer and not self._fill():
            return b""
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def recv_exactly(self, size: int) -> bytes:
        """Exactly *size* bytes; EOFError if the stream ends first."""
        while len(self._buffer) < size:
            if not self._fill():
                raise EOFError(f"connection closed after {len(self._buffer)} of {size} bytes")
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def recv_until(self, marker: bytes, limit: int = MAX_HEAD) -> bytes:
        """The bytes up to and including *marker*; EOFError if the stream ends first."""
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit:
                raise ValueError(f"no {marker!r} within {limit} bytes")
            if not self._fill():
                raise EOFError("connection closed before " + repr(marker))
        end += len(marker)
        data, self._buffer = self._buffer[:end], self._buffer[end:]
        return data

    def recv_request(self) -> RawRequest | None:
        """Read one request (head, then a Content-Length or chunked body); None if the client closed first.

        The request is recorded in ``server.requests``.
        """
        if not self._buffer and not self._fill():
            return None
        head = self.recv_until(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = [*lines[0].split(" ", 2), "", ""][:3]
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        raw = head
        encoding = next((v for k, v in headers if k.lower() == "transfer-encoding"), "")
        length = next((v for k, v in headers if k.lower() == "content-length"), None)
        if "chunked" in encoding.lower():
            body, framed = self._recv_chunked()
            raw += framed
        elif length is not None:
            body = self.recv_exactly(int(length))
            raw += body
        else:
            body = b""
        request = RawRequest(method, target, version, headers, body, raw)
        self.server._record(request)
        return request

    def _recv_chunked(self) -> tuple[bytes, bytes]:
        body = bytearray()
        framed = bytearray()
        while True:
            line = self.recv_until(b"\r\n")
            framed += line
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            data = self.recv_exactly(size + 2)
            framed += data
            body += data[:-2]
        while (trailer := self.recv_until(b"\r\n")) != b"\r\n":
            framed += trailer
        framed += b"\r\n"
        return bytes(body), bytes(framed)

    def wait_closed(self, timeout: float | None = None) -> bytes:
        """Read until the client closes (EOF or reset) and return what arrived meanwhile."""
        received = bytearray(self._buffer)
        self._buffer = b""
        deadline = time.monotonic() + (self.server.timeout if timeout is None else timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the client did not close the connection")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            finally:
                with contextlib.suppress(OSError):
                    self.sock.settimeout(self.server.timeout)
            if not data:
                return bytes(received)
            received += data

    # -- writing and closing ----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send all of *data*."""
        self.sock.sendall(data)

    def sleep(self, seconds: float) -> None:
        """Pause; returns early when the server is being stopped."""
        self.server._stopping.wait(seconds)

    def close(self) -> None:
        """Close the connection the ordinary way: FIN after any unsent data (over TLS: no close_notify)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()

    def half_close(self) -> None:
        """Shut the write side: the client reads EOF while it can still send to us."""
        self.sock.shutdown(socket.SHUT_WR)

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER with a zero timeout, then close)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()


@dataclass
class _Accepted:
    conn: RawConnection | None
    sock: socket.socket
    thread: threading.Thread | None = None


class RawServer:
    """Accepts connections on ``host``:(free port) and runs *handler* for each, in a thread.

    :param handler: called with each :class:`RawConnection`; the connection is closed when it returns.
        None answers every request with ``200 OK`` and body ``ok`` until the client closes.
    :param tls: an SSL context (server side) or an object with ``server_context()``; the handshake
        happens in the connection's thread, and its failures land in :attr:`errors`.
    :param timeout: the bound on every blocking socket operation of a handler, in seconds.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        tls: ssl.SSLContext | ServerContextFactory | None = None,
        host: str = "127.0.0.1",
        timeout: float = 10.0,
    ) -> None:
        self.handler = handler or respond_ok
        if tls is not None and not isinstance(tls, ssl.SSLContext):
            tls = tls.server_context()
        self.ssl_context: ssl.SSLContext | None = tls
        self.host = host
        self.timeout = timeout
        self.port = 0
        #: Every request read with ``recv_request``, in order.
        self.requests: list[RawRequest] = []
        #: Exceptions raised in handlers or TLS handshakes, in order.
        self.errors: list[BaseException] = []
        self.connection_count = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._accepted: list[_Accepted] = []

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def start(self) -> RawServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind((self.host, 0))
            listener.listen(64)
            listener.settimeout(0.05)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"raw-{self.port}", daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, wake and join every handler, close everything; re-raise a handler's failure."""
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            accepted = list(self._accepted)
        for item in accepted:
            with contextlib.suppress(OSError):
                item.sock.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked on the client
        deadline = time.monotonic() + timeout
        for item in accepted:
            if item.thread is not None:
                item.thread.join(max(0.0, deadline - time.monotonic()))
            if item.conn is not None:
                item.conn.close()
            with contextlib.suppress(OSError):
                item.sock.close()
        stuck = [item.thread.name for item in accepted if item.thread is not None and item.thread.is_alive()]
        if stuck:
            raise RuntimeError(f"raw server handlers did not finish: {stuck}")
        failures = [error for error in self.errors if not isinstance(error, NETWORK_ERRORS)]
        if failures:
            raise RuntimeError(f"a raw server handler failed: {failures[0]!r}") from failures[0]

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: RawRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                index = self.connection_count
                self.connection_count += 1
                item = _Accepted(None, sock)
                self._accepted.append(item)
            item.thread = threading.Thread(
                target=self._serve, args=(item, index), name=f"raw-{self.port}-{index}", daemon=True
            )
            item.thread.start()

    def _serve(self, item: _Accepted, index: int) -> None:
        try:
            sock = item.sock
            if self.ssl_context is not None:
                sock.settimeout(self.timeout)
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
                item.sock = sock
            item.conn = RawConnection(sock, self, index)
            self.handler(item.conn)
        except BaseException as exc:
            if not (isinstance(exc, OSError) and exc.errno in (errno.EBADF, errno.ENOTCONN)):
                with self._lock:
                    self.errors.append(exc)
        finally:
            if item.conn is not None:
                item.conn.close()
            else:
                with contextlib.suppress(OSError):
                    item.sock.close()


# -- ready-made handlers -------------------------------------------------------------------------------------


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    *,
    reason: str = "",
    content_length: bool = True,
) -> bytes:
    """The bytes of a simple HTTP/1.1 response; adds Content-Length unless told not to."""
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if content_length and not any(name.lower() == "content-length" for name, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def respond_ok(conn: RawConnection) -> None:
    """Answer every request on the connection with ``200 OK`` / ``ok`` until the client closes."""
    while conn.recv_request() is not None:
        conn.send(http_response(200, b"ok", [("Content-Type", "text/plain")]))


def canned(*responses: bytes, then: str = "close") -> Handler:
    """A handler that answers the requests of one keep-alive connection with *responses*, in order.

    After the last one it closes the connection (``then="close"``), waits for the client to close
    (``"wait"``) or resets it (``"reset"``). Responses are sent verbatim: they may be malformed on purpose.
    """
    if then not in ("close", "wait", "reset"):
        raise ValueError(f"unknown 'then': {then!r}")

    def handler(conn: RawConnection) -> None:
        for response in responses:
            if conn.recv_request() is None:
                return
            conn.send(response)
        if then == "wait":
            conn.wait_closed()
        elif then == "reset":
            conn.reset()

    return handler


@dataclass
class RawServerFactory:
    """What the ``raw_server`` fixture yields: call it to start a :class:`RawServer`."""

    servers: list[RawServer] = field(default_factory=list)

    def __call__(
        self,
        handler: Handler | None = None,
        tls: ssl.SSLContext | ServerContextFactory | None = None,
        *,
        host: str = "127.0.0.1",
        timeout: float = 10.0,
    ) -> RawServer:
        server = RawServer(handler, tls=tls, host=host, timeout=timeout).start()
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        errors: list[BaseException] = []
        for server in self.servers:
            try:
                server.stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def raw_server() -> Iterator[RawServerFactory]:
    """A factory of :class:`RawServer`: ``srv = raw_server(handler, tls=None)``; all stop after the test."""
    factory = RawServerFactory()
    try:
        yield factory
    finally:
        factory.stop_all()
