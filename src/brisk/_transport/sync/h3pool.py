"""The sync transport's HTTP/3 route: which requests go over QUIC (``brisk._transport.altsvc.Routes``),
the pooled QUIC connections (in the transport's own ``PoolState``, under its lock), and the fallback to TCP
when a QUIC attempt found by Alt-Svc fails. The asyncio twin is ``brisk._transport.asyncio.h3pool``."""

from __future__ import annotations

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
    from brisk._transport.base import SendOptions
    from brisk._transport.sync.h3 import SyncH3Connection
    from brisk._transport.sync.transport import SyncTransport
    from brisk.models import PreparedRequest, Response

__all__ = ["handle_h3"]


class _QuicUnavailable(Exception):
    pass


def handle_h3(transport: SyncTransport, request: PreparedRequest, options: SendOptions) -> Response:
    """Send ``request`` of a session with ``http3`` on: over QUIC when its origin speaks HTTP/3 (prior
    knowledge, or a remembered Alt-Svc), else over TCP, learning the origin's Alt-Svc."""
    url: URL = request._url  # type: ignore[assignment]
    routes = routes_of(transport)
    config = options.config
    port = routes.h3_port(url, config, time.monotonic())
    if port is not None:
        load()
        try:
            response = _over_quic(transport, request, options, url, port)
        except _QuicUnavailable:
            routes.alt_svc.failed((url.host, url.effective_port), time.monotonic())
            log = debug_logger()
            if log is not None:
                log.debug("HTTP/3 to %s failed: falling back to TCP", url.host_header)
        else:
            routes.learn(url, config, response.headers, time.monotonic())
            return response
    response = transport.handle_request(request, routes.tcp(options))
    routes.learn(url, config, response.headers, time.monotonic())
    return response


def _over_quic(
    transport: SyncTransport, request: PreparedRequest, options: SendOptions, url: URL, port: int
) -> Response:
    from brisk._transport.sync import h3

    key = ("h3", url.host, port, options.config)
    timings = Timings(time.monotonic())
    try:
        conn = _acquire(transport, key, url, port, options, timings)
    except RequestException as exc:
        if options.config.http3 != PRIOR_KNOWLEDGE:
            raise _QuicUnavailable from exc
        add_url_context(exc, url, request)
        raise
    try:
        return h3.exchange(transport, key, conn, request, request_body(request), url, options, timings)
    except BaseException as exc:
        transport._finish(key, conn, conn.looks_alive())  # type: ignore[arg-type]
        if isinstance(exc, RequestException):
            add_url_context(exc, url, request)
        raise


def _acquire(
    transport: SyncTransport,
    key: tuple[object, ...],
    url: URL,
    port: int,
    options: SendOptions,
    timings: Timings,
) -> SyncH3Connection:
    wait: WaitLimit | None = None
    while True:
        now = time.monotonic()
        with transport._lock:
            if transport._closed:
                raise RuntimeError(CLOSED_MESSAGE)
            conn, may_open, to_close = transport._state.acquire(key, now, True)
            if conn is None and not may_open:
                if wait is None:
                    wait = WaitLimit(POOL, options, pool_exhausted(url, options))
                transport._waiting += 1
                try:
                    transport._freed.wait(wait.left())
                finally:
                    transport._waiting -= 1
                continue
        for old in to_close:
            old.close()
        if conn is None:
            return _open(transport, key, url, port, options, timings)
        if conn.looks_alive():
            timings.reused = True
            return conn  # type: ignore[return-value]
        transport._drop_dead(key, conn)


def _open(
    transport: SyncTransport,
    key: tuple[object, ...],
    url: URL,
    port: int,
    options: SendOptions,
    timings: Timings,
) -> SyncH3Connection:
    from brisk._transport.sync.h3 import open_h3

    try:
        if options.config.http3 == PRIOR_KNOWLEDGE:
            conn = open_h3(url, port, options, timings)
        else:
            try:
                conn = open_h3(url, port, options, timings, ATTEMPT_LIMIT)
            except RequestException:
                raise _QuicUnavailable from None
    except BaseException:
        transport._give_back(key, None)
        raise
    transport._log_opened(url, options, timings)
    with transport._lock:
        transport._state.opened(key, conn)  # type: ignore[arg-type]
        if transport._waiting:
            transport._freed.notify_all()
    return conn
