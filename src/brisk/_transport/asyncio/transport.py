"""The asyncio transport: a pool of connections for one event loop, the rules of the sync pool
(``PoolState``), HTTP/1.1 (``asyncio.h1``) or HTTP/2 (``asyncio.h2``) on each connection.

Cancellation: any await can be cancelled (a task cancelled, a timeout). Every path that owns a connection
or a pool slot gives it back in ``except BaseException``: an unfinished exchange closes its connection,
a cancelled pool waiter passes its wake-up on. The pool never loses a slot and never hands out a
half-read connection.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._core.error_context import add_url_context
from brisk._transport.asyncio import h1
from brisk._transport.asyncio.connect import open_connection
from brisk._transport.asyncio.h1 import AsyncH1Connection
from brisk._transport.asyncio.waiting import TimedOut, wait_until_woken
from brisk._transport.asyncio.writes import WriteBatch
from brisk._transport.base import SendOptions, Timings
from brisk._transport.deadline import POOL, WaitLimit
from brisk._transport.pooled import CLOSED_MESSAGE, PooledTransport, pool_exhausted
from brisk._transport.wire import may_multiplex, request_body, request_head
from brisk.exceptions import RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.asyncio.h2 import AsyncH2Connection
    from brisk.models import PreparedRequest, Response

__all__ = ["AsyncTransport"]


if TYPE_CHECKING:
    _Pooled = PooledTransport[AsyncH1Connection | AsyncH2Connection]
else:  # the H2 class is loaded on demand (and at run time the subscript is the class: typing_lite)
    _Pooled = PooledTransport


class AsyncTransport(_Pooled):
    """A pool of HTTP/1.1 and HTTP/2 connections for one event loop."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.writes = WriteBatch()  # HTTP/1.1 request heads written together (writes.py)

    async def handle_async_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        if options.config.http3:  # HTTP/3 where the origin speaks it (its own module, loaded when used)
            from brisk._transport.asyncio.h3pool import handle_h3

            return await handle_h3(self, request, options)
        url: URL = request._url  # type: ignore[assignment]
        key = (url.scheme, url.host, url._port, options.config)  # (_port: effective_port, without a call)
        timings = Timings(time.monotonic())
        try:
            # Serialising validates the request (no CR/LF/NUL anywhere): fail before any connection is made.
            # Not needed when an HTTP/2 connection is pooled: its stream validates the same way before a
            # byte goes out, and an HTTP/1.1 head would be thrown away.
            head = None if self._state.speaks_multiplexed(key) else request_head(request, url, options)
            conn = await self._acquire(key, url, options, timings)
        except RequestException as exc:
            add_url_context(exc, url, request)
            raise
        try:
            if isinstance(conn, AsyncH1Connection):
                if head is None:  # the HTTP/2 connection went away meanwhile
                    head = request_head(request, url, options)
                return await h1.exchange(self, key, conn, request, head, options, timings)
            from brisk._transport.asyncio import h2  # the HTTP/2 machinery, loaded once a server speaks it

            return await h2.exchange(self, key, conn, request, request_body(request), url, options, timings)
        except BaseException as exc:
            # An HTTP/2 connection outlives one failed stream; an HTTP/1.1 one never does.
            self._finish(key, conn, conn.multiplexed and conn.looks_alive())
            if isinstance(exc, RequestException):
                add_url_context(exc, url, request)
            raise

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        for conn in self._state.drain():
            conn.close()
        self._wake_waiters()

    # -- pool ---------------------------------------------------------------------------------------------

    async def _acquire(
        self, key: Hashable, url: URL, options: SendOptions, timings: Timings
    ) -> AsyncH1Connection | AsyncH2Connection:
        wait: WaitLimit | None = None
        multiplex = may_multiplex(options.config, url)
        loop = asyncio.get_running_loop()
        while True:
            if self._closed:
                raise RuntimeError(CLOSED_MESSAGE)
            conn, may_open, to_close = self._state.acquire(key, time.monotonic(), multiplex)
            for old in to_close:
                old.close()
            if conn is not None:
                if conn.looks_alive():  # checked before every reuse, however recently it was released
                    timings.reused = True
                    return conn
                self._drop_dead(key, conn)
            elif may_open:
                return await self._open_reserved(key, url, options, timings, loop)
            else:
                if wait is None:
                    wait = WaitLimit(POOL, options, pool_exhausted(url, options))
                await self._wait_for_slot(loop, wait.left())

    async def _open_reserved(
        self, key: Hashable, url: URL, options: SendOptions, timings: Timings, loop: asyncio.AbstractEventLoop
    ) -> AsyncH1Connection | AsyncH2Connection:
        """Open a connection in the slot ``PoolState.acquire`` reserved, and tell the pool."""
        try:
            opened = await open_connection(url, options, timings, loop)
        except BaseException:
            self._give_back(key, None)
            raise
        self._log_opened(url, options, timings)
        self._state.opened(key, opened)
        if opened.multiplexed:
            self._wake_waiters()  # everyone waiting for this origin can share it
        return opened

    async def _wait_for_slot(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        """Wait until a connection is given back (or ``timeout`` passes: the caller looks again)."""
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            await wait_until_woken(waiter, timeout)
        except TimedOut:
            pass
        except BaseException:
            # Cancelled: if we had just been woken, pass the wake-up on so no slot goes unused.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._wake_one()
            raise
        finally:
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

    def _give_back(self, key: Hashable, conn: AsyncH1Connection | AsyncH2Connection | None) -> None:
        if not self._closed:
            self._state.discard(key, conn)
        self._wake_one()

    def _finish(self, key: Hashable, conn: AsyncH1Connection | AsyncH2Connection, reusable: bool) -> None:
        """A response is done with ``conn``: keep it for the next request or close it."""
        if isinstance(conn, AsyncH1Connection):
            reusable = conn.exchange_over(reusable)
        elif conn.closed or not conn.looks_alive():
            reusable = False
        must_close = True if self._closed else self._state.release(key, conn, reusable, time.monotonic())
        if must_close:
            self._close_used(key, conn, reusable)
        self._wake_one()
