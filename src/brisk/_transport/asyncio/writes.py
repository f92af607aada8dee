"""Requests written together: while other HTTP/1.1 exchanges on the event loop wait for their answers, a
request's head is written at the start of the loop's next turn, together with every other one written in
this turn, instead of at once.

Why: with many requests in flight, tasks run one after another as their answers come in, and each sends
its next request at once. Written that way, requests reach a server that has often gone back to sleep since
the last one, and each write pays for waking it, in the writer's own system call (on a virtual machine that
is an interrupt to another processor through the hypervisor). Sent back to back, one wake-up serves the
whole turn's requests, and the server reads them in one pass. The bench's 100-concurrent rows show it
(README, Performance). A request alone on the loop is written at once: deferring it would only add a loop
turn to its round trip. HTTP/2 does the same for the streams of one connection (``AsyncH2Connection.flush``).

One batch per event loop; a loop never leaves its thread, so the batch needs no lock.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Protocol

__all__ = ["WriteBatch", "Writer", "batch_for"]


class Writer(Protocol):
    """What a batch writes for: a connection with a transport, told when a deferred write failed."""

    transport: asyncio.Transport | None

    def write_failed(self, exc: Exception) -> None: ...


class WriteBatch:
    """The writes deferred in this turn of one event loop, and how many exchanges are waiting."""

    __slots__ = ("_writes", "in_flight")  # no reference to the loop: the batch must not keep it alive

    def __init__(self) -> None:
        self._writes: list[tuple[Writer, bytes]] = []
        self.in_flight = 0  # exchanges between writing their request and receiving the answer's head

    def write(self, conn: Writer, data: bytes) -> None:
        """Write ``data`` on ``conn``: at once when no other exchange is in flight, else next turn."""
        if self.in_flight <= 1:
            transport = conn.transport
            assert transport is not None
            transport.write(data)
            return
        if not self._writes:
            asyncio.get_running_loop().call_soon(self._flush)
        self._writes.append((conn, data))

    def _flush(self) -> None:
        writes, self._writes = self._writes, []
        for conn, data in writes:
            transport = conn.transport
            if transport is None or transport.is_closing():
                continue  # closed meanwhile (its exchange was cancelled or failed): nothing to send
            try:
                transport.write(data)
            except Exception as exc:  # one connection's failure is its own exchange's, not the others'
                conn.write_failed(exc)


_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriteBatch] = weakref.WeakKeyDictionary()


def batch_for(loop: asyncio.AbstractEventLoop) -> WriteBatch:
    """The write batch of ``loop`` (made on first use, gone with the loop)."""
    batch = _batches.get(loop)
    if batch is None:
        batch = _batches[loop] = WriteBatch()
    return batch
