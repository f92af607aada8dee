"""The WebSocket client on asyncio: the upgrade transport and ``AsyncWebSocket``.

The connection is an ``asyncio.Protocol`` swapped in for brisk's HTTP/1.1 protocol once the connection is
open (DNS, TCP, TLS and proxies are the transport's own code). Bytes go from the socket into ``core`` in the
callback, pongs and close answers go out at once, and a reader waits on one future for the next message.
The policy is ``core``'s, shared with the sync driver.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Generator

from brisk._flows import run_async
from brisk._flows.request import request_flow
from brisk._protocol.http11 import encode_request_head
from brisk._transport.asyncio.connect import open_connection, start_connection
from brisk._transport.asyncio.h1 import AsyncH1Connection, _read_buffer
from brisk._transport.base import Timings
from brisk._transport.deadline import WAITING_FOR_RESPONSE
from brisk._transport.facts import of_transport
from brisk._transport.sync.busypoll import BusyPoll
from brisk._transport.wire import request_line_and_headers
from brisk._websocket.core import Core, HeadReader, KeepAlive
from brisk._websocket.handshake import Plan, handshake_response, split_options, upgrade_options
from brisk.exceptions import ReadTimeout, WebSocketClosed, WriteTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._transport.base import SendOptions
    from brisk.models import PreparedRequest, Response

__all__ = ["AsyncWebSocket", "AsyncWebSocketConnect"]

_GONE_WAIT = 5.0  # longest wait for the transport to close its socket after close()
_HIGH_WATER = 4 * 1024 * 1024  # bytes of unread messages before reading from the socket pauses


class _Protocol(asyncio.BufferedProtocol):
    """The connection from the handshake's answer on: the head (``reader``), then frames (``core``).

    A buffered protocol, as brisk's HTTP/1.1 one and for its reason (see ``_read_buffer`` there): reads
    land in the thread's shared buffer and the protocol copies them into its own, no 256 KiB allocation
    per read."""

    def __init__(self, transport: asyncio.Transport, reader: HeadReader) -> None:
        self.transport = transport
        self.reader = reader
        self.core: Core | None = None
        self.error: BaseException | None = None  # a bad handshake answer
        self.done = False  # the handshake's answer is complete
        self.lost = False
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._write_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._gone: asyncio.Future[None] | None = None
        self._buffer = _read_buffer()
        self.write_timeout: float | None = None  # the handshake's timeout.write, for the WebSocket's sends
        self.busy: tuple[BusyPoll, float] | None = None  # busy polling before a wait, and its budget

    # -- asyncio.BufferedProtocol ----------------------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self._buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        core = self.core
        if core is None:
            self._head_data(bytes(data))
            return
        core.receive_data(data)
        self.flush()
        if core.queued > _HIGH_WATER and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self.wake()

    def _head_data(self, data: bytes) -> None:
        try:
            self.done = self.reader.feed(data)
        except Exception as exc:
            self.error = exc
        self.wake()

    def eof_received(self) -> bool:
        if self.core is None:
            if not self.done and self.error is None:
                try:
                    self.reader.feed_eof()
                    self.done = True
                except Exception as exc:
                    self.error = exc
        else:
            self.core.receive_eof()
            self.flush()
        self.wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._gone is not None and not self._gone.done():
            self._gone.set_result(None)
        if self.core is not None and self.core.error is None:
            self.core.receive_eof()
        elif self.core is None and not self.done and self.error is None:
            self.error = exc or ConnectionResetError("the connection was lost during the WebSocket handshake")
        self.wake()
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- for the WebSocket -------------------------------------------------------------------------------

    def flush(self) -> None:
        core = self.core
        assert core is not None
        data, eof = core.take_writes()
        if self.lost:
            return
        if data:
            self.transport.write(data)
        if eof and self.transport.can_write_eof():
            self.transport.write_eof()

    async def drained(self, write_timeout: float | None) -> bool:
        """Wait while the transport's write buffer is over its high-water mark; False when the peer took
        nothing for ``write_timeout`` seconds meanwhile (None: wait as long as it takes)."""
        while self._write_paused and not self.lost:
            self._drain = drain = asyncio.get_running_loop().create_future()
            if write_timeout is None:
                await drain
                continue
            before = self.transport.get_write_buffer_size()
            try:
                async with asyncio.timeout(write_timeout):
                    await drain
            except TimeoutError:
                if self.transport.get_write_buffer_size() >= before:
                    return False  # not a byte taken in all that time
        return True

    async def gone(self) -> None:
        """Wait (briefly) until the transport has closed the socket: asyncio does it on a later turn of
        the loop, and a loop that stops first would leave it open."""
        if self.lost:
            return
        self._gone = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(_GONE_WAIT):
                await self._gone
        except TimeoutError:
            self.transport.abort()  # a TLS close_notify the peer never answered, say

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None) -> bool:
        """Wait for something to happen; False when ``timeout`` passed first."""
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            if timeout is None:
                await waiter
                return True
            try:
                async with asyncio.timeout(timeout):
                    await waiter
            except TimeoutError:
                return False
            return True
        finally:
            self._waiter = None

    def took(self) -> None:
        """A message was taken: read again if the queue is short enough."""
        core = self.core
        if self._paused and core is not None and core.queued <= _HIGH_WATER // 2:
            self._paused = False
            self.transport.resume_reading()


def _busy_poll(
    transport: asyncio.Transport, connect_time: float, budget: float
) -> tuple[BusyPoll, float] | None:
    """The busy polling of a connection's waits for a message, or None (off, or no socket to poll)."""
    sock = transport.get_extra_info("socket")
    if not budget or sock is None:
        return None
    try:
        poll = BusyPoll.poll_for(sock)
    except (OSError, ValueError, AttributeError):
        return None
    return BusyPoll(sock, poll, connect_time, budget, pollable=True), budget


class _AsyncUpgradeTransport:
    """Sends each attempt of the handshake on a new connection; keeps the connection of a 101."""

    def __init__(self, opener: Any = None) -> None:
        self.upgraded: dict[int, _Protocol] = {}
        self._opener = opener  # a mock's socket maker, or None

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        url, options = upgrade_options(request, options)
        timings = Timings(time.monotonic())
        target, headers = request_line_and_headers(request, url, options)
        head = encode_request_head("GET", target, headers)
        loop = asyncio.get_running_loop()
        if self._opener is None:
            conn = await open_connection(url, options, timings, loop)  # http/1.1 only: ALPN offers no h2
        else:
            sock = self._opener(request)
            sock.setblocking(False)
            conn = await start_connection(sock, None, url.host, options, timings, loop)
        assert isinstance(conn, AsyncH1Connection)
        transport = conn.transport
        assert transport is not None
        protocol = _Protocol(transport, HeadReader(options.limits))
        transport.set_protocol(protocol)
        try:
            for data in conn.early:
                protocol.data_received(data)
            transport.write(head)
            budget = WAITING_FOR_RESPONSE.budget(options)
            deadline = None if budget is None else time.monotonic() + budget
            while not protocol.done and protocol.error is None:
                left = None if deadline is None else deadline - time.monotonic()
                if (left is not None and left <= 0) or not await protocol.wait(left):
                    raise WAITING_FOR_RESPONSE.timed_out(options)
            if protocol.error is not None:
                raise protocol.error
        except BaseException:
            transport.abort()
            raise
        response = handshake_response(protocol.reader, request, timings, of_transport(transport))
        if protocol.reader.head is None:
            transport.close()
        else:
            protocol.write_timeout = options.timeout.write
            protocol.busy = _busy_poll(transport, timings.connect, options.limits.busy_poll)
            self.upgraded[id(response)] = protocol
        return response

    async def aclose(self) -> None:
        for protocol in self.upgraded.values():
            protocol.transport.abort()
        self.upgraded.clear()


class AsyncWebSocketConnect:
    """What ``AsyncSession.websocket`` returns: ``async with`` it (closed on exit) or ``await`` it."""

    def __init__(self, session: Any, url: Any, options: dict[str, Any]) -> None:
        self._session = session
        self._url = url
        self._options = options
        self._ws: AsyncWebSocket | None = None

    async def _connect(self) -> AsyncWebSocket:
        plan, settings = split_options(self._session, self._url, self._options)
        return await connect(plan, settings)

    def __await__(self) -> Generator[Any, None, AsyncWebSocket]:
        return self._connect().__await__()

    async def __aenter__(self) -> AsyncWebSocket:
        self._ws = await self._connect()
        return self._ws

    async def __aexit__(self, *args: object) -> None:
        if self._ws is not None:
            await self._ws.close()


async def connect(plan: Plan, settings: dict[str, Any]) -> AsyncWebSocket:
    """Run the handshake of ``plan`` and open the WebSocket."""
    transport = _AsyncUpgradeTransport(plan.opener)
    try:
        response = await run_async(request_flow(plan.request, plan.settings), transport)
        subprotocol, extensions = plan.handshake.check(response, plan.url)
        protocol = transport.upgraded.pop(id(response))
    finally:
        await transport.aclose()
    core = protocol.core = Core(extensions, plan.handshake.max_size)
    ws = AsyncWebSocket(
        protocol, response, subprotocol, plan.url, **settings, write_timeout=protocol.write_timeout
    )
    rest = protocol.reader.rest
    if rest:
        core.receive_data(rest)
        protocol.flush()
    if protocol.lost:
        core.receive_eof()
    return ws


class AsyncWebSocket:
    """An open WebSocket connection on asyncio (``AsyncSession.websocket``).

    >>> async with session.websocket("wss://example.com/feed") as ws:
    ...     await ws.send("hello")
    ...     async for message in ws:
    ...         print(message)
    """

    def __init__(
        self,
        protocol: _Protocol,
        response: Response,
        subprotocol: str | None,
        url: str,
        *,
        close_timeout: float | None = 10.0,
        ping_interval: float | None = None,
        ping_timeout: float | None = 20.0,
        write_timeout: float | None = None,
    ) -> None:
        self._protocol = protocol
        assert protocol.core is not None
        self._core = protocol.core
        self._closed = False
        self.url = url
        self.response = response
        self.subprotocol = subprotocol
        self.close_timeout = close_timeout
        #: The longest a send may wait for the peer to take any of its bytes (the handshake's
        #: ``timeout.write``); then WriteTimeout, and the connection is closed. None: no limit.
        self.write_timeout = write_timeout
        self._timer: asyncio.TimerHandle | None = None
        if ping_interval is not None:
            loop = asyncio.get_running_loop()
            self._keepalive = KeepAlive(ping_interval, ping_timeout, loop.time())
            self._timer = loop.call_at(self._keepalive.next_ping, self._ping)

    @property
    def close_code(self) -> int | None:
        """The peer's close code once the connection is closed (1006: closed without a close frame)."""
        return self._core.close_code

    @property
    def close_reason(self) -> str | None:
        return self._core.close_reason

    @property
    def closed(self) -> bool:
        return self._closed

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; WebSocketClosed once the connection is closed."""
        core = self._core
        core.check_open()
        if self._closed:  # by brisk: a send that timed out, say
            raise WebSocketClosed("the WebSocket connection is closed", code=core.close_code or 1006)
        pieces = core.encode(message)
        protocol = self._protocol
        if not protocol.lost:
            # One write per piece: writelines() joins them (on Python 3.11), a copy of a large payload
            write = protocol.transport.write
            for piece in pieces:
                write(piece)
        if protocol._write_paused and not await protocol.drained(self.write_timeout):
            self._shut()
            protocol.transport.abort()  # what is still buffered will not go: half a frame, perhaps
            raise WriteTimeout(
                f"the WebSocket peer at {self.url} took no data for {self.write_timeout} s (write timeout) "
                "while a message was being sent; the connection was closed"
            )

    async def ping(self, data: bytes = b"") -> None:
        self._core.check_open()
        self._core.ping(data)
        self._protocol.flush()

    async def receive(self, timeout: float | None = None) -> str | bytes:
        """The next message (str or bytes); see ``WebSocket.receive``."""
        core = self._core
        protocol = self._protocol
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            message = core.next_message()
            if message is not None:
                protocol.took()
                return message
            if core.error is not None:
                self._shut()
                raise core.error
            if self._closed or protocol.lost:
                raise WebSocketClosed("the WebSocket connection is closed", code=core.close_code or 1006)
            left = None if give_up is None else give_up - time.monotonic()
            busy = protocol.busy
            if busy is not None and not protocol._paused:
                # The loop would sleep in the kernel until the answer comes: poll for it first (the loop
                # then finds it ready), with HTTP/1.1's sync policy (``Limits.busy_poll``)
                budget = busy[1]
                busy[0].before_read(budget if left is None else min(budget, max(left, 0.0)))
            if (left is not None and left <= 0) or not await protocol.wait(left):
                raise ReadTimeout(f"no WebSocket message within {timeout} s")

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str | bytes]:
        while True:
            try:
                yield await self.receive()
            except WebSocketClosed:
                if self._core.iteration_ends():
                    return
                raise

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame, wait up to ``close_timeout`` for the peer's, close the connection."""
        core = self._core
        protocol = self._protocol
        if self._closed:
            await protocol.gone()
            return
        try:
            core.close(code, reason)
            protocol.flush()
            give_up = None if self.close_timeout is None else time.monotonic() + self.close_timeout
            while not core.close_received and not protocol.lost:
                # Unread messages are dropped, and reading resumes if they had paused it: the peer's
                # close frame comes after them.
                core.messages.clear()
                core.queued = 0
                protocol.took()
                left = None if give_up is None else give_up - time.monotonic()
                if (left is not None and left <= 0) or not await protocol.wait(left):
                    break  # the peer never answered
        finally:
            self._shut()
            await protocol.gone()

    async def __aenter__(self) -> AsyncWebSocket:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()

    def _ping(self) -> None:
        if self._closed:
            return
        keepalive = self._keepalive
        wake = keepalive.step(self._core, asyncio.get_running_loop().time())
        self._protocol.flush()
        if wake is None:
            self._protocol.wake()  # a late pong failed the connection: the reader learns it now
            return
        self._timer = asyncio.get_running_loop().call_at(wake, self._ping)

    def _shut(self) -> None:
        if not self._closed:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            self._protocol.transport.close()

    def __repr__(self) -> str:
        return f"<AsyncWebSocket [{'closed' if self._closed else 'open'}] {self.url}>"
