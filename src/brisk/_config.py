"""Configuration objects: ``Timeout`` (per phase + total deadline) and ``Limits`` (pool and protocol limits).

Both are immutable; build a new one to change a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "Limits", "Timeout", "TimeoutArg"]

_UNSET: Any = object()

#: Default phase timeouts in seconds. Finite so that a silent server never hangs a program.
DEFAULT_CONNECT = 10.0
DEFAULT_READ = 30.0
DEFAULT_WRITE = 30.0
DEFAULT_POOL = 30.0


@dataclass(frozen=True, slots=True, init=False)
class Timeout:
    """Timeouts for each phase of a request, plus an optional deadline for the whole of it.

    - ``connect``: DNS + TCP connect + TLS handshake (+ proxy tunnel).
    - ``read``: the longest wait for any single piece of the response.
    - ``write``: the longest wait while sending any single piece of the request.
    - ``pool``: the longest wait for a free connection in the pool.
    - ``total``: a deadline for everything — redirects, retries, backoff sleeps and reading the body.
      Off by default, because it would cut long downloads; set it when you need a hard bound.

    ``None`` for a phase means "wait forever" for that phase.

    >>> Timeout(5)                      # every phase 5 s
    >>> Timeout(5, read=60)             # connect/write/pool 5 s, read 60 s
    >>> Timeout(connect=3, total=20)    # others at their defaults, 20 s for everything
    """

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None

    def __init__(self, timeout: float | None = _UNSET, *, connect: float | None = _UNSET,
                 read: float | None = _UNSET, write: float | None = _UNSET, pool: float | None = _UNSET,
                 total: float | None = None) -> None:
        if isinstance(timeout, Timeout):
            connect, read, write, pool, total = (
                timeout.connect if connect is _UNSET else connect,
                timeout.read if read is _UNSET else read,
                timeout.write if write is _UNSET else write,
                timeout.pool if pool is _UNSET else pool,
                timeout.total if total is None else total,
            )
            timeout = _UNSET

        def pick(value: Any, default: float) -> float | None:
            if value is _UNSET:
                value = default if timeout is _UNSET else timeout
            return _check(value)

        object.__setattr__(self, "connect", pick(connect, DEFAULT_CONNECT))
        object.__setattr__(self, "read", pick(read, DEFAULT_READ))
        object.__setattr__(self, "write", pick(write, DEFAULT_WRITE))
        object.__setattr__(self, "pool", pick(pool, DEFAULT_POOL))
        object.__setattr__(self, "total", _check(total))

    @staticmethod
    def coerce(value: TimeoutArg) -> Timeout:
        """Turn any accepted ``timeout=`` argument into a ``Timeout``.

        A number sets every phase; requests' ``(connect, read)`` tuple sets connect (and pool wait)
        and read (and write); ``None`` disables every phase timeout.
        """
        if isinstance(value, Timeout):
            return value
        return _coerce_cached(value)

    def __repr__(self) -> str:
        return (f"Timeout(connect={self.connect}, read={self.read}, write={self.write}, "
                f"pool={self.pool}, total={self.total})")


def _check(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"timeout values must be numbers or None, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"timeout values must be >= 0, got {value}")
    return float(value)


@lru_cache(maxsize=64)
def _coerce_cached(value: Any) -> Timeout:
    if value is None:
        return Timeout(None)
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"a timeout tuple must be (connect, read), got {value!r}")
        connect, read = value
        return Timeout(connect=connect, read=read, write=read, pool=connect)
    return Timeout(value)


TimeoutArg = Timeout | float | int | tuple[float | None, float | None] | None

DEFAULT_TIMEOUT = Timeout()


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits of the connection pool and of what brisk accepts from a server.

    Pool:
      - ``max_connections``: open connections across all hosts (requests waits for one to free up).
      - ``max_connections_per_host``: open connections to one origin (scheme, host, port, settings).
      - ``idle_timeout``: an idle kept-alive connection older than this is closed, not reused.

    Protocol (a server exceeding one gets a clear exception, never unbounded memory use):
      - ``max_header_line``: bytes in the status line or in one header line.
      - ``max_header_count``: number of header fields in a response.
      - ``max_head_size``: bytes in the whole status line + header block.
      - ``max_decompression_ratio``: decoded bytes per received byte once the decoded size is past
        ``decompression_floor`` bytes (small bodies are never refused).
      - ``max_content_encodings``: chained Content-Encoding codings accepted (``gzip, br`` is 2).
    """

    max_connections: int = 100
    max_connections_per_host: int = 10
    idle_timeout: float = 60.0
    max_header_line: int = 16 * 1024
    max_header_count: int = 100
    max_head_size: int = 64 * 1024
    max_decompression_ratio: int = 200
    decompression_floor: int = 8 * 1024 * 1024
    max_content_encodings: int = 5


DEFAULT_LIMITS = Limits()
