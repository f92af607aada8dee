"""``RateLimit``: a per-origin token bucket shared by every thread and task using a session.

Each request takes a token; tokens come back at ``requests_per_second`` up to ``burst``. When none is
left the request is scheduled for the moment one will be: the bucket hands out the delay (computed under a
lock, no sleeping inside it) and the request flow sleeps it — ``time.sleep`` in a Session,
``asyncio.sleep`` in an AsyncSession.
"""

from __future__ import annotations

import time
from collections.abc import Hashable

__all__ = ["RateLimit"]


class RateLimit:
    """At most ``requests_per_second`` requests per origin (scheme, host, port), with bursts of ``burst``.

    >>> brisk.Session(rate_limit=brisk.RateLimit(5, burst=10))
    >>> brisk.Session(rate_limit=5)        # 5 per second, no burst
    """

    def __init__(self, requests_per_second: float, burst: int = 1) -> None:
        if requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be positive, got {requests_per_second}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self.requests_per_second = float(requests_per_second)
        self.burst = int(burst)
        self._interval = 1.0 / self.requests_per_second
        import threading  # here, not at the top: import brisk does not need threading

        self._lock = threading.Lock()
        # Per origin: the time at which the bucket is full again minus nothing owed ("theoretical arrival
        # time" of the generic cell rate algorithm, equivalent to a token bucket).
        self._next_free: dict[Hashable, float] = {}

    def reserve(self, origin: Hashable, now: float | None = None) -> float:
        """Take a token for ``origin``; return how long to wait before sending (0.0 when one is free)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tat = max(self._next_free.get(origin, now), now)
            # Up to `burst` requests may start before `tat` catches up with them.
            allowed_at = tat - (self.burst - 1) * self._interval
            self._next_free[origin] = tat + self._interval
            if len(self._next_free) > 10_000:  # forget origins whose buckets are full again
                self._next_free = {k: v for k, v in self._next_free.items() if v > now}
        return max(0.0, allowed_at - now)

    def __repr__(self) -> str:
        return f"RateLimit({self.requests_per_second:g}/s, burst={self.burst})"
