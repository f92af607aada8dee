"""A scripted HTTP/2 server over a real TLS socket, for the frames a well-behaved server never sends.

Each accepted connection runs a script in its own thread. The script talks HTTP/2 through
:class:`PeerConnection`, which wraps an ``h2`` connection in server mode and also lets it write raw frames
that bypass ``h2``'s state (a GOAWAY that still lets lower streams finish, a CONTINUATION flood, a header
block with a zero-length name)::

    def first(conn: PeerConnection) -> None:
        request = conn.next_request()
        conn.send_head(request.stream_id, 200)
        conn.send_body(request.stream_id, b"half")
        conn.reset_stream(request.stream_id)          # RST_STREAM mid-body
        conn.serve()                                  # then answer normally until the client leaves

    def test_reset(h2peer):
        peer = h2peer(first)                          # later connections: conn.serve()
        ...  # peer.url; peer.connection_count; peer.connections[i].closed_by_client

Before the TLS handshake the ClientHello is peeked at, so :attr:`PeerConnection.offered_alpn` says which
protocols the client offered. A connection where ALPN did not pick ``h2`` is answered as HTTP/1.1
(``200 ok``) so a client that does not offer h2 still gets a response.

The peer advertises its own SETTINGS (``max_concurrent_streams``) while its ``h2`` state accepts any number
of streams: excess streams are refused by the peer itself with RST_STREAM(REFUSED_STREAM), and a stream
opened beyond a limit the client had already acknowledged is recorded in :attr:`PeerConnection.violations`.

Every wait is bounded (``timeout``); :meth:`H2Peer.stop` wakes the scripts, joins every thread and re-raises
the first exception a script raised that was not a network error.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.settings
import pytest
from hyperframe.frame import ContinuationFrame, Frame, GoAwayFrame, HeadersFrame, SettingsFrame

from servers.tls import CertBundle

__all__ = [
    "H2Peer",
    "H2PeerFactory",
    "PeerConnection",
    "PeerRequest",
    "client_hello_alpn",
    "echo",
    "h2peer",
]

Script = Callable[["PeerConnection"], object]
Answer = tuple[int, Sequence[tuple[str, str]], bytes]
Handler = Callable[["PeerRequest"], Answer]

NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, ssl.SSLError, EOFError)
UNLIMITED = 1 << 31
SettingCodes = h2.settings.SettingCodes


# -- the ClientHello -----------------------------------------------------------------------------------------


def client_hello_alpn(hello: bytes) -> tuple[str, ...] | None:
    """The ALPN protocols offered in a TLS record holding a ClientHello; () without the extension, None if
    *hello* is not a (complete) ClientHello."""
    try:
        if hello[0] != 22 or hello[5] != 1:  # handshake record, client_hello message
            return None
        end = 5 + struct.unpack("!H", hello[3:5])[0]
        if len(hello) < end:
            return None
        pos = 9 + 2 + 32  # record header, handshake header, legacy_version, random
        pos += 1 + hello[pos]  # session id
        pos += 2 + struct.unpack("!H", hello[pos : pos + 2])[0]  # cipher suites
        pos += 1 + hello[pos]  # compression methods
        extensions_end = pos + 2 + struct.unpack("!H", hello[pos : pos + 2])[0]
        pos += 2
        while pos + 4 <= extensions_end:
            kind, size = struct.unpack("!HH", hello[pos : pos + 4])
            pos += 4
            if kind == 16:  # application_layer_protocol_negotiation
                names: list[str] = []
                item, stop = pos + 2, pos + 2 + struct.unpack("!H", hello[pos : pos + 2])[0]
                while item < stop:
                    length = hello[item]
                    names.append(hello[item + 1 : item + 1 + length].decode("ascii"))
                    item += 1 + length
                return tuple(names)
            pos += size
        return ()
    except (IndexError, struct.error, UnicodeDecodeError):
        return None


def _peek_client_hello(sock: socket.socket, timeout: float) -> tuple[str, ...] | None:
    """Peek (without consuming) at the first TLS record and return the ALPN list it offers."""
    deadline = time.monotonic() + timeout
    wanted = 5
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(max(wanted, 16384), socket.MSG_PEEK)
        if not data:
            return None
        if len(data) >= 5:
            wanted = 5 + struct.unpack("!H", data[3:5])[0]
            if len(data) >= wanted:
                return client_hello_alpn(data[:wanted])
        time.sleep(0.005)
    return None


# -- requests and the default answer -------------------------------------------------------------------------


@dataclass
class PeerRequest:
    """One request as received on a stream (``complete`` once the client ended the stream)."""

    stream_id: int
    headers: list[tuple[str, str]]
    connection: int
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)

    @property
    def method(self) -> str:
        return self.header(":method") or ""

    @property
    def path(self) -> str:
        return self.header(":path") or ""


def echo(request: PeerRequest) -> Answer:
    """``200`` with a JSON description of the request (method, path, body, connection, stream)."""
    info = {
        "method": request.method,
        "path": request.path,
        "body": bytes(request.body).decode("latin-1"),
        "sha256": hashlib.sha256(request.body).hexdigest(),
        "connection": request.connection,
        "stream": request.stream_id,
        "headers": [[name, value] for name, value in request.headers if not name.startswith(":")],
    }
    return 200, [("content-type", "application/json")], json.dumps(info).encode()


# -- one connection ------------------------------------------------------------------------------------------


class PeerConnection:
    """One accepted connection, as a script sees it. ``h2`` is the server-side ``h2`` state."""

    def __init__(
        self, sock: ssl.SSLSocket, peer: H2Peer, index: int, offered: tuple[str, ...] | None
    ) -> None:
        self.sock = sock
        self.peer = peer
        self.index = index
        #: The ALPN protocols the client offered in its ClientHello (None if it could not be read).
        self.offered_alpn = offered
        self.selected_alpn = sock.selected_alpn_protocol()
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None, validate_inbound_headers=True)
        )
        # h2 itself accepts any number of streams; the peer enforces what it advertises (see _event).
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: UNLIMITED,
                SettingCodes.MAX_HEADER_LIST_SIZE: 1 << 20,
            },
        )
        self.streams: dict[int, PeerRequest] = {}
        self.pending: deque[PeerRequest] = deque()  # complete requests not yet taken by next_request()
        self.open: set[int] = set()  # streams the client opened that are not closed yet
        self.max_open = 0  # the most streams open at once
        self.refused: list[int] = []  # streams refused for exceeding the advertised limit
        self.violations: list[int] = []  # ... beyond a limit the client had acknowledged
        self.settings_acks = 0
        self.ping_acks: list[bytes] = []
        self.goaway_received: int | None = None  # error code of a GOAWAY from the client
        self.resets_received: dict[int, int] = {}  # stream id -> error code of the client's RST_STREAM
        self.eof = False
        #: Set once the client closed the connection (EOF or reset seen by the peer).
        self.closed_by_client = threading.Event()
        self._advertised: deque[int] = deque()  # limits sent, not yet acknowledged, oldest first
        self._acked_limit = UNLIMITED  # before the first SETTINGS ACK the client may assume no limit

    # -- setup -----------------------------------------------------------------------------------------------

    def start_h2(self, max_concurrent_streams: int, extra: dict[int, int] | None = None) -> None:
        """Start the server side of HTTP/2: our SETTINGS, written by the peer itself rather than by h2."""
        self.h2.initiate_connection()
        self.h2.data_to_send()  # h2's own SETTINGS frame is replaced by ours
        self.send_settings({SettingCodes.MAX_CONCURRENT_STREAMS: max_concurrent_streams, **(extra or {})})

    # -- writing ---------------------------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, *frames: Frame) -> None:
        """Write frames as they are, bypassing h2 (after anything h2 had queued)."""
        self.flush()
        self.send_raw(b"".join(frame.serialize() for frame in frames))

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.send_raw(data)

    def send_settings(self, values: dict[int, int]) -> None:
        """A SETTINGS frame written by the peer (h2's view of its own settings does not change)."""
        frame = SettingsFrame(0)
        frame.settings = dict(values)
        if SettingCodes.MAX_CONCURRENT_STREAMS in values:
            self._advertised.append(values[SettingCodes.MAX_CONCURRENT_STREAMS])
        else:
            self._advertised.append(self._advertised[-1] if self._advertised else self._acked_limit)
        self.send_frame(frame)

    def send_head(
        self, stream_id: int, status: int, headers: Sequence[tuple[str, str]] = (), end: bool = False
    ) -> None:
        self._check_open()
        block = [(b":status", str(status).encode())]
        block += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        self.h2.send_headers(stream_id, block, end_stream=end)
        if end:
            self._closed_locally(stream_id)
        self.flush()

    def send_body(self, stream_id: int, data: bytes, end: bool = False) -> None:
        """Send *data* on a stream as flow control allows, reading WINDOW_UPDATEs when it must wait."""
        view = memoryview(data)
        while True:
            if stream_id not in self.open:
                return  # the client reset the stream (or it was refused): nothing more may be sent
            self._check_open()
            window = min(self.h2.local_flow_control_window(stream_id), self.h2.max_outbound_frame_size)
            if window <= 0 and view:
                if not self.pump(0.5) and self.eof:
                    raise EOFError("the client went away while the peer was sending")
                continue
            piece, view = bytes(view[:window]), view[window:]
            last = end and not view
            self.h2.send_data(stream_id, piece, end_stream=last)
            self.flush()
            if not view:
                break
        if end:
            self._closed_locally(stream_id)

    def respond(
        self, stream_id: int, status: int = 200, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> None:
        """A whole response: head (with content-length) and body."""
        headers = [*headers, ("content-length", str(len(body)))]
        if body:
            self.send_head(stream_id, status, headers)
            self.send_body(stream_id, body, end=True)
        else:
            self.send_head(stream_id, status, headers, end=True)

    def reset_stream(self, stream_id: int, code: int = h2.errors.ErrorCodes.INTERNAL_ERROR) -> None:
        self.h2.reset_stream(stream_id, code)
        self._closed_locally(stream_id)
        self.flush()

    def goaway(self, last_stream_id: int, code: int = h2.errors.ErrorCodes.NO_ERROR) -> None:
        """A GOAWAY written raw: h2 does not know, so streams up to *last_stream_id* can still be answered."""
        self.send_frame(GoAwayFrame(0, last_stream_id=last_stream_id, error_code=code))

    def headers_frame(
        self, stream_id: int, block: bytes, end_headers: bool = True, end_stream: bool = False
    ) -> Frame:
        frame = HeadersFrame(stream_id, data=block)
        if end_headers:
            frame.flags.add("END_HEADERS")
        if end_stream:
            frame.flags.add("END_STREAM")
        return frame

    def continuation_frame(self, stream_id: int, block: bytes, end_headers: bool = False) -> Frame:
        frame = ContinuationFrame(stream_id, data=block)
        if end_headers:
            frame.flags.add("END_HEADERS")
        return frame

    def encode_headers(self, headers: Sequence[tuple[bytes, bytes]], huffman: bool = False) -> bytes:
        """An HPACK block from the connection's own encoder (its dynamic table stays in step with the
        client's decoder)."""
        return bytes(self.h2.encoder.encode(list(headers), huffman=huffman))

    def ping(self, data: bytes = b"brisk-h2", timeout: float | None = None) -> bool:
        """Send a PING and wait for its ACK; True if the ACK carried the same 8 bytes."""
        self.h2.ping(data)
        self.flush()
        count = len(self.ping_acks)
        self.wait_for(lambda: len(self.ping_acks) > count, timeout)
        return len(self.ping_acks) > count and self.ping_acks[count] == data

    def close(self) -> None:
        """Close the TCP connection without a GOAWAY (nor a TLS close_notify)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()

    # -- reading ---------------------------------------------------------------------------------------------

    def pump(self, timeout: float) -> bool:
        """Read once (at most *timeout* seconds) and process what arrived; False on timeout or EOF."""
        if self.eof:
            return False
        try:
            self.sock.settimeout(max(0.001, timeout))
            data = self.sock.recv(65536)
        except (TimeoutError, ssl.SSLWantReadError):
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            data = b""
        if not data:
            self.eof = True
            self.closed_by_client.set()
            return False
        for event in self.h2.receive_data(data):
            self._event(event)
        self.flush()
        return True

    def wait_for(self, ready: Callable[[], bool], timeout: float | None = None) -> bool:
        """Read until ``ready()`` (True), EOF or *timeout* (False)."""
        deadline = time.monotonic() + (self.peer.timeout if timeout is None else timeout)
        while not ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.eof or self.peer.stopping.is_set():
                return ready()
            self.pump(min(remaining, 0.1))
        return True

    def next_request(self, timeout: float | None = None) -> PeerRequest:
        """The next complete request (its stream ended by the client)."""
        if not self.wait_for(lambda: bool(self.pending), timeout):
            raise TimeoutError(f"connection {self.index}: no request arrived")
        return self.pending.popleft()

    def requests(self, count: int, timeout: float | None = None) -> list[PeerRequest]:
        """The next *count* complete requests, by stream id."""
        if not self.wait_for(lambda: len(self.pending) >= count, timeout):
            raise TimeoutError(f"connection {self.index}: {len(self.pending)} of {count} requests arrived")
        taken = [self.pending.popleft() for _ in range(count)]
        return sorted(taken, key=lambda request: request.stream_id)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Read (answering nothing) until the client closes; True if it did within *timeout*."""
        self.wait_for(lambda: self.eof, timeout)
        return self.eof

    def serve(self, handler: Handler = echo, hold: float = 0.0) -> None:
        """Answer every request with *handler*, *hold* seconds after it is complete, until the client
        leaves."""
        due: deque[tuple[float, PeerRequest]] = deque()
        while not self.peer.stopping.is_set():
            while self.pending:
                due.append((time.monotonic() + hold, self.pending.popleft()))
            now = time.monotonic()
            while due and due[0][0] <= now:
                request = due.popleft()[1]
                if request.stream_id in self.open:
                    status, headers, body = handler(request)
                    self.respond(request.stream_id, status, headers, body)
            if self.eof:
                return
            wait = 0.1 if not due else max(0.001, min(0.1, due[0][0] - time.monotonic()))
            self.pump(wait)

    # -- events ----------------------------------------------------------------------------------------------

    def _event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers]
            request = self.streams[event.stream_id] = PeerRequest(event.stream_id, headers, self.index)
            self.peer._record(request)
            if len(self.open) >= min(self._acked_limit, self._current_limit()):
                if len(self.open) >= self._acked_limit:
                    self.violations.append(event.stream_id)
                self.refused.append(event.stream_id)
                self.h2.reset_stream(event.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
                return
            self.open.add(event.stream_id)
            self.max_open = max(self.max_open, len(self.open))
            if event.stream_ended is not None:
                self._complete(event.stream_id)
        elif isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            request = self.streams.get(event.stream_id)
            if request is not None:
                request.body += event.data
        elif isinstance(event, h2.events.StreamEnded):
            if event.stream_id in self.open:
                self._complete(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self.resets_received[event.stream_id] = int(event.error_code or 0)
            self.open.discard(event.stream_id)
        elif isinstance(event, h2.events.SettingsAcknowledged):
            self.settings_acks += 1
            if self._advertised:
                self._acked_limit = self._advertised.popleft()
        elif isinstance(event, h2.events.PingAckReceived):
            self.ping_acks.append(bytes(event.ping_data or b""))
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway_received = int(event.error_code or 0)

    def _check_open(self) -> None:
        if self.goaway_received is not None or self.eof:
            raise EOFError(f"connection {self.index}: the client closed the connection")

    def _current_limit(self) -> int:
        return self._advertised[-1] if self._advertised else self._acked_limit

    def _complete(self, stream_id: int) -> None:
        request = self.streams[stream_id]
        if not request.complete:
            request.complete = True
            self.pending.append(request)

    def _closed_locally(self, stream_id: int) -> None:
        self.open.discard(stream_id)

    # -- HTTP/1.1 fallback -----------------------------------------------------------------------------------

    def serve_http11(self) -> None:
        """Answer ``200 ok`` to each HTTP/1.1 request until the client closes (ALPN did not pick h2)."""
        buffer = b""
        while not self.peer.stopping.is_set():
            while b"\r\n\r\n" in buffer:
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                self.peer._record_http11(head.decode("latin-1"), self.index)
                self.send_raw(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
            try:
                self.sock.settimeout(0.1)
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except (ConnectionError, ssl.SSLError, OSError):
                data = b""
            if not data:
                self.eof = True
                self.closed_by_client.set()
                return
            buffer += data


# -- the server ----------------------------------------------------------------------------------------------


@dataclass
class _Accepted:
    sock: socket.socket
    thread: threading.Thread | None = None
    conn: PeerConnection | None = None


class H2Peer:
    """Accepts TLS connections on 127.0.0.1; connection *i* runs ``scripts[i]`` (later ones ``then``).

    :param bundle: the certificate to present (clients verify it with ``bundle.ca_bundle``).
    :param scripts: one script per connection, in accept order; connections beyond them run ``then``.
    :param then: the script for every other connection; by default :meth:`PeerConnection.serve` with
        :func:`echo`.
    :param alpn: what the server accepts in ALPN.
    :param max_concurrent_streams: advertised in the peer's first SETTINGS.
    :param settings: other settings for that first SETTINGS frame.
    :param settings_delay: seconds to wait after the handshake before sending it (a slow network).
    :param timeout: the bound on every wait of a script, in seconds.
    """

    def __init__(
        self,
        bundle: CertBundle,
        scripts: Sequence[Script] = (),
        *,
        then: Script | None = None,
        alpn: Sequence[str] = ("h2", "http/1.1"),
        max_concurrent_streams: int = 100,
        settings: dict[int, int] | None = None,
        settings_delay: float = 0.0,
        timeout: float = 10.0,
    ) -> None:
        self.bundle = bundle
        self.scripts = list(scripts)
        self.then: Script = then or (lambda conn: conn.serve())
        self.context = bundle.server_context(alpn)
        self.max_concurrent_streams = max_concurrent_streams
        self.settings = dict(settings or {})
        self.settings_delay = settings_delay
        self.timeout = timeout
        self.port = 0
        self.connections: list[PeerConnection] = []
        self.requests: list[PeerRequest] = []
        self.http11_requests: list[tuple[str, int]] = []  # (request head, connection index)
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._accepted: list[_Accepted] = []
        self._count = 0
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://{self.bundle.hostname}:{self.port}"

    @property
    def connection_count(self) -> int:
        with self._lock:
            return self._count

    def all_closed_by_client(self, timeout: float = 5.0) -> bool:
        """Wait until the client has closed every connection accepted so far."""
        deadline = time.monotonic() + timeout
        with self._lock:
            conns = list(self.connections)
        return all(conn.closed_by_client.wait(max(0.0, deadline - time.monotonic())) for conn in conns)

    def start(self) -> H2Peer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            listener.settimeout(0.05)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"h2peer-{self.port}", daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, wake and join every script, close everything; re-raise a script's failure."""
        self.stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            accepted = list(self._accepted)
        for item in accepted:
            with contextlib.suppress(OSError):
                item.sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for item in accepted:
            if item.thread is not None:
                item.thread.join(max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(OSError):
                item.sock.close()
        stuck = [item.thread.name for item in accepted if item.thread is not None and item.thread.is_alive()]
        if stuck:
            raise RuntimeError(f"h2 peer scripts did not finish: {stuck}")
        failures = [error for error in self.errors if not isinstance(error, NETWORK_ERRORS)]
        if failures:
            raise RuntimeError(f"an h2 peer script failed: {failures[0]!r}") from failures[0]

    def __enter__(self) -> H2Peer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- internals -------------------------------------------------------------------------------------------

    def _record(self, request: PeerRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _record_http11(self, head: str, index: int) -> None:
        with self._lock:
            self.http11_requests.append((head, index))

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                index = self._count
                self._count += 1
                item = _Accepted(sock)
                self._accepted.append(item)
            item.thread = threading.Thread(
                target=self._serve, args=(item, index), name=f"h2peer-{self.port}-{index}", daemon=True
            )
            item.thread.start()

    def _serve(self, item: _Accepted, index: int) -> None:
        try:
            offered = _peek_client_hello(item.sock, self.timeout)
            item.sock.settimeout(self.timeout)
            tls = self.context.wrap_socket(item.sock, server_side=True)
            item.sock = tls
            conn = item.conn = PeerConnection(tls, self, index, offered)
            with self._lock:
                self.connections.append(conn)
            if conn.selected_alpn != "h2":
                conn.serve_http11()
                return
            if self.settings_delay:  # a slow network: the client's first frames arrive before our SETTINGS
                self.stopping.wait(self.settings_delay)
            conn.start_h2(self.max_concurrent_streams, self.settings)
            script = self.scripts[index] if index < len(self.scripts) else self.then
            script(conn)
        except BaseException as exc:
            if not (isinstance(exc, OSError) and exc.errno in (errno.EBADF, errno.ENOTCONN)):
                with self._lock:
                    self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                item.sock.close()


@dataclass
class H2PeerFactory:
    """What the ``h2peer`` fixture yields: ``h2peer(*scripts, then=None, **options)`` -> a started H2Peer."""

    bundle: CertBundle
    peers: list[H2Peer] = field(default_factory=list)

    def __call__(self, *scripts: Script, then: Script | None = None, **options: Any) -> H2Peer:
        peer = H2Peer(self.bundle, scripts, then=then, **options).start()
        self.peers.append(peer)
        return peer

    def stop_all(self) -> None:
        errors: list[BaseException] = []
        for peer in self.peers:
            try:
                peer.stop()
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def h2peer(good_cert: CertBundle) -> Iterator[H2PeerFactory]:
    """A factory of :class:`H2Peer` presenting the session CA's ``good`` certificate for localhost; every peer
    is stopped (and its scripts' failures re-raised) after the test. Clients verify with
    ``good_cert.ca_bundle``."""
    factory = H2PeerFactory(good_cert)
    try:
        yield factory
    finally:
        factory.stop_all()
