"""The WebSocket client over blocking sockets: the upgrade transport and ``WebSocket``.

Everything that decides is in ``core`` (shared with asyncio); here are the reads, the writes and the waits.
One thread may receive while others send: sends and the protocol state are guarded by a lock, the blocking
read is not.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from brisk._flows import run_sync
from brisk._flows.request import request_flow
from brisk._protocol.http11 import encode_request_head
from brisk._transport.base import Timings
from brisk._transport.deadline import SENDING, WAITING_FOR_RESPONSE
from brisk._transport.errors import broken
from brisk._transport.facts import of_socket
from brisk._transport.sync.busypoll import BusyPoll
from brisk._transport.sync.connect import open_socket
from brisk._transport.wire import request_line_and_headers
from brisk._websocket.core import Core, HeadReader, KeepAlive
from brisk._websocket.handshake import Plan, handshake_response, upgrade_options
from brisk.exceptions import ReadTimeout, WebSocketClosed, WriteTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from brisk._transport.base import SendOptions
    from brisk.models import PreparedRequest, Response

__all__ = ["WebSocket", "connect"]

_RECV = 262144


class _UpgradeTransport:
    """Sends each attempt of the handshake on a new connection; keeps the socket of a 101."""

    def __init__(self, opener: Any = None) -> None:
        # id(response) -> socket, first bytes, the attempt's options, its TCP connect time
        self.upgraded: dict[int, tuple[socket.socket, bytes, SendOptions, float]] = {}
        self._opener = opener  # a mock's socket maker, or None

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        url, options = upgrade_options(request, options)
        timings = Timings(time.monotonic())
        target, headers = request_line_and_headers(request, url, options)
        head = encode_request_head("GET", target, headers)
        sock = open_socket(url, options, timings) if self._opener is None else self._opener(request)
        try:
            sock.settimeout(SENDING.budget(options))
            try:
                sock.sendall(head)
            except TimeoutError:
                raise SENDING.timed_out(options) from None
            reader = HeadReader(options.limits)
            while True:
                sock.settimeout(WAITING_FOR_RESPONSE.budget(options))
                try:
                    data = sock.recv(_RECV)
                except TimeoutError:
                    raise WAITING_FOR_RESPONSE.timed_out(options) from None
                except OSError as exc:
                    raise broken(exc, WAITING_FOR_RESPONSE.doing) from exc
                if not data:
                    reader.feed_eof()
                    break
                if reader.feed(data):
                    break
            return self._response(reader, request, sock, timings, options)
        except BaseException:
            sock.close()
            raise

    def _response(
        self,
        reader: HeadReader,
        request: PreparedRequest,
        sock: socket.socket,
        timings: Timings,
        options: SendOptions,
    ) -> Response:
        response = handshake_response(reader, request, timings, of_socket(sock))
        if reader.head is None:
            sock.close()  # a refusal: its body is read, the connection is done
        else:
            self.upgraded[id(response)] = (sock, reader.rest, options, timings.connect)
        return response

    def close(self) -> None:
        for sock, *_ in self.upgraded.values():
            sock.close()
        self.upgraded.clear()


def connect(plan: Plan, settings: dict[str, Any]) -> WebSocket:
    """Run the handshake of ``plan`` and open the WebSocket."""
    transport = _UpgradeTransport(plan.opener)
    try:
        response = run_sync(request_flow(plan.request, plan.settings), transport)
        subprotocol, extensions = plan.handshake.check(response, plan.url)
        sock, rest, options, connect_time = transport.upgraded.pop(id(response))
    finally:
        transport.close()
    core = Core(extensions, plan.handshake.max_size)
    ws = WebSocket(
        sock,
        core,
        response,
        subprotocol,
        **settings,
        write_timeout=options.timeout.write,
        busy_poll=options.limits.busy_poll,
        connect_time=connect_time,
    )
    ws.url = plan.url
    if rest:
        ws._feed(rest)
    return ws


class WebSocket:
    """An open WebSocket connection (``Session.websocket``): ``send``, ``receive``, iteration, ``close``.

    >>> with session.websocket("wss://example.com/feed") as ws:
    ...     ws.send("hello")
    ...     for message in ws:  # str for text messages, bytes for binary ones
    ...         print(message)
    """

    def __init__(
        self,
        sock: socket.socket,
        core: Core,
        response: Response,
        subprotocol: str | None,
        *,
        close_timeout: float | None = 10.0,
        ping_interval: float | None = None,
        ping_timeout: float | None = 20.0,
        write_timeout: float | None = None,
        busy_poll: float = 0.0,
        connect_time: float = 0.0,
    ) -> None:
        self._sock = sock
        self._core = core
        self._lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._closed = False
        #: The ws:// or wss:// URL.
        self.url = ""
        #: The handshake's response (status 101, its headers and cookies).
        self.response = response
        #: The subprotocol the server chose, or None.
        self.subprotocol = subprotocol
        self.close_timeout = close_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self._keepalive = (
            None if ping_interval is None else KeepAlive(ping_interval, ping_timeout, time.monotonic())
        )
        #: The longest a send may wait for the peer to take any of its bytes (the handshake's
        #: ``timeout.write``); then WriteTimeout, and the connection is closed. None: no limit.
        self.write_timeout = write_timeout
        # A plain TCP socket's sends are timed by the kernel (SO_SNDTIMEO), apart from the reads' timeout;
        # a socket the kernel cannot time (TLS) never blocks without a timeout: its reads wait at most
        # ``write_timeout`` at a time, so a send in another thread is never stuck past it.
        self._kernel_sends = type(sock) is socket.socket
        self._tick: float | None = write_timeout
        self._timeout: float | None = None if self._kernel_sends else write_timeout
        sock.settimeout(self._timeout)
        if write_timeout is not None and self._kernel_sends:
            seconds = max(write_timeout, 1e-6)  # a zero timeval means "forever"
            whole = int(seconds)
            timeval = struct.pack("ll", whole, int((seconds - whole) * 1e6))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        # Busy polling before the wait for a message (``Limits.busy_poll``), HTTP/1.1's policy.
        self._busy: BusyPoll | None = None
        self._busy_budget = busy_poll
        if busy_poll and hasattr(sock, "fileno"):
            self._busy = BusyPoll(sock, BusyPoll.poll_for(sock), connect_time, busy_poll)
        self._buffer = bytearray(_RECV)
        self._view = memoryview(self._buffer)

    # -- the public face ---------------------------------------------------------------------------------

    @property
    def close_code(self) -> int | None:
        """The peer's close code once the connection is closed (1006: closed without a close frame)."""
        return self._core.close_code

    @property
    def close_reason(self) -> str | None:
        """The peer's close reason once the connection is closed."""
        return self._core.close_reason

    @property
    def closed(self) -> bool:
        return self._closed

    def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; WebSocketClosed once the connection is closed."""
        with self._lock:
            core = self._core
            core.check_open()
            if self._closed:  # by brisk: a send that timed out, say
                raise WebSocketClosed("the WebSocket connection is closed", code=core.close_code or 1006)
            pieces = core.encode(message)
            try:
                for piece in pieces:
                    self._write(piece)
            except WriteTimeout:
                raise
            except OSError as exc:
                self._shut()
                raise WebSocketClosed(f"the WebSocket connection broke: {exc}", code=1006) from exc

    def ping(self, data: bytes = b"") -> None:
        """Send a ping (the peer answers with a pong, which ``receive`` consumes)."""
        with self._lock:
            self._core.check_open()
            self._core.ping(data)
            self._flush()

    def receive(self, timeout: float | None = None) -> str | bytes:
        """The next message: str (text) or bytes (binary). Waits at most ``timeout`` seconds (None: as long
        as it takes; a ReadTimeout after that, the connection still open). WebSocketClosed once the peer
        closed the connection, or once brisk closed it because the peer broke the protocol."""
        core = self._core
        message = core.next_message()
        if message is not None:
            return message
        give_up = None if timeout is None else time.monotonic() + timeout
        with self._recv_lock:
            while True:
                message = core.next_message()
                if message is not None:
                    return message
                if core.error is not None:
                    self._shut()
                    raise core.error
                if self._closed:
                    raise WebSocketClosed("the WebSocket connection is closed", code=core.close_code or 1006)
                # A large frame still arriving is read straight into its message's buffer; the wait for
                # the next frame is busy-polled (inside a frame, the socket's buffer does the waiting).
                target = core.big_target()
                data = self._read(give_up, poll=target is None, into=target)
                if data is None:
                    raise ReadTimeout(f"no WebSocket message within {timeout} s")
                if target is not None and data:
                    with self._lock:
                        core.big_received(len(data))
                        self._flush()
                else:
                    self._feed(data)

    def __iter__(self) -> Iterator[str | bytes]:
        """The messages until the peer closes normally (1000, 1001, or a close without a code); any other
        close raises WebSocketClosed."""
        while True:
            try:
                yield self.receive()
            except WebSocketClosed:
                if self._core.iteration_ends():
                    return
                raise

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection: send a close frame, wait up to ``close_timeout`` for the peer's, close the
        socket. Messages that arrive meanwhile are dropped. Calling it again does nothing."""
        if self._closed:
            return
        try:
            with self._lock:
                self._core.close(code, reason)
                self._flush()
            give_up = None if self.close_timeout is None else time.monotonic() + self.close_timeout
            # Another thread may be blocked in receive(): it reads the answer then, and we wait for it.
            if not self._recv_lock.acquire(timeout=-1 if self.close_timeout is None else self.close_timeout):
                return  # that thread never got the answer: the socket is closed under it (finally)
            try:
                while not self._core.close_received:
                    data = self._read(give_up, keepalive=False)
                    if data is None:
                        break  # the peer never answered: give up on it
                    self._feed(data)
                    self._core.messages.clear()
            finally:
                self._recv_lock.release()
        except (OSError, WebSocketClosed):
            pass  # closing anyway
        finally:
            self._shut()

    def __enter__(self) -> WebSocket:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self._sock.close()

    # -- I/O -----------------------------------------------------------------------------------------------

    def _feed(self, data: bytes | memoryview) -> None:
        with self._lock:
            if data:
                self._core.receive_data(data)
            else:
                self._core.receive_eof()
            self._flush()

    def _flush(self) -> None:
        """Write what the protocol has to say (called under the lock)."""
        data, eof = self._core.take_writes()
        if data and not self._closed:
            try:
                self._write(data)
            except WriteTimeout:
                raise
            except OSError as exc:
                self._shut()
                raise WebSocketClosed(f"the WebSocket connection broke: {exc}", code=1006) from exc
        if eof and not self._closed:
            _shutdown(self._sock, socket.SHUT_WR)

    def _read(
        self,
        give_up: float | None,
        keepalive: bool = True,
        poll: bool = False,
        into: memoryview | None = None,
    ) -> bytes | memoryview | None:
        """Bytes from the socket (b"" at EOF), or None when ``give_up`` passed first. Sends keep-alive
        pings meanwhile and fails the connection when a pong is late. ``poll``: busy-poll first (the
        wait for a message). ``into``: read into that buffer instead of the connection's."""
        while True:
            now = time.monotonic()
            wait = None if give_up is None else give_up - now
            if keepalive and self._keepalive is not None:
                with self._lock:
                    wake = self._keepalive.step(self._core, now)
                    self._flush()
                if wake is None:
                    return b""  # a late pong failed the connection (or it is closing)
                wait = wake - now if wait is None else min(wait, wake - now)
            if wait is not None and wait <= 0 and (give_up is not None and now >= give_up):
                return None
            timeout = None if wait is None else max(wait, 1e-3)
            tick = self._tick
            if tick is not None and ((timeout is None and not self._kernel_sends) or (timeout or 0) > tick):
                timeout = tick  # (see __init__) a read that times out here just reads again
            if timeout != self._timeout:  # settimeout costs two fcntl calls: only when it changes
                self._sock.settimeout(timeout)
                self._timeout = timeout
            busy = self._busy
            if poll and busy is not None:
                budget = self._busy_budget
                busy.before_read(budget if timeout is None else min(budget, timeout))
            try:
                # Into one buffer, copied out: a fresh 256 KiB bytes per recv() costs an mmap and a munmap.
                if into is not None:
                    return into[: self._sock.recv_into(into)]
                got = self._sock.recv_into(self._buffer)
                return self._view[:got]  # fed to the protocol (which copies it) before the next read
            except TimeoutError:
                if give_up is not None and time.monotonic() >= give_up:
                    return None
            except OSError:
                if self._closed:
                    raise WebSocketClosed("the WebSocket connection is closed", code=1006) from None
                return b""  # a reset: read as the end of the connection

    def _write(self, data: bytes) -> None:
        """Write all of ``data``, as long as the peer keeps taking it: WriteTimeout (and the connection
        closed, half a frame may have gone out) once it took nothing for ``write_timeout`` seconds. The
        socket's own timeout is the reads' (perhaps another thread's): a write that meets it goes on
        where it stopped (``sendall`` would give up with half a frame written)."""
        sock = self._sock
        send = getattr(sock, "send", None)
        limit = self.write_timeout
        if send is None:  # TLS inside a proxy's TLS (TunnelTLS): writes whole pieces
            try:
                sock.sendall(data)
            except TimeoutError:
                raise self._write_timed_out() from None
            return
        view = memoryview(data)
        progress = time.monotonic()  # when the peer last took bytes
        while view:
            try:
                sent = send(view)
            except (TimeoutError, BlockingIOError):  # BlockingIOError: the kernel's timeout (SO_SNDTIMEO)
                if limit is not None and time.monotonic() - progress >= limit * 0.99:
                    raise self._write_timed_out() from None
                continue
            view = view[sent:]
            if view:
                progress = time.monotonic()

    def _write_timed_out(self) -> WriteTimeout:
        self._shut()
        return WriteTimeout(
            f"the WebSocket peer at {self.url} took no data for {self.write_timeout} s (write timeout) "
            "while a message was being sent; the connection was closed"
        )

    def _shut(self) -> None:
        if not self._closed:
            self._closed = True
            _shutdown(self._sock, socket.SHUT_RDWR)  # wakes a thread blocked in recv() on it
            try:
                self._sock.close()
            except OSError:
                pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<WebSocket [{state}] {self.url}>"


def open_websocket(session: Any, url: Any, options: dict[str, Any]) -> WebSocket:
    """``Session.websocket``: the handshake through ``session``, then the open connection."""
    from brisk._websocket.handshake import split_options

    plan, settings = split_options(session, url, options)
    return connect(plan, settings)


def _shutdown(sock: Any, how: int) -> None:
    """``sock.shutdown(how)`` where it has one (TLS inside a proxy's TLS tunnel does not)."""
    shutdown = getattr(sock, "shutdown", None)
    if shutdown is not None:
        try:
            shutdown(how)
        except OSError:
            pass
