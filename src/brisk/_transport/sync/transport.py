"""The sync transport: blocking sockets, a pool shared by threads.

Threads share one ``SyncTransport``. The pool's decisions are made by ``PoolState`` under a lock;
connecting, TLS handshakes, liveness checks and closing happen outside it. A connection speaks HTTP/1.1
(``sync.h1``) or, when ALPN chose it, HTTP/2 (``sync.h2``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable

from brisk._core.config import DEFAULT_LIMITS, Limits
from brisk._core.error_context import add_url_context
from brisk._protocol.http11 import encode_request_head
from brisk._transport.base import SendOptions, Timings
from brisk._transport.deadline import POOL, WaitLimit
from brisk._transport.errors import broken
from brisk._transport.pooled import CLOSED_MESSAGE, PooledTransport, pool_exhausted
from brisk._transport.sync import h1
from brisk._transport.sync.connect import open_socket
from brisk._transport.sync.h1 import SyncH1Connection
from brisk._transport.wire import (
    cleartext_h2,
    may_multiplex,
    request_body,
    request_line_and_headers,
)
from brisk.exceptions import RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from brisk._core.url import URL
    from brisk._transport.sync.h2 import SyncH2Connection
    from brisk.models import PreparedRequest, Response

__all__ = ["SyncTransport"]


if TYPE_CHECKING:
    _Pooled = PooledTransport[SyncH1Connection | SyncH2Connection]
else:  # the H2 class is loaded on demand (and at run time the subscript is the class: typing_lite)
    _Pooled = PooledTransport


class SyncTransport(_Pooled):
    """A pool of HTTP/1.1 and HTTP/2 connections shared by threads."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._orphans: deque[tuple[Hashable, SyncH1Connection]] = deque()  # from abandoned responses (GC)
        self._waiting = 0  # threads waiting in _acquire for a free connection (guarded by the lock)

    # -- the one public method ----------------------------------------------------------------------

    def handle_request(self, request: PreparedRequest, options: SendOptions) -> Response:
        if options.config.http3:  # HTTP/3 where the origin speaks it (its own module, loaded when used)
            from brisk._transport.sync.h3pool import handle_h3

            return handle_h3(self, request, options)
        url = request._url
        assert url is not None
        key = (url.scheme, url.host, url._port, options.config)  # (_port: effective_port, without a call)
        timings = Timings(time.monotonic())
        try:
            # Serialising validates the request (no CR/LF/NUL anywhere): fail before any connection is made.
            target, headers = request_line_and_headers(request, url, options)
            method = request.method
            head = encode_request_head("GET" if method is None else method, target, headers)  # (method_of)
            conn = self._acquire(key, url, options, timings)
        except RequestException as exc:
            add_url_context(exc, url, request)
            raise
        try:
            if isinstance(conn, SyncH1Connection):
                return h1.exchange(self, key, conn, request, head, options, timings)
            from brisk._transport.sync import h2  # the HTTP/2 machinery, loaded once a server speaks it

            return h2.exchange(self, key, conn, request, request_body(request), url, options, timings)
        except BaseException as exc:
            # An HTTP/2 connection outlives one failed stream; an HTTP/1.1 one never does.
            self._finish(key, conn, conn.multiplexed and conn.looks_alive())
            if isinstance(exc, RequestException):
                add_url_context(exc, url, request)
            raise

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conns = self._state.drain()
            self._freed.notify_all()
        for conn in conns:
            conn.close()

    # -- pool ---------------------------------------------------------------------------------------

    def _acquire(
        self, key: Hashable, url: URL, options: SendOptions, timings: Timings
    ) -> SyncH1Connection | SyncH2Connection:
        wait: WaitLimit | None = None
        multiplex = may_multiplex(options.config, url)
        while True:
            now = time.monotonic()
            with self._lock:
                if self._closed:
                    raise RuntimeError(CLOSED_MESSAGE)
                if self._orphans:
                    self._collect_orphans()
                conn, may_open, to_close = self._state.acquire(key, now, multiplex)
                if conn is None and not may_open:
                    if wait is None:
                        wait = WaitLimit(POOL, options, pool_exhausted(url, options))
                    self._waiting += 1
                    try:
                        self._freed.wait(wait.left())
                    finally:
                        self._waiting -= 1
                    continue
            for old in to_close:
                old.close()
            if conn is None:
                return self._open_reserved(key, url, options, timings)
            # Checked before every reuse, however recently the connection was released.
            if conn.looks_alive():
                timings.reused = True
                return conn
            self._drop_dead(key, conn)

    def _open_reserved(
        self, key: Hashable, url: URL, options: SendOptions, timings: Timings
    ) -> SyncH1Connection | SyncH2Connection:
        """Open a connection in the slot ``PoolState.acquire`` reserved, and tell the pool."""
        try:
            conn = self._open(url, options, timings)
        except BaseException:
            self._give_back(key, None)
            raise
        with self._lock:
            self._state.opened(key, conn)
            if self._waiting:
                self._freed.notify_all()
        return conn

    def _open(self, url: URL, options: SendOptions, timings: Timings) -> SyncH1Connection | SyncH2Connection:
        sock = open_socket(url, options, timings)
        alpn = getattr(sock, "selected_alpn_protocol", None)
        if (alpn() == "h2") if alpn is not None else cleartext_h2(options.config, url):
            from brisk._transport.sync.h2 import SyncH2Connection  # loaded once a server speaks HTTP/2

            try:
                h2conn = SyncH2Connection(sock, options.limits)
            except OSError as exc:  # writing the preface; with TLS 1.3 a refused client cert shows here
                sock.close()
                raise broken(exc, "starting HTTP/2") from exc
            h2conn.ready(options)
            return h2conn
        self._log_opened(url, options, timings)
        return SyncH1Connection(sock, timings.connect, options.limits.busy_poll)

    def _give_back(self, key: Hashable, conn: SyncH1Connection | SyncH2Connection | None) -> None:
        with self._lock:
            if not self._closed:
                self._state.discard(key, conn)
            if self._waiting:
                self._freed.notify_all()

    def _finish(
        self,
        key: Hashable,
        conn: SyncH1Connection | SyncH2Connection,
        reusable: bool,
        now: float | None = None,
    ) -> None:
        """A response is done with ``conn`` (at ``now``, the time.monotonic() the caller read, if it just
        did): keep it for the next request or close it."""
        if conn.closed:
            reusable = False
        if now is None:
            now = time.monotonic()
        with self._lock:
            must_close = True if self._closed else self._state.release(key, conn, reusable, now)
            if self._waiting:  # notify_all costs a microsecond or two even with nobody waiting
                self._freed.notify_all()
        if must_close:
            self._close_used(key, conn, reusable)

    def _collect_orphans(self) -> None:
        """Free the slots of responses that were garbage-collected unread (called under the lock)."""
        while self._orphans:
            key, conn = self._orphans.popleft()
            conn.close()
            self._state.discard(key, conn)

    def orphan(self, key: Hashable, conn: SyncH1Connection) -> None:
        # Called from __del__, possibly inside the pool's own locked section: so no locking here.
        self._orphans.append((key, conn))
