"""HTTP/2 over a blocking socket: one connection shared by threads, each thread running its own stream.

Socket I/O and the h2 state are guarded by one lock (an SSL object must not be read and written from two
threads at once). Waiting for the socket happens outside the lock and by one thread at a time (the
"reader"); the others wait on a condition. When data arrives the reader feeds it to the sans-IO state under
the lock and wakes everyone, so each thread finds its own stream's news.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator

from brisk._core.url import UNIX_SCHEME
from brisk._protocol.http2 import H2Connection, H2Stream
from brisk._transport.base import StaleConnection
from brisk._transport.body import H2Body
from brisk._transport.deadline import (
    H2_FLOW_CONTROL,
    H2_SETTINGS,
    H2_STREAM,
    READING_BODY,
    SENDING,
    WAITING_FOR_RESPONSE,
    Phase,
    WaitLimit,
)
from brisk._transport.exchange import h2_request, h2_response, raise_stream_error
from brisk._transport.facts import of_socket
from brisk.exceptions import ConnectionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.config import Limits
    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.base import SendOptions, Timings
    from brisk._transport.sync.transport import SyncTransport
    from brisk.models import PreparedRequest, Response

__all__ = ["SyncH2Connection", "exchange"]


class SyncH2Connection:
    """An HTTP/2 connection shared by threads."""

    multiplexed = True
    http_version = "HTTP/2"

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        self.sock = sock
        self.info = of_socket(sock)  # the connection's facts, shared by its responses
        self.h2 = H2Connection(limits)
        self.idle_since = 0.0
        self.served = 0
        self.closed = False
        self._lock = threading.Lock()
        self._news = threading.Condition(self._lock)
        self._reading = False
        self._abandoned: deque[H2Stream] = deque()  # streams of responses dropped unread (garbage collected)
        self._poll = select.poll()
        self._poll.register(sock.fileno(), select.POLLIN)
        sock.settimeout(None)
        with self._lock:
            self._flush()

    # -- pool protocol -------------------------------------------------------------------------------------

    def has_capacity(self) -> bool:
        return not self.closed and self.h2.can_open_stream()

    def looks_alive(self) -> bool:
        """Usable for a new stream. An idle connection first takes in what the server sent while it was idle
        (a GOAWAY, the end of the connection), so a connection the server dropped is not handed out."""
        if self.closed or self.h2.error is not None or self.h2.goaway:
            return False
        if not self.h2.open_streams and self._lock.acquire(blocking=False):
            try:
                if not self._reading and self._poll.poll(0):
                    self._read(0.001)
            finally:
                self._lock.release()
        return not self.closed and self.h2.error is None and not self.h2.goaway

    @property
    def open_streams(self) -> int:
        return self.h2.open_streams

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            try:
                goodbye = self.h2.close()
                if goodbye:
                    self.sock.settimeout(1.0)
                    self.sock.sendall(goodbye)
            except OSError:
                pass
            finally:
                self.sock.close()
                self._news.notify_all()

    # -- used by exchange and the body (all under the lock) -------------------------------------------------

    def _flush(self) -> None:
        while self._abandoned:
            self.h2.release(self._abandoned.popleft())
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.sock.sendall(data)

    def start(
        self,
        method: str,
        url: URL,
        authority: str,
        headers: list[tuple[str, str]],
        end: bool,
        options: SendOptions,
    ) -> H2Stream:
        wait: WaitLimit | None = None
        with self._lock:
            # Closed after the pool lent it to this thread (the last stream of a connection the pool had
            # given up on closes it): the request goes on another connection, as after a GOAWAY.
            while self.closed or not self.h2.can_open_stream():
                if self.closed or self.h2.error is not None or self.h2.goaway:
                    raise StaleConnection(
                        ConnectionError("the HTTP/2 connection was closed"), unprocessed=True
                    )
                # Threads may be lent the connection faster than they open streams on it: wait for one.
                if wait is None:
                    wait = WaitLimit(
                        H2_STREAM,
                        options,
                        f"no HTTP/2 stream to {authority} became free within {options.timeout.pool}s "
                        "(the server's MAX_CONCURRENT_STREAMS)",
                    )
                self._news.wait(wait.left())
            scheme = url.scheme if url.scheme != UNIX_SCHEME else "http"  # http+unix is http on the wire
            stream = self.h2.send_request(method, scheme, authority, url.target, headers, end_stream=end)
            self._send_pending(options)
            return stream

    def send_body(self, stream: H2Stream, body: bytes | RequestBody, options: SendOptions) -> None:
        chunks: Iterator[bytes] = iter((body,)) if isinstance(body, bytes) else iter(body)
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                with self._lock:
                    if stream.error is not None or stream.status is not None:
                        return  # reset, or answered early: stop sending
                    window = self.h2.send_window(stream)
                    if window > 0:
                        self.h2.send_data(stream, bytes(view[:window]))
                        self._send_pending(options)
                        view = view[window:]
                        continue
                self.wait(
                    lambda: self.h2.send_window(stream) > 0 or stream.error is not None,
                    options,
                    H2_FLOW_CONTROL,
                )
        with self._lock:
            if stream.error is None and not self.closed:
                self.h2.end_stream(stream)
                self._send_pending(options)

    def _send_pending(self, options: SendOptions) -> None:
        self.sock.settimeout(SENDING.budget(options))
        try:
            self._flush()
        except TimeoutError:
            raise SENDING.timed_out(options) from None
        except OSError as exc:
            self.h2.fail(ConnectionError(f"the HTTP/2 connection broke while sending: {exc}"))
            raise ConnectionError(f"the HTTP/2 connection broke while sending: {exc}") from exc

    def take(self, stream: H2Stream) -> bytes:
        with self._lock:
            data = self.h2.take_body(stream)
            if data:
                self._flush()  # window updates
            return data

    def release(self, stream: H2Stream) -> None:
        with self._lock:
            self.h2.release(stream)
            self._news.notify_all()  # a thread may wait for a free stream
            try:
                self._flush()
            except OSError:
                pass

    def abandon(self, stream: H2Stream) -> None:
        self._abandoned.append(stream)  # from __del__: no locking here; released by the next flush

    def ready(self, options: SendOptions) -> None:
        """Wait for the server's first SETTINGS (within the connect timeout), so the pool never lends out
        more streams than the server allows; close the connection and raise if it fails."""
        try:
            self.wait(lambda: self.h2.settings_received, options, H2_SETTINGS)
            if self.h2.error is not None:
                raise self.h2.error
        except BaseException:
            self.close()
            raise

    def wait(
        self, ready: Callable[[], bool], options: SendOptions, phase: Phase = WAITING_FOR_RESPONSE
    ) -> None:
        """Block until ``ready()`` (checked under the lock), reading from the socket when it is our turn."""
        wait = WaitLimit(phase, options)
        with self._lock:
            while not ready():
                if self.h2.error is not None:
                    return  # the caller finds the error on its stream
                remaining = wait.left()
                if self._reading:
                    self._news.wait(remaining)
                    continue
                self._read(remaining)

    def _read(self, remaining: float | None) -> None:
        """Wait (lock released) until the socket is readable, then read and feed it (lock held)."""
        self._reading = True
        try:
            pending = getattr(self.sock, "pending", None)
            if not (pending is not None and pending()):
                self._lock.release()
                try:
                    ready = self._poll.poll(None if remaining is None else max(0, remaining) * 1000)
                finally:
                    self._lock.acquire()
                if not ready:
                    return
            if self.closed:
                return
            try:
                self.sock.settimeout(remaining)
                data = self.sock.recv(262144)
            except TimeoutError:
                return
            except OSError as exc:
                self.h2.fail(ConnectionError(f"the HTTP/2 connection broke: {exc}"))
                return
            if data:
                self.h2.receive(data)
                try:
                    self._flush()
                except OSError:
                    pass
            else:
                self.h2.connection_lost()
        finally:
            self._reading = False
            self._news.notify_all()


def exchange(
    transport: SyncTransport,
    key: Hashable,
    conn: SyncH2Connection,
    request: PreparedRequest,
    body: bytes | RequestBody | None,
    url: URL,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Run ``request`` as a stream on ``conn``; return the response once its head has arrived."""
    method, authority, headers = h2_request(request, url, options)
    stream = conn.start(method, url, authority, headers, body is None, options)
    try:
        if body is not None:
            conn.send_body(stream, body, options)
        timings.request_sent = time.monotonic() - timings.start
        conn.wait(lambda: stream.status is not None or stream.error is not None, options)
        if stream.status is None:
            raise_stream_error(stream)
    except BaseException:
        conn.release(stream)
        raise
    reader = _SyncH2Body(transport, key, conn, stream, options, timings)
    return h2_response(stream, reader, request, timings, conn.info)


class _SyncH2Body(H2Body[SyncH2Connection]):
    """The body of one HTTP/2 response, read from its stream."""

    __slots__ = ("__weakref__",)

    def __iter__(self) -> Iterator[bytes]:
        stream, conn = self._stream, self._conn
        try:
            while True:
                data = conn.take(stream)
                if data:
                    yield data
                    continue
                if stream.complete:
                    break
                if stream.error is not None:
                    raise stream.error
                conn.wait(
                    lambda: bool(stream.body) or stream.complete or stream.error is not None,
                    self._options,
                    READING_BODY,
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
