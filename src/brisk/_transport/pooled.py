"""What the sync and asyncio transports share around the pool: the bookkeeping (``PoolState``), the check
before a pooled connection is reused, closing a connection that is done with, and the debug log lines.
Waiting for a free connection and opening one are the drivers' own (threads and a lock, or the event
loop)."""

from __future__ import annotations

from collections.abc import Hashable

from brisk._core.log import debug_logger
from brisk._transport.pool import PoolConnection, PoolState
from brisk._transport.wire import origin_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic, Protocol, TypeVar

    from brisk._core.config import Limits
    from brisk._core.url import URL
    from brisk._transport.base import SendOptions, Timings
else:
    from brisk._core.typing_lite import Generic, Protocol, TypeVar

__all__ = ["CLOSED_MESSAGE", "PooledTransport", "pool_exhausted"]

CLOSED_MESSAGE = "this session is closed; create a new one to send requests"


class Connection(PoolConnection, Protocol):
    closed: bool

    def close(self) -> None: ...


C = TypeVar("C", bound=Connection)


def pool_exhausted(url: URL, options: SendOptions) -> str:
    """Why a request gave up waiting for a connection."""
    return (
        f"no connection to {url.host_header} became free in the pool within {options.timeout.pool}s "
        "(Limits.max_connections*)"
    )


class PooledTransport(Generic[C]):
    """The pool of one transport: ``PoolState`` decides, the driver does the I/O."""

    def __init__(self, limits: Limits) -> None:
        self._state: PoolState[C] = PoolState(limits)
        self._closed = False

    def _drop_dead(self, key: Hashable, conn: C) -> None:
        """``conn``, just taken from the pool, failed its liveness check (``looks_alive``): the server
        closed it, or sent bytes after its response, a moment after the response was read. Close it and
        give its slot back. (The check itself stays inline in the drivers: it is on every request's path.)"""
        conn.close()
        self._give_back(key, conn)

    def _give_back(self, key: Hashable, conn: C | None) -> None:
        """Return the slot of a connection that is closed, broken, or (``conn`` None) failed to open."""
        raise NotImplementedError

    @staticmethod
    def _close_used(key: Hashable, conn: C, reusable: bool) -> None:
        """Close a connection the pool does not keep."""
        conn.close()
        log = debug_logger()
        if log is not None:
            log.debug(
                "connection to %s closed (%s)", origin_of(key), "reusable" if reusable else "not reusable"
            )

    @staticmethod
    def _log_opened(url: URL, options: SendOptions, timings: Timings) -> None:
        log = debug_logger()
        if log is not None:
            proxy = options.config.proxy
            log.debug(
                "connection opened to %s (dns %.1f ms, connect %.1f ms, tls %.1f ms%s)",
                url.host_header,
                timings.dns * 1000,
                timings.connect * 1000,
                timings.tls * 1000,
                f", via {proxy.rsplit('@', 1)[-1]}" if proxy else "",
            )
