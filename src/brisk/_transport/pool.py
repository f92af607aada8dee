"""Connection pool bookkeeping, shared by the sync and async transports.

``PoolState`` decides which connection serves a request, when a new one may be opened, and which ones must
be closed. It does no I/O and takes no lock: the sync pool calls it under a ``threading.Lock`` and the async
pool from the event loop, and both do the socket work (connect, close, liveness checks) after it returns.
Keeping the decisions here, in one place, is what lets both worlds follow the same rules.

Rules:
- A key is everything that makes connections interchangeable: scheme, host, port and ``ConnectionConfig``.
- Idle HTTP/1.1 connections are reused most-recent-first (the warmest socket; the oldest ones expire).
- An idle connection older than ``Limits.idle_timeout`` is closed instead of reused.
- At most ``max_connections_per_host`` connections per key and ``max_connections`` in all, counting
  connections being opened. At the total limit an idle connection of another key is closed to make room.
- Multiplexed (HTTP/2) connections stay available to other requests while they have free streams. Their slot
  belongs to the connection, not to a request: it is given back once, when the connection leaves the pool
  (broken, closed by the server, GOAWAY), and the connection is closed once its last open stream is done.
- While the first connection to an origin that may speak HTTP/2 is being opened, other requests to it wait
  for that connection instead of opening their own (a burst of 100 requests must not mean 100 TLS
  handshakes). What ALPN chose is remembered per origin: once an origin is known to speak HTTP/1.1,
  requests open connections in parallel as usual.
- Every slot taken with ``acquire`` is given back exactly once: ``release`` (the connection may be kept)
  or ``discard`` (it is closed or never opened).
"""

from __future__ import annotations

from collections.abc import Hashable

from brisk._core.config import Limits

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, Protocol, TypeVar
else:
    from brisk._core.typing_lite import Generic, Protocol, TypeVar

__all__ = ["PoolConnection", "PoolState"]


class PoolConnection(Protocol):
    """What the bookkeeping needs to know about a connection."""

    idle_since: float
    multiplexed: bool  # True for HTTP/2: several requests at once

    def has_capacity(self) -> bool: ...  # a multiplexed connection can take one more stream

    def looks_alive(self) -> bool: ...


C = TypeVar("C", bound=PoolConnection)


class PoolState(Generic[C]):
    __slots__ = ("_count", "_idle", "_limits", "_multiplexed", "_opening", "_shared", "_total")

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._idle: dict[Hashable, list[C]] = {}  # HTTP/1.1 connections waiting for a request
        self._shared: dict[Hashable, list[C]] = {}  # multiplexed connections (busy or not)
        self._count: dict[Hashable, int] = {}  # open or opening connections per key
        self._opening: dict[Hashable, int] = {}  # connections being opened per key
        self._multiplexed: dict[Hashable, bool] = {}  # did the last connection to the key speak HTTP/2?
        self._total = 0

    @property
    def total(self) -> int:
        """Open or opening connections, all keys together."""
        return self._total

    def count(self, key: Hashable) -> int:
        return self._count.get(key, 0)

    def idle_count(self, key: Hashable | None = None) -> int:
        if key is not None:
            return len(self._idle.get(key, ()))
        return sum(len(conns) for conns in self._idle.values())

    def acquire(
        self, key: Hashable, now: float, may_multiplex: bool = False
    ) -> tuple[C | None, bool, list[C]]:
        """Find a connection for a request to ``key``.

        Returns ``(connection, may_open, to_close)``: a connection to use (its slot now belongs to the
        caller), or ``may_open`` True when the caller may open a new connection (a slot is reserved for
        it), or neither when the caller must wait for a ``release``/``discard``. ``to_close`` are expired
        or evicted connections the caller must close (their slots are already freed).
        """
        to_close: list[C] = []
        idle = self._idle.get(key)
        if idle:
            expiry = self._limits.idle_timeout
            while idle:
                conn = idle.pop()
                if now - conn.idle_since <= expiry:
                    return conn, False, to_close
                to_close.append(conn)
                self._forget(key)
        shared = self._shared.get(key)
        if shared:
            for conn in list(shared):
                if conn.has_capacity():
                    return conn, False, to_close
                if not conn.looks_alive():  # lost, broken or going away while idle: nobody would release it
                    self._remove_shared(key, conn)
                    self._forget(key)
                    if not _open_streams(conn):
                        to_close.append(conn)
        if may_multiplex and self._opening.get(key) and self._multiplexed.get(key, True):
            return None, False, to_close  # wait: the connection being opened may be shared
        limits = self._limits
        if self._count.get(key, 0) >= limits.max_connections_per_host:
            return None, False, to_close
        if self._total >= limits.max_connections:
            victim = self._oldest_idle_elsewhere(key)
            if victim is None:
                return None, False, to_close
            to_close.append(victim)
        self._count[key] = self._count.get(key, 0) + 1
        self._opening[key] = self._opening.get(key, 0) + 1
        self._total += 1
        return None, True, to_close

    def speaks_multiplexed(self, key: Hashable) -> bool:
        """Does the pool hold a multiplexed (HTTP/2) connection to ``key``? A hint: it may die meanwhile."""
        return key in self._shared

    def opened(self, key: Hashable, conn: C) -> None:
        """The connection reserved by ``acquire`` is open; a multiplexed one is shared from now on."""
        self._done_opening(key)
        self._multiplexed[key] = conn.multiplexed
        if conn.multiplexed:
            self._shared.setdefault(key, []).append(conn)

    def _done_opening(self, key: Hashable) -> None:
        opening = self._opening.get(key, 0) - 1
        if opening > 0:
            self._opening[key] = opening
        else:
            self._opening.pop(key, None)

    def release(self, key: Hashable, conn: C, reusable: bool, now: float) -> bool:
        """A request finished with ``conn``. Returns True if the caller must close the connection."""
        if conn.multiplexed:
            shared = self._shared.get(key)
            if reusable and shared is not None and conn in shared:
                return False
            # Unusable, or given up by another stream (broken, or a TCP connection that lost a QUIC race):
            # the first stream to find it so gives the slot back, and the last one done closes it.
            if self._remove_shared(key, conn):
                self._forget(key)
            return not _open_streams(conn)
        if not reusable:
            self._forget(key)
            return True
        conn.idle_since = now
        self._idle.setdefault(key, []).append(conn)
        return False

    def discard(self, key: Hashable, conn: C | None = None) -> None:
        """Give back a slot whose connection is closed, broken, or (``conn`` None) failed to open."""
        if conn is None:
            self._done_opening(key)
        elif conn.multiplexed and not self._remove_shared(key, conn):
            return  # its slot was given back already
        self._forget(key)

    def drain(self) -> list[C]:
        """Forget every connection (pool closing); returns the idle and shared ones to close."""
        conns = [c for group in self._idle.values() for c in group]
        conns += [c for group in self._shared.values() for c in group]
        self._idle.clear()
        self._shared.clear()
        self._count.clear()
        self._opening.clear()
        self._total = 0
        return conns

    # -- internals ---------------------------------------------------------------------------------

    def _forget(self, key: Hashable) -> None:
        count = self._count.get(key, 0) - 1
        if count > 0:
            self._count[key] = count
        else:
            self._count.pop(key, None)
            self._idle.pop(key, None)
        self._total -= 1

    def _remove_shared(self, key: Hashable, conn: C) -> bool:
        shared = self._shared.get(key)
        if shared and conn in shared:
            shared.remove(conn)
            if not shared:
                del self._shared[key]
            return True
        return False

    def _oldest_idle_elsewhere(self, key: Hashable) -> C | None:
        best_key: Hashable | None = None
        best: C | None = None
        for other, conns in self._idle.items():
            if other != key and conns and (best is None or conns[0].idle_since < best.idle_since):
                best_key, best = other, conns[0]
        if best is None:
            return None
        self._idle[best_key].pop(0)
        self._forget(best_key)
        return best


def _open_streams(conn: PoolConnection) -> int:
    """Streams still in flight on a multiplexed connection (``open_streams``; none on HTTP/1.1)."""
    return int(getattr(conn, "open_streams", 0))
