"""The asyncio transport's HTTP/3 route: which requests go over QUIC (``brisk._transport.altsvc.Routes``),
the pooled QUIC connections (in the transport's own ``PoolState``, so ``Limits`` count them), and the
fallback to TCP when a QUIC attempt found by Alt-Svc fails."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from brisk._core.error_context import add_url_context
from brisk._core.log import debug_logger
from brisk._transport.altsvc import routes_of
from brisk._transport.base import PRIOR_KNOWLEDGE, Timings
from brisk._transport.deadline import POOL, WaitLimit
from brisk._transport.h3 import ATTEMPT_LIMIT, load
from brisk._transport.pooled import CLOSED_MESSAGE, pool_exhausted
from brisk._transport.wire import request_body
from brisk.exceptions import RequestException

if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.asyncio.h3 import AsyncH3Connection
    from brisk._transport.asyncio.transport import AsyncTransport
    from brisk._transport.base import SendOptions
    from brisk.models import PreparedRequest, Response

__all__ = ["handle_h3"]


class _QuicUnavailable(Exception):
    pass


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
            response = await _over_quic(transport, request, options, url, port)
        except _QuicUnavailable:
            routes.alt_svc.failed((url.host, url.effective_port), time.monotonic())
            log = debug_logger()
            if log is not None:
                log.debug("HTTP/3 to %s failed: falling back to TCP", url.host_header)
        else:
            routes.learn(url, config, response.headers, time.monotonic())
            return response
    response = await transport.handle_async_request(request, routes.tcp(options))
    routes.learn(url, config, response.headers, time.monotonic())
    return response


async def _over_quic(
    transport: AsyncTransport, request: PreparedRequest, options: SendOptions, url: URL, port: int
) -> Response:
    from brisk._transport.asyncio import h3

    key = ("h3", url.host, port, options.config)
    timings = Timings(time.monotonic())
    try:
        conn = await _acquire(transport, key, url, port, options, timings)
    except RequestException as exc:
        if options.config.http3 != PRIOR_KNOWLEDGE:
            raise _QuicUnavailable from exc
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
        conn, may_open, to_close = state.acquire(key, time.monotonic(), True)
        for old in to_close:
            old.close()
        if conn is not None:
            if conn.looks_alive():
                timings.reused = True
                return conn  # type: ignore[return-value]
            transport._drop_dead(key, conn)
        elif may_open:
            return await _open(transport, key, url, port, options, timings, loop)
        else:
            if wait is None:
                wait = WaitLimit(POOL, options, pool_exhausted(url, options))
            await transport._wait_for_slot(loop, wait.left())


async def _open(
    transport: AsyncTransport,
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
            try:
                async with asyncio.timeout(ATTEMPT_LIMIT):
                    opened = await open_h3(url, port, options, timings, loop)
            except TimeoutError:
                raise _QuicUnavailable from None
    except BaseException:
        transport._give_back(key, None)
        raise
    transport._log_opened(url, options, timings)
    transport._state.opened(key, opened)  # type: ignore[arg-type]
    transport._wake_waiters()  # everyone waiting for this origin can share it
    return opened
