"""HTTP/3 on asyncio: one ``AsyncH3Connection`` (a datagram protocol on a connected UDP socket) per
connection, many concurrent streams on it.

The sans-IO state (``brisk._protocol.http3.H3State``) does QUIC, TLS and QPACK; this module moves its
datagrams, runs its timer on the event loop, and wakes the stream a datagram changed. Requests that tasks
start in one turn of the loop leave in the same flush.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Hashable

from brisk._protocol.http3 import ALL, SEND_BACKLOG, H3State, H3Stream
from brisk._transport.asyncio.body import AsyncPulledBody
from brisk._transport.asyncio.waiting import TimedOut, bounded, wait_until_woken
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
from brisk.exceptions import ConnectionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._core.url import URL
    from brisk._request.body import RequestBody
    from brisk._transport.asyncio.transport import AsyncTransport
    from brisk._transport.base import SendOptions, Timings
    from brisk.models import PreparedRequest, Response

__all__ = ["AsyncH3Connection", "exchange", "open_h3"]

_MAX_DATAGRAM = 65536
_BATCH = 256  # datagrams taken per wake-up at most (then the loop runs other callbacks)


class AsyncH3Connection:
    """An HTTP/3 connection: datagrams go to the sans-IO state, waiting streams are woken.

    The UDP socket is read by the connection itself (``loop.add_reader``) rather than through an asyncio
    datagram transport, which takes one datagram per wake-up: here each wake-up takes every datagram
    waiting (a burst of a download's packets), and answers them with one round of acknowledgements."""

    multiplexed = True
    http_version = "HTTP/3"

    def __init__(
        self, loop: asyncio.AbstractEventLoop, state: H3State, peer: Any, sock: socket.socket
    ) -> None:
        self.loop = loop
        self.state = state
        self.peer = peer
        self.sock = sock
        self.info: Any = None
        self.idle_since = 0.0
        self.served = 0
        self.closed = False
        self._waiters: dict[int, asyncio.Future[None]] = {}  # stream id -> waiter; ALL: the handshake
        self._flush_pending = False
        self._timer: asyncio.TimerHandle | None = None
        self._uploading = 0  # uploads waiting for acknowledgements (waiter keys below 0)
        loop.add_reader(sock.fileno(), self._readable)

    # -- the socket ---------------------------------------------------------------------------------------

    def _readable(self) -> None:
        state, sock, peer = self.state, self.sock, self.peer
        touched: set[int] = set()
        for _ in range(_BATCH):
            try:
                data = sock.recv(_MAX_DATAGRAM)
            except BlockingIOError:
                break
            except OSError as exc:
                # A connected UDP socket reports the peer's ICMP "port unreachable" (nothing listens).
                state.connection_lost(f"the HTTP/3 server cannot be reached over UDP: {exc}")
                touched.add(ALL)
                break
            touched |= state.receive(data, peer, self.loop.time())
        if self._uploading:
            touched.update(key for key in self._waiters if key < 0)  # uploads waiting for acknowledgements
        self._touched(touched)
        self.write_now()

    # -- pool protocol ------------------------------------------------------------------------------------

    def has_capacity(self) -> bool:
        return not self.closed and self.state.can_open_stream()

    def looks_alive(self) -> bool:
        return not self.closed and self.state.error is None and not self.state.goaway

    @property
    def open_streams(self) -> int:
        return self.state.open_streams

    def close(self) -> None:
        if not self.closed:
            self._cancel_timer()
            try:
                self.state.close()
                self._send_datagrams()  # the CONNECTION_CLOSE (no timer: the loop may be closed already)
            finally:
                self.closed = True
                try:
                    self.loop.remove_reader(self.sock.fileno())
                except (RuntimeError, AttributeError, ValueError):  # the loop is closed already
                    pass
                self.sock.close()
            self._wake_all()

    def release(self, stream: H3Stream) -> None:
        self.state.release(stream)
        self.flush()

    # -- plumbing -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        if not self._flush_pending and not self.closed:
            self._flush_pending = True
            self.loop.call_soon(self.write_now)

    def write_now(self) -> None:
        self._flush_pending = False
        if not self.closed:
            self._send_datagrams()
            self._arm_timer()

    def _send_datagrams(self) -> None:
        send = self.sock.send
        for data, _ in self.state.datagrams(self.loop.time()):
            try:
                send(data)
            except BlockingIOError:  # the socket's buffer is full: a loss, which QUIC recovers from
                pass
            except OSError as exc:
                self.state.connection_lost(f"the HTTP/3 server cannot be reached over UDP: {exc}")
                self._wake_all()
                break

    def _arm_timer(self) -> None:
        when = self.state.timer()
        timer = self._timer
        if timer is not None:
            if when is not None and timer.when() == when:
                return
            timer.cancel()
            self._timer = None
        if when is not None and not self.closed:
            self._timer = self.loop.call_at(when, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        self._touched(self.state.on_timer(self.loop.time()))
        self.write_now()

    def _touched(self, touched: set[int]) -> None:
        if ALL in touched:
            self._wake_all()
        else:
            for stream_id in touched:
                waiter = self._waiters.pop(stream_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    def _wake_all(self) -> None:
        waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, key: int, phase: Phase, options: SendOptions) -> None:
        """Wait for news on stream ``key`` (``ALL``: on the connection) within ``phase``'s budget."""
        waiter = self._waiters[key] = self.loop.create_future()
        try:
            await wait_until_woken(waiter, phase.budget(options))
        except TimedOut:
            raise phase.timed_out(options) from None
        finally:
            if self._waiters.get(key) is waiter:
                del self._waiters[key]


async def open_h3(
    url: URL, port: int, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
) -> AsyncH3Connection:
    """A QUIC connection to ``url``'s origin with its handshake done (bounded by ``Timeout.connect``)."""
    config = options.config
    quic = quic_configuration(config, url.host)
    if options.timeout.read is not None:
        quic.idle_timeout = max(30.0, options.timeout.read)
    attempts = AddressLoop(url.host, port, options, timings)
    infos = attempts.addresses
    if infos is None:  # the session's resolver, or getaddrinfo, in the default executor (as TCP does)
        try:
            infos = await bounded(loop.run_in_executor(None, attempts.lookup), attempts.deadline)
        except TimedOut:
            raise attempts.resolving_timed_out() from None
    sock, peer = udp_socket(attempts, infos, options)
    state = H3State(quic, options.limits)
    try:
        conn = AsyncH3Connection(loop, state, peer, sock)
    except BaseException:
        sock.close()
        raise
    handshake_start = time.monotonic()
    try:
        state.connect(peer, loop.time())
        conn.write_now()
        while not state.handshake_done:
            if state.error is not None:
                raise handshake_failed(state, url.host)
            await conn.wait(ALL, HANDSHAKE, options)
        if state.alpn != "h3":
            raise ConnectionError(
                f"the server at {url.host_header} did not agree to HTTP/3 (ALPN {state.alpn!r})"
            )
        check_pins(state, url, config)
        conn.info = connection_info(state, _address(sock.getpeername()), _address(sock.getsockname()))
    except BaseException:
        conn.close()
        raise
    timings.connect = time.monotonic() - handshake_start
    return conn


def _address(address: Any) -> Any:
    return (address[0], address[1]) if isinstance(address, tuple) else None


async def exchange(
    transport: AsyncTransport,
    key: Hashable,
    conn: AsyncH3Connection,
    request: PreparedRequest,
    body: bytes | RequestBody | None,
    url: URL,
    options: SendOptions,
    timings: Timings,
) -> Response:
    """Send ``request`` as a new stream on ``conn`` and return its response once the head arrives."""
    method, authority, headers = h2_request(request, url, options)
    state = conn.state
    stream = state.send_request(method, "https", authority, url.target, headers, end_stream=body is None)
    conn.flush()
    try:
        if body is not None:
            await _send_body(conn, stream, body, options)
        timings.request_sent = time.monotonic() - timings.start
        while stream.status is None:
            error = stream.error
            if error is not None:
                if stream.unprocessed:
                    raise StaleConnection(error, unprocessed=True)
                raise error
            await conn.wait(stream.id, WAITING_FOR_RESPONSE, options)
    except BaseException:
        conn.release(stream)
        raise
    reader = _AsyncH3Body(transport, key, conn, stream, options, timings)  # type: ignore[arg-type]
    return h3_response(stream, reader, request, timings, conn.info)


async def _send_body(
    conn: AsyncH3Connection, stream: H3Stream, body: bytes | RequestBody, options: SendOptions
) -> None:
    state = conn.state
    if isinstance(body, bytes):
        state.send_data(stream, body, end_stream=True)
        conn.flush()
        return
    async for chunk in body:
        if stream.error is not None or stream.status is not None or conn.closed:
            return
        if chunk:
            state.send_data(stream, chunk, end_stream=False)
            conn.write_now()
            while state.send_backlog(stream) > SEND_BACKLOG and not conn.closed:
                conn._uploading += 1
                try:  # woken by the next datagrams (acknowledgements); the key -1 - id is this upload's
                    await conn.wait(-1 - stream.id, SENDING, options)
                finally:
                    conn._uploading -= 1
    state.send_data(stream, b"", end_stream=True)
    conn.flush()


class _AsyncH3Body(H3Body[AsyncH3Connection], AsyncPulledBody):
    """The body of one HTTP/3 response, read from its stream."""

    __slots__ = ()

    async def _fill(self) -> None:
        stream = self._stream
        if stream.error is not None:
            raise stream.error
        self._conn.flush()  # what the reader took reopens the stream's window (MAX_STREAM_DATA)
        await self._conn.wait(stream.id, READING_BODY, self._options)

    def __del__(self) -> None:
        if not self._done:
            self._done = True
            try:
                self._conn.loop.call_soon(self._release_later)
            except RuntimeError:
                pass

    def _release_later(self) -> None:
        self._conn.release(self._stream)
        self._transport._finish(self._key, self._conn, self._conn.looks_alive())
