"""The sync transport's HTTP/3 route: which requests go over QUIC (``brisk._transport.altsvc.Routes``),
the pooled QUIC connections (in the transport's own ``PoolState``, under its lock), and the race of a QUIC
attempt found by Alt-Svc against TCP (``altsvc.Race`` decides; the TCP connection is opened by a short-lived
thread while the request's own thread drives the QUIC handshake). The asyncio twin is
``brisk._transport.asyncio.h3pool``."""

from __future__ import annotations

import threading
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
    from brisk._transport.base import SendOptions
    from brisk._transport.sync.h3 import SyncH3Connection
    from brisk._transport.sync.transport import SyncTransport
    from brisk.models import PreparedRequest, Response

__all__ = ["handle_h3"]


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
            response = _over_quic(transport, routes, request, options, url, port)
        except QuicUnavailable as why:
            if not why.remembered:
                routes.quic_failed(url, str(why), time.monotonic())
        else:
            routes.learn(url, config, response.headers, time.monotonic())
            return response
    response = transport.handle_request(request, routes.tcp(options))
    routes.learn(url, config, response.headers, time.monotonic())
    return response


def _over_quic(
    transport: SyncTransport,
    routes: Routes,
    request: PreparedRequest,
    options: SendOptions,
    url: URL,
    port: int,
) -> Response:
    from brisk._transport.sync import h3

    key = ("h3", url.host, port, options.config)
    timings = Timings(time.monotonic())
    try:
        conn = _acquire(transport, routes, key, url, port, options, timings)
    except RequestException as exc:
        if options.config.http3 != PRIOR_KNOWLEDGE:
            raise QuicUnavailable(f"failed ({exc})") from exc
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
    routes: Routes,
    key: tuple[object, ...],
    url: URL,
    port: int,
    options: SendOptions,
    timings: Timings,
) -> SyncH3Connection:
    wait: WaitLimit | None = None
    while True:
        now = time.monotonic()
        if wait is not None:
            _check_still_quic(routes, url, options, now)
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
            return _open(transport, routes, key, url, port, options, timings)
        if conn.looks_alive():
            timings.reused = True
            return conn  # type: ignore[return-value]
        transport._drop_dead(key, conn)


def _check_still_quic(routes: Routes, url: URL, options: SendOptions, now: float) -> None:
    """After waiting for the QUIC connection another request was opening: if that attempt failed (the
    origin is now remembered as TCP only), this request goes over TCP too instead of trying again."""
    if routes.h3_port(url, options.config, now) is None:
        why = QuicUnavailable("failed for another request meanwhile")
        why.remembered = True
        raise why


def _open(
    transport: SyncTransport,
    routes: Routes,
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
            conn = _race(transport, routes, url, port, options, timings)
    except QuicUnavailable as why:
        # Remembered before the requests waiting for this attempt wake: they go over TCP, not try again.
        routes.quic_failed(url, str(why), time.monotonic())
        why.remembered = True
        transport._give_back(key, None)
        raise
    except BaseException:
        transport._give_back(key, None)
        raise
    transport._log_opened(url, options, timings)
    with transport._lock:
        transport._state.opened(key, conn)  # type: ignore[arg-type]
        if transport._waiting:
            transport._freed.notify_all()
    return conn


def _race(
    transport: SyncTransport, routes: Routes, url: URL, port: int, options: SendOptions, timings: Timings
) -> SyncH3Connection:
    """The QUIC handshake, raced against a TCP connection started ``Race.delay`` after it: the QUIC
    connection if it wins; else ``QuicUnavailable``, with the TCP connection waiting in the pool for the
    request. The QUIC connection is closed when it loses; a TCP connection that loses is closed by its
    thread when it is done connecting (a blocking connect cannot be called off)."""
    from brisk._transport.sync.h3 import _Limited, handshake, start_h3

    race = Race(options.timeout.connect)
    start = time.monotonic()
    tcp: _TcpAttempt | None = None
    try:
        conn = start_h3(url, port, options, timings)
    except RequestException as exc:
        raise QuicUnavailable(f"failed ({exc})") from exc
    try:
        try:
            race.quic = handshake(conn, url, options, timings, _Limited(race.delay))
        except RequestException as exc:
            if conn.state.error is not None or conn.state.handshake_done:  # failed, not merely slow
                race.quic = False
                raise QuicUnavailable(f"failed ({exc})") from exc
        if race.quic is None:
            tcp = _TcpAttempt(transport, routes, url, options)

            def tcp_ready() -> bool:
                race.tcp = tcp.outcome()
                return race.winner is not None

            left = max(0.0, race.limit - (time.monotonic() - start))
            try:
                if handshake(conn, url, options, timings, _Limited(left), tcp_ready):
                    race.quic = True
            except RequestException as exc:
                race.quic = False
                raise QuicUnavailable(f"failed ({exc})") from exc
            if race.winner != "quic":
                raise QuicUnavailable("lost the race to TCP")
    except BaseException:
        conn.close()
        raise
    finally:
        if tcp is not None:
            tcp.settle(race.winner == "tcp")
    return conn


class _TcpAttempt:
    """A TCP connection to the origin opened by a thread of its own, next to a QUIC handshake. ``settle``
    says whether the request takes it (it goes to the pool for it) or not (it is closed, unless it was in
    the pool before the race); the thread does that itself if it is still connecting then."""

    __slots__ = ("_conn", "_done", "_keep", "_key", "_lock", "_reused", "_routes", "_thread", "_transport")

    def __init__(self, transport: SyncTransport, routes: Routes, url: URL, options: SendOptions) -> None:
        self._transport = transport
        tcp = routes.tcp(options)
        self._key: Hashable = (url.scheme, url.host, url.effective_port, tcp.config)
        self._lock = threading.Lock()
        self._conn: Any = None
        self._reused = False
        self._done: bool | None = None  # True: connected; False: failed
        self._keep: bool | None = None  # settled: True to keep, False to close
        self._thread = threading.Thread(
            target=self._run, args=(url, tcp), name="brisk-h3-tcp-race", daemon=True
        )
        self._thread.start()

    def outcome(self) -> bool | None:
        return self._done

    def _run(self, url: URL, options: SendOptions) -> None:
        timings = Timings(time.monotonic())
        try:
            conn = self._transport._acquire(self._key, url, options, timings)
        except BaseException:  # the request's own TCP attempt reports the error if it comes to that
            self._done = False
            return
        with self._lock:
            self._conn, self._reused, self._done = conn, timings.reused, True
            keep = self._keep
        if keep is not None:
            self._give(keep)

    def settle(self, keep: bool) -> None:
        with self._lock:
            self._keep = keep
            connected = self._conn is not None
        if connected:
            self._give(keep)

    def _give(self, keep: bool) -> None:
        self._transport._finish(self._key, self._conn, keep or self._reused)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
