"""Waiting on the event loop with a time limit, as every wait of the asyncio transport does: one future,
one timer that fails it with ``TimedOut``. Cheaper than ``asyncio.timeout`` or ``wait_for`` (no task
machinery), and the caller turns ``TimedOut`` into the brisk exception of its phase."""

from __future__ import annotations

import asyncio
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["TimedOut", "bounded", "expire", "wait_until_woken"]


class TimedOut(Exception):
    """A wait ran out of time (never leaves the transport)."""


def expire(waiter: asyncio.Future[None]) -> None:
    """The timer's end of a wait: fail ``waiter`` with TimedOut unless it was resolved meanwhile."""
    if not waiter.done():
        waiter.set_exception(TimedOut())


async def wait_until_woken(waiter: asyncio.Future[None], timeout: float | None) -> None:
    """Wait until ``waiter`` is resolved (by whoever has news), raising TimedOut after ``timeout`` seconds."""
    if timeout is None:
        await waiter
        return
    timer = waiter.get_loop().call_later(timeout, expire, waiter)
    try:
        await waiter
    finally:
        timer.cancel()


async def bounded(awaitable: Any, deadline: float | None) -> Any:
    """Await ``awaitable``, raising TimedOut at ``deadline`` (a ``time.monotonic()`` value; None: never)."""
    if deadline is None:
        return await awaitable
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        awaitable.close() if hasattr(awaitable, "close") else None
        raise TimedOut
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the result when the awaitable finishes
    # just as the task is cancelled, and the cancellation is lost (a cancelled connect went on to a TLS
    # handshake and a ConnectTimeout seconds later). asyncio.timeout keeps the task's cancellation.
    try:
        async with asyncio.timeout(remaining):
            return await awaitable
    except TimeoutError:
        raise TimedOut from None
