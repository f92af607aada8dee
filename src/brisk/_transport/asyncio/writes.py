"""Requests written together: while other HTTP/1.1 exchanges of the pool wait for their answers, a request's
head is written at the start of the event loop's next turn, together with every other one written in this
turn, instead of at once.

Why: with many requests in flight, tasks run one after another as their answers come in, and each sends
its next request at once. Written that way, requests reach a server that has often gone back to sleep since
the last one, and each write pays for waking it, inside the writer's own system call (in a sampled profile
of a bulk run, asyncio's ``write`` was the largest single cost per request). Sent back to back, one
wake-up serves the whole turn's requests, and the server reads them in one pass. The bench's
100-concurrent rows show the gain (README, Performance). A request alone is written at once: deferring it
would only add a loop turn to its round trip. HTTP/2 does the same for the streams of one connection
(``AsyncH2Connection.flush``).

A deferred head leaves when the loop next runs, which is later than its exchange began to wait for the
answer if the loop was blocked or stopped meanwhile (a sync bulk run stops its loop between batches): the
read timeout is then counted from the write (``left_after_late_write``), as it would have been had the head
been written at once.

One batch per pool (``AsyncTransport``), used from its loop's thread only, so it needs no lock; it holds
nothing once its writes are flushed.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Protocol

from brisk._transport.deadline import WAITING_FOR_RESPONSE

if TYPE_CHECKING:
    from brisk._transport.base import SendOptions

__all__ = ["SENT_AT_ONCE", "WriteBatch", "Writer", "left_after_late_write"]

SENT_AT_ONCE = 0.0  # ``Writer.head_sent_at`` of a head written when its exchange asked


class Writer(Protocol):
    """What a batch writes for: a connection with its loop and transport."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport | None
    head_sent_at: float | None  # SENT_AT_ONCE, the time a deferred head left, or None while it waits

    def write_failed(self, exc: Exception) -> None: ...


class WriteBatch:
    """The heads deferred in this turn of the loop, and how many exchanges are waiting for an answer."""

    __slots__ = ("_flush_on", "_writes", "in_flight")

    def __init__(self) -> None:
        self._writes: list[tuple[Writer, bytes]] = []
        self._flush_on: asyncio.AbstractEventLoop | None = None  # the loop that will flush ``_writes``
        self.in_flight = 0  # exchanges between writing their request and receiving the answer's head

    def write(self, conn: Writer, data: bytes) -> None:
        """Write ``data`` on ``conn``: at once when no other exchange is in flight, else next turn."""
        if self.in_flight > 1 and (not self._writes or conn.loop is self._flush_on):
            if not self._writes:
                self._flush_on = conn.loop
                conn.loop.call_soon(self._flush)
            conn.head_sent_at = None
            self._writes.append((conn, data))
            return
        # alone (or a pool used from another loop than the one with writes pending): now
        conn.head_sent_at = SENT_AT_ONCE
        transport = conn.transport
        assert transport is not None
        transport.write(data)

    def _flush(self) -> None:
        writes, self._writes, self._flush_on = self._writes, [], None
        now = time.monotonic()
        for conn, data in writes:
            conn.head_sent_at = now
            transport = conn.transport
            if transport is None or transport.is_closing():
                continue  # closed meanwhile (its exchange was cancelled or failed): nothing to send
            try:
                transport.write(data)
            except Exception as exc:  # one connection's failure is its own exchange's, not the others'
                conn.write_failed(exc)


def left_after_late_write(conn: Writer, options: SendOptions) -> float | None:
    """After the wait for an answer's head ran out: the seconds of the read timeout still left when the
    head was written later than the wait began (see the module docstring), else None: time out."""
    sent = conn.head_sent_at
    read = options.timeout.read
    if not sent or read is None:  # written at once, or never written (no loop turn since: give up)
        return None
    left = read - (time.monotonic() - sent)
    if left <= 0:
        return None
    budget = WAITING_FOR_RESPONSE.budget(options)  # the total deadline still applies (raises once passed)
    return left if budget is None else min(left, budget)
