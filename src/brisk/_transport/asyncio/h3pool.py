"""The asyncio transport's HTTP/3 route: which requests go over QUIC (``brisk._transport.altsvc.Routes``),
the pooled QUIC connections (in the transport's own ``PoolState``, so ``Limits`` count them), and the race
of a QUIC attempt found by Alt-Svc against TCP (``altsvc.Race`` decides; here are the tasks). The sync twin
is ``brisk._transport.sync.h3pool``."""

from __future__ import annotations

import asyncio
import time

from brisk._core.error_context import add_url_context
from brisk._transport.altsvc import QuicUnavailable, Race, routes_of
from brisk._transport.base import PRIOR_KNOWLEDGE, Timings
from brisk._transport.deadline import POOL, WaitLimit
from brisk._transport.h3 import load
from brisk._transport.pooled import CLOSED_MESSAGE, pool_exhausted
from brisk._transport.wire import request_body
from brisk.exceptions import RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Hashable
    from typing import Any

    from brisk._core.url import URL
    from brisk._transport.altsvc import Routes
    from brisk._transport.asyncio.h3 import AsyncH3Connection
    from brisk._transport.asyncio.transport import AsyncTransport
    from brisk._transport.base import SendOptions
    from brisk.models import PreparedRequest, Response

__all__ = ["handle_h3"]


async def handle_h3(transport: AsyncTransport, request: PreparedRequest, options: SendOptions) -> Response:
    """Send ``request`` of a session with ``http3`` on: over QUIC when its origin speaks HTTP/3 (prior
    knowledge, or a remembered Alt-Svc), else over TCP, learning the origin's Alt-Svc."""
    url: URL = request._url  # type: ignore[assignment]
    routes = routes_of(transport)
    config = options.config
    port = routes.h3_port(url, config, time.monotonic())
    if port is not None:
        load()
        try:
            response = await _over_quic(transport, routes, request, options, url, port)
        except QuicUnavailable as why:
            if not why.remembered:
                routes.quic_failed(url, str(why), time.monotonic())
        else:
            routes.learn(url, config, response.headers, time.monotonic())
            return response
    response = await transport.handle_async_request(request, routes.tcp(options))
    routes.learn(url, config, response.headers, time.monotonic())
    return response


async def _over_quic(
    transport: AsyncTransport,
    routes: Routes,
    request: PreparedRequest,
    options: SendOptions,
    url: URL,
    port: int,
) -> Response:
    from brisk._transport.asyncio import h3

    key = ("h3", url.host, port, options.config)
    timings = Timings(time.monotonic())
    try:
        conn = await _acquire(transport, routes, key, url, port, options, timings)
    except RequestException as exc:
        if options.config.http3 != PRIOR_KNOWLEDGE:
            raise QuicUnavailable(f"failed ({exc})") from exc
        add_url_context(exc, url, request)
        raise
    try:
        return await h3.exchange(transport, key, conn, request, request_body(request), url, options, timings)
    except BaseException as exc:
        transport._finish(key, conn, conn.looks_alive())  # type: ignore[arg-type]
        if isinstance(exc, RequestException):
            add_url_context(exc, url, request)
        raise


async def _acquire(
    transport: AsyncTransport,
    routes: Routes,
    key: tuple[object, ...],
    url: URL,
    port: int,
    options: SendOptions,
    timings: Timings,
) -> AsyncH3Connection:
    state = transport._state
    wait: WaitLimit | None = None
    loop = asyncio.get_running_loop()
    while True:
        if transport._closed:
            raise RuntimeError(CLOSED_MESSAGE)
        now = time.monotonic()
        if wait is not None and routes.h3_port(url, options.config, now) is None:
            # The QUIC attempt this request waited for failed: over TCP, as the requests after it go.
            why = QuicUnavailable("failed for another request meanwhile")
            why.remembered = True
            raise why
        conn, may_open, to_close = state.acquire(key, now, True)
        for old in to_close:
            old.close()
        if conn is not None:
            if conn.looks_alive():
                timings.reused = True
                return conn  # type: ignore[return-value]
            transport._drop_dead(key, conn)
        elif may_open:
            return await _open(transport, routes, key, url, port, options, timings, loop)
        else:
            if wait is None:
                wait = WaitLimit(POOL, options, pool_exhausted(url, options))
            await transport._wait_for_slot(loop, wait.left())


async def _open(
    transport: AsyncTransport,
    routes: Routes,
    key: tuple[object, ...],
    url: URL,
    port: int,
    options: SendOptions,
    timings: Timings,
    loop: asyncio.AbstractEventLoop,
) -> AsyncH3Connection:
    from brisk._transport.asyncio.h3 import open_h3

    try:
        if options.config.http3 == PRIOR_KNOWLEDGE:
            opened = await open_h3(url, port, options, timings, loop)
        else:
            opened = await _race(transport, routes, url, port, options, timings, loop)
    except BaseException:
        transport._give_back(key, None)
        raise
    transport._log_opened(url, options, timings)
    transport._state.opened(key, opened)  # type: ignore[arg-type]
    transport._wake_waiters()  # everyone waiting for this origin can share it
    return opened


async def _race(
    transport: AsyncTransport,
    routes: Routes,
    url: URL,
    port: int,
    options: SendOptions,
    timings: Timings,
    loop: asyncio.AbstractEventLoop,
) -> AsyncH3Connection:
    """The QUIC handshake, raced against a TCP connection started ``Race.delay`` after it: the QUIC
    connection if it wins; else ``QuicUnavailable``, with the TCP connection waiting in the pool for the
    request. The loser is closed, and both tasks are over when this returns."""
    from brisk._transport.asyncio.h3 import open_h3

    race = Race(options.timeout.connect)
    quic = loop.create_task(open_h3(url, port, options, timings, loop))
    tcp: asyncio.Task[tuple[Hashable, Any, bool]] | None = None
    give_up = loop.time() + race.limit
    won: AsyncH3Connection | None = None
    try:
        await asyncio.wait({quic}, timeout=race.delay)
        while True:
            if quic.done():
                race.quic = not quic.cancelled() and quic.exception() is None
            if tcp is not None and tcp.done():
                race.tcp = not tcp.cancelled() and tcp.exception() is None
            if race.winner is not None:
                break
            left = give_up - loop.time()
            if left <= 0:
                race.quic = False
                break
            if tcp is None:
                tcp = loop.create_task(_tcp_connection(transport, routes, url, options))
            waiting = {quic} if race.tcp is False else {quic, tcp}
            await asyncio.wait(waiting, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        if race.winner == "quic":
            won = quic.result()
            return won
    finally:
        await _settle(transport, quic, tcp, won, race.winner == "tcp")
    if quic.cancelled():
        raise QuicUnavailable("lost the race to TCP" if race.tcp else "timed out")
    error = quic.exception()
    raise QuicUnavailable(f"failed ({error})") from error


async def _settle(
    transport: AsyncTransport,
    quic: asyncio.Task[AsyncH3Connection],
    tcp: asyncio.Task[tuple[Hashable, Any, bool]] | None,
    won: AsyncH3Connection | None,
    keep_tcp: bool,
) -> None:
    """The race is over (or called off): cancel what still runs, wait for it, close the losers' connections
    (a TCP connection that was pooled before the race goes back to the pool), and read every task's
    error so none is reported as never retrieved."""
    tasks = [task for task in (quic, tcp) if task is not None]
    for task in tasks:
        if not task.done():
            task.cancel()
    # The request may be cancelled while this waits: the clean-up is done all the same (the tasks, called
    # off, end promptly), then the cancellation goes on. Else a TCP connection the race took from the
    # pool would stay counted as in use, and open, for ever.
    interrupted: BaseException | None = None
    while not all(task.done() for task in tasks):
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError as exc:
            interrupted = exc
    for task in tasks:
        if not task.cancelled():
            task.exception()
    if won is None and not quic.cancelled() and quic.exception() is None:
        quic.result().close()  # done, but the request was called off meanwhile
    if tcp is not None and not tcp.cancelled() and tcp.exception() is None:
        key, conn, reused = tcp.result()
        transport._finish(key, conn, keep_tcp or reused)
    if interrupted is not None:
        if won is not None:
            won.close()  # the request that won it is called off: it is nobody's
        raise interrupted


async def _tcp_connection(
    transport: AsyncTransport, routes: Routes, url: URL, options: SendOptions
) -> tuple[Hashable, Any, bool]:
    """A TCP connection to ``url``'s origin, taken from the pool (opened if none is there), its pool key,
    and whether it was in the pool already."""
    tcp = routes.tcp(options)
    key = (url.scheme, url.host, url.effective_port, tcp.config)
    timings = Timings(time.monotonic())
    conn = await transport._acquire(key, url, tcp, timings)
    return key, conn, timings.reused
