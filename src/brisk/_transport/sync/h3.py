"""HTTP/3 for the sync transport: one ``SyncH3Connection`` (a connected, blocking UDP socket and the sans-IO
``H3State``) shared by threads, many concurrent streams on it.

No thread of its own: a request that must wait for its stream reads the socket itself, one thread at a
time (the *pump*), and runs the QUIC timer when the socket is quiet; the others sleep, each on an event of
its own, and a datagram wakes only the threads whose streams it changed (and, when the pump leaves, one
sleeper to take over). The state is only touched under the connection's lock.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Hashable, Iterator

from brisk._protocol.http3 import ALL, SEND_BACKLOG, H3State, H3Stream
from brisk._transport.base import StaleConnection
from brisk._transport.connect import AddressLoop
from brisk._transport.deadline import READING_BODY, SENDING, WAITING_FOR_RESPONSE, Phase
from brisk._transport.exchange import h2_request
from brisk._transport.h3 import (
    HANDSHAKE,
    H3Body,
    check_pins,
    connection_info,
    h3_response,
    handshake_failed,
    quic_configuration,
    udp_socket,
)
from brisk._transport.sync.connect import bounded_lookup
from brisk.exceptions import ConnectionError, ConnectTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.base import SendOptions, Timings
    from brisk._transport.sync.transport import SyncTransport
    from brisk.models import PreparedRequest, Response

__all__ = ["SyncH3Connection", "exchange", "handshake", "open_h3", "start_h3"]

_MAX_DATAGRAM = 65536
ACKED = -1  # the wait key of uploads waiting for acknowledgements: any datagram wakes them


class SyncH3Connection:
    """An HTTP/3 connection used by any number of threads."""

    multiplexed = True
    http_version = "HTTP/3"

    def __init__(self, sock: socket.socket, state: H3State, peer: Any) -> None:
        self.sock = sock
        self.state = state
        self.peer = peer
        self.info: Any = None
        self.idle_since = 0.0
        self.served = 0
        self.closed = False
        self.handshake_start = 0.0
        self._lock = threading.Lock()
        self._pumping = False
        # threads waiting while another one pumps, by what they wait for: a stream id, ALL (the connection),
        # ACKED (acknowledgements: any datagram). A datagram wakes only the threads of what it changed.
        self._sleepers: dict[int, list[threading.Event]] = {}
        self._abandoned: list[H3Stream] = []  # from __del__ while the lock was taken; released next
        sock.setblocking(False)
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)

    # -- pool protocol ------------------------------------------------------------------------------------

    def has_capacity(self) -> bool:
        return not self.closed and self.state.can_open_stream()

    def looks_alive(self) -> bool:
        if self.closed:
            return False
        with self._lock:
            self._drain()  # what arrived while nobody read: a GOAWAY, a close, the idle timer
            return self.state.error is None and not self.state.goaway

    @property
    def open_streams(self) -> int:
        return self.state.open_streams

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                self.state.close()
                self._send()
            except OSError:
                pass
            finally:
                self.sock.close()
                self._wake({ALL})

    def release(self, stream: H3Stream) -> None:
        with self._lock:
            self.state.release(stream)
            self._send_quietly()

    def abandon(self, stream: H3Stream) -> None:
        """A response garbage-collected unread: cancel its stream (never blocks; when the lock is taken, the
        next call, drain or release does it)."""
        if self._lock.acquire(blocking=False):
            try:
                self.state.release(stream)
                self._send_quietly()
            finally:
                self._lock.release()
        else:
            self._abandoned.append(stream)

    def _release_abandoned(self) -> None:
        abandoned = self._abandoned
        while abandoned:
            self.state.release(abandoned.pop())

    # -- under the lock -----------------------------------------------------------------------------------

    def _send(self) -> None:
        for data, _ in self.state.datagrams(time.monotonic()):
            self.sock.send(data)

    def _send_quietly(self) -> None:
        if self._abandoned:
            self._release_abandoned()
        try:
            self._send()
        except OSError as exc:
            self.state.connection_lost(f"the HTTP/3 connection's socket failed: {exc}")

    def _drain(self, pump: bool = False) -> None:
        """Take the datagrams waiting in the socket, without blocking, and run a due timer (unless another
        thread is reading the socket: ``pump`` says the caller is that thread); wake whom they concern."""
        if self.closed or (self._pumping and not pump):
            return
        touched: set[int] = set()
        try:
            while True:
                data = self.sock.recv(_MAX_DATAGRAM)
                touched |= self.state.receive(data, self.peer, time.monotonic())
        except BlockingIOError:
            pass
        except OSError as exc:
            self.state.connection_lost(f"the HTTP/3 server cannot be reached over UDP: {exc}")
            touched.add(ALL)
        timer = self.state.timer()
        if timer is not None and timer <= time.monotonic():
            touched |= self.state.on_timer(time.monotonic())
        self._send_quietly()
        self._wake(touched)

    def _wake(self, touched: set[int]) -> None:
        sleepers = self._sleepers
        if not sleepers:
            return
        keys = list(sleepers) if ALL in touched else [*(key for key in touched if key in sleepers), ACKED]
        for key in keys:
            for event in sleepers.pop(key, ()):
                event.set()

    def _hand_over(self) -> None:
        """The pump is leaving: wake one sleeper, which pumps next if it still has to wait."""
        for key, events in self._sleepers.items():
            events.pop().set()
            if not events:
                del self._sleepers[key]
            return

    # -- for requests -------------------------------------------------------------------------------------

    def call(self, action: Callable[[H3State], Any]) -> Any:
        """Run ``action`` on the state under the lock and send what it produced."""
        with self._lock:
            if self.closed:
                raise ConnectionError("the HTTP/3 connection is closed")
            result = action(self.state)
            self._send_quietly()
            return result

    def wait(self, ready: Callable[[], bool], options: SendOptions, phase: Phase, key: int = ALL) -> None:
        """Block until ``ready()`` (checked under the lock) or ``phase``'s time budget runs out. ``key``
        says what ``ready`` depends on (a stream id, ``ALL``, ``ACKED``), so only its news wake the thread."""
        seconds = phase.budget(options)
        give_up = None if seconds is None else time.monotonic() + seconds
        with self._lock:
            try:
                while not ready():
                    if self.closed:
                        return
                    left = None if give_up is None else give_up - time.monotonic()
                    if left is not None and left <= 0:
                        raise phase.timed_out(options)
                    if self._pumping:
                        self._sleep(key, left)
                        continue
                    self._pumping = True
                    try:
                        self._pump_once(left)
                    finally:
                        self._pumping = False
            finally:
                if not self._pumping and self._sleepers:
                    self._hand_over()

    def _sleep(self, key: int, left: float | None) -> None:
        event = threading.Event()
        self._sleepers.setdefault(key, []).append(event)
        self._lock.release()
        try:
            event.wait(left)
        finally:
            self._lock.acquire()
            events = self._sleepers.get(key)
            if events is not None and event in events:
                events.remove(event)
                if not events:
                    del self._sleepers[key]

    def _pump_once(self, left: float | None) -> None:
        """Read one datagram (the lock released meanwhile), or run the QUIC timer if none came in time."""
        timer = self.state.timer()
        now = time.monotonic()
        wait = None if timer is None else max(0.0, timer - now)
        if left is not None:
            wait = left if wait is None else min(wait, left)
        self._lock.release()
        data: bytes | None = None
        failure: OSError | None = None
        try:
            if self._poller.poll(-1 if wait is None else max(1, int(wait * 1000 + 0.999))):
                data = self.sock.recv(_MAX_DATAGRAM)
        except BlockingIOError:
            pass
        except OSError as exc:
            failure = exc
        finally:
            self._lock.acquire()
        if self.closed:
            return
        if failure is not None:
            self.state.connection_lost(f"the HTTP/3 server cannot be reached over UDP: {failure}")
            self._wake({ALL})
        elif data is not None:
            self._wake(self.state.receive(data, self.peer, time.monotonic()))
        self._drain(pump=True)


def open_h3(url: URL, port: int, options: SendOptions, timings: Timings) -> SyncH3Connection:
    """A QUIC connection to ``url``'s origin with its handshake done (bounded by ``Timeout.connect``)."""
    conn = start_h3(url, port, options, timings)
    try:
        handshake(conn, url, options, timings, HANDSHAKE)
    except BaseException:
        conn.close()
        raise
    return conn


def start_h3(url: URL, port: int, options: SendOptions, timings: Timings) -> SyncH3Connection:
    """A QUIC connection to ``url``'s origin whose handshake has started (its first datagram is sent)."""
    config = options.config
    quic = quic_configuration(config, url.host)
    if options.timeout.read is not None:
        quic.idle_timeout = max(30.0, options.timeout.read)
    attempts = AddressLoop(url.host, port, options, timings)
    infos = attempts.addresses
    if infos is None:  # the session's resolver, or getaddrinfo, bounded by the connect timeout
        infos = bounded_lookup(attempts)
    sock, peer = udp_socket(attempts, infos, options)
    conn = SyncH3Connection(sock, H3State(quic, options.limits), peer)
    conn.handshake_start = time.monotonic()
    try:
        conn.call(lambda state: state.connect(peer, time.monotonic()))
    except BaseException:
        conn.close()
        raise
    return conn


def handshake(
    conn: SyncH3Connection,
    url: URL,
    options: SendOptions,
    timings: Timings,
    phase: Phase,
    stop: Callable[[], bool] | None = None,
) -> bool:
    """Wait for ``conn``'s handshake (within ``phase``'s budget) and check its outcome: True once the
    connection is ready; False when ``stop()`` became true first (the handshake goes on). ``stop`` is
    looked at every ``_STOP_POLL`` seconds: what it watches (another thread's work) does not wake the
    socket."""
    state = conn.state

    def done() -> bool:
        return state.handshake_done or state.error is not None

    if stop is None:
        conn.wait(done, options, phase)
    else:
        budget = phase.budget(options)
        give_up = None if budget is None else time.monotonic() + budget
        while not done():
            if stop():
                return False
            left = _STOP_POLL if give_up is None else give_up - time.monotonic()
            if left <= 0:
                raise phase.timed_out(options)
            try:
                conn.wait(done, options, _Limited(min(left, _STOP_POLL)))
            except ConnectTimeout:
                pass
    if not state.handshake_done:
        raise handshake_failed(state, url.host)
    if state.alpn != "h3":
        raise ConnectionError(
            f"the server at {url.host_header} did not agree to HTTP/3 (ALPN {state.alpn!r})"
        )
    check_pins(state, url, options.config)
    sock = conn.sock
    conn.info = connection_info(state, _address(sock.getpeername()), _address(sock.getsockname()))
    timings.connect = time.monotonic() - conn.handshake_start
    return True


#: Seconds between two looks at a ``handshake``'s ``stop`` condition.
_STOP_POLL = 0.02


class _Limited(Phase):
    """The QUIC handshake, or a part of it: ``Timeout.connect``, at most ``limit`` seconds."""

    __slots__ = ("limit",)

    def __init__(self, limit: float) -> None:
        super().__init__(HANDSHAKE.field, HANDSHAKE.error, HANDSHAKE.doing)
        self.limit = limit

    def budget(self, options: SendOptions) -> float | None:
        seconds = HANDSHAKE.budget(options)
        return self.limit if seconds is None else min(seconds, self.limit)


def _address(address: Any) -> Any:
    return (address[0], address[1]) if isinstance(address, tuple) else None


def exchange(
    transport: SyncTransport,
    key: Hashable,
    conn: SyncH3Connection,
    request: PreparedRequest,
    body: bytes | RequestBody | None,
    url: URL,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Send ``request`` as a new stream on ``conn`` and return its response once the head arrives."""
    method, authority, headers = h2_request(request, url, options)
    stream: H3Stream = conn.call(
        lambda state: state.send_request(
            method, "https", authority, url.target, headers, end_stream=body is None
        )
    )
    try:
        if body is not None:
            _send_body(conn, stream, body, options)
        timings.request_sent = time.monotonic() - timings.start
        conn.wait(
            lambda: stream.status is not None or stream.error is not None, options, WAITING_FOR_RESPONSE
        )
        if stream.status is None:
            error = stream.error or ConnectionError("the HTTP/3 connection closed before the response")
            if stream.unprocessed:
                raise StaleConnection(error, unprocessed=True)
            raise error
    except BaseException:
        conn.release(stream)
        raise
    reader = _SyncH3Body(transport, key, conn, stream, options, timings)  # type: ignore[arg-type]
    return h3_response(stream, reader, request, timings, conn.info)


def _send_body(
    conn: SyncH3Connection, stream: H3Stream, body: bytes | RequestBody, options: SendOptions
) -> None:
    if isinstance(body, bytes):
        conn.call(lambda state: state.send_data(stream, body, True))
        return
    for chunk in body:
        if stream.error is not None or stream.status is not None or conn.closed:
            return
        if chunk:
            conn.call(lambda state, chunk=chunk: state.send_data(stream, chunk, False))  # type: ignore[misc]
            conn.wait(lambda: conn.state.send_backlog(stream) <= SEND_BACKLOG, options, SENDING, ACKED)
    conn.call(lambda state: state.send_data(stream, b"", True))


class _SyncH3Body(H3Body[SyncH3Connection]):
    """The body of one HTTP/3 response, read from its stream."""

    __slots__ = ("__weakref__",)

    def __iter__(self) -> Iterator[bytes]:
        stream, conn = self._stream, self._conn
        try:
            while True:
                data = conn.call(lambda state: state.take_body(stream)) if stream.body else b""
                if data:
                    yield data
                    continue
                if stream.complete:
                    if stream.body:  # another thread's pump took the last data in with the end since
                        continue
                    break
                if stream.error is not None:
                    raise stream.error
                if conn.closed:
                    raise ConnectionError("the HTTP/3 connection closed during the response body")
                conn.wait(
                    lambda: bool(stream.body) or stream.complete or stream.error is not None,
                    self._options,
                    READING_BODY,
                    stream.id,
                )
        except BaseException:
            self.close()
            raise
        self.close()

    def read_all(self) -> bytes:
        return b"".join(self)

    def __del__(self) -> None:
        if not self._done:
            self._done = True
            self._conn.abandon(self._stream)
