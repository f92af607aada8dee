"""What a bulk run hands back (``BulkResult``, ``BulkProgress``) and the small parts its workers share: the
per-host gate and the options of a run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brisk.models import Response

__all__ = ["BulkOptions", "BulkProgress", "BulkResult", "HostGate", "host_of"]


class BulkResult:
    """One item's outcome in a bulk run.

    - ``index``: the item's position in the input (0-based); ``item``: the item as given.
    - ``method``, ``url``: what was requested (``url`` as given, before redirects).
    - ``response``: the ``Response`` (body read, or written to ``path``), or None when the request failed.
    - ``error``: the exception when the request failed (connection error, timeout, bad item...), else None.
    - ``path``: the file the body was written to, when the run saves bodies.
    - ``elapsed``: seconds from the start of the item's request to its end (body included).

    A response with a 4xx or 5xx status is a result with ``ok`` False and ``error`` None: the server
    answered. ``for r in session.imap(urls): print(r.index, r.status, r.error)``
    """

    __slots__ = ("elapsed", "error", "index", "item", "method", "path", "response", "url")

    def __init__(
        self,
        index: int,
        item: Any,
        method: str,
        url: str,
        response: Response | None = None,
        error: BaseException | None = None,
        path: str | None = None,
        elapsed: float = 0.0,
    ) -> None:
        self.index = index
        self.item = item
        self.method = method
        self.url = url
        self.response = response
        self.error = error
        self.path = path
        self.elapsed = elapsed

    @property
    def status(self) -> int | None:
        """The response's status code, None when there is no response."""
        return None if self.response is None else self.response.status_code

    @property
    def ok(self) -> bool:
        """True when a response came and its status is below 400."""
        return self.error is None and self.response is not None and self.response.status_code < 400

    def __repr__(self) -> str:
        outcome = f"error={self.error!r}" if self.error is not None else f"status={self.status}"
        return f"<BulkResult #{self.index} {self.method} {self.url} {outcome}>"


class BulkProgress:
    """A bulk run's counters, passed to a ``progress`` callback (at most every ``interval`` seconds and
    once at the end, with ``finished`` True).

    ``done`` counts items with a result (``errors`` of them failed, ``failed_status`` got a status of 400
    or more); ``skipped``: items an earlier run had finished; ``in_flight``: requests under way; ``total``:
    the number of items when the input has a length, else None; ``elapsed``: seconds since the start.
    """

    __slots__ = ("done", "elapsed", "errors", "failed_status", "finished", "in_flight", "skipped", "total")

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.done = self.errors = self.failed_status = self.skipped = self.in_flight = 0
        self.elapsed = 0.0
        self.finished = False

    @property
    def rate(self) -> float:
        """Items done per second since the start."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate; None when the total or the rate is unknown."""
        if self.total is None or not self.rate:
            return None
        return max(0.0, (self.total - self.done - self.skipped) / self.rate)

    def __repr__(self) -> str:
        return (
            f"<BulkProgress done={self.done} errors={self.errors} skipped={self.skipped} "
            f"in_flight={self.in_flight} total={self.total}>"
        )


def host_of(url: Any) -> str:
    """The ``scheme://host:port`` a URL goes to, for the per-host limit (cheap: no full parse)."""
    text = url.decode("latin-1") if isinstance(url, bytes) else str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if 0 <= found < end:
            end = found
    authority = rest[:end].rpartition("@")[2].lower()
    return f"{scheme.lower()}://{authority}"


class HostGate:
    """At most ``limit`` requests at once per host. Entries exist only while a host has requests running
    or waiting, so a crawl over millions of hosts keeps a small table."""

    __slots__ = ("_hosts", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hosts: dict[str, list[Any]] = {}  # host -> [running, waiters (deque of futures)]

    async def acquire(self, host: str) -> None:
        entry = self._hosts.get(host)
        if entry is None:
            self._hosts[host] = [1, []]
            return
        if entry[0] < self.limit:
            entry[0] += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        entry[1].append(waiter)
        try:
            await waiter  # release() hands its slot over: the count stays as it is
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release(host)  # the slot was handed over as this task was cancelled: pass it on
            else:
                entry[1].remove(waiter)
            raise

    def release(self, host: str) -> None:
        entry = self._hosts[host]
        waiters = entry[1]
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return
        entry[0] -= 1
        if entry[0] == 0:
            del self._hosts[host]

    def __len__(self) -> int:
        return len(self._hosts)


SaveTo = str | os.PathLike[str] | Callable[[int, Mapping[str, Any]], "str | os.PathLike[str] | None"]


class BulkOptions:
    """The options of a bulk run, checked once."""

    __slots__ = (
        "common", "concurrency", "interval", "limit", "offset", "ordered", "per_host", "progress", "save_to",
        "skip",
    )  # fmt: skip

    def __init__(
        self,
        *,
        concurrency: int = 100,
        per_host: int | None = None,
        ordered: bool = False,
        window: int | None = None,
        save_to: SaveTo | None = None,
        progress: Callable[[BulkProgress], Any] | bool | None = None,
        interval: float = 0.1,
        skip: Callable[[int, Any], bool] | None = None,
        common: Mapping[str, Any] | None = None,
        offset: int = 0,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an integer of at least 1, got {concurrency!r}")
        if per_host is not None and (not isinstance(per_host, int) or per_host < 1):
            raise ValueError(f"per_host must be None or an integer of at least 1, got {per_host!r}")
        if window is not None and (not isinstance(window, int) or window < 1):
            raise ValueError(f"window must be None or an integer of at least 1, got {window!r}")
        if progress is True:
            from brisk._bulk.meter import BulkBar

            progress = BulkBar()
        elif progress is False:
            progress = None
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be a callable taking a BulkProgress, not {progress!r}")
        if save_to is not None and not (callable(save_to) or isinstance(save_to, str | os.PathLike)):
            raise TypeError(
                f"save_to must be a directory or a callable (index, call) -> path, not {save_to!r}"
            )
        self.concurrency = concurrency
        self.per_host = per_host
        self.ordered = ordered
        # How many items may be taken from the input and not yet handed to the caller: the reorder window
        # in input order; otherwise room for one more round of results while the caller handles a batch.
        self.limit = (window or max(4 * concurrency, 1000)) if ordered else 2 * concurrency
        self.save_to = save_to
        self.progress = progress
        self.interval = interval
        self.skip = skip
        self.common = dict(common or {})
        self.offset = offset  # the index of the first item (a shard of a larger input)

    def path_for(self, index: int, call: Mapping[str, Any]) -> str | None:
        """Where item ``index``'s body goes: the item's own ``path``, else ``save_to``'s."""
        given = call.get("path")
        if given is None:
            save_to = self.save_to
            if save_to is None:
                return None
            given = save_to(index, call) if callable(save_to) else os.path.join(save_to, f"{index}.body")
            if given is None:
                return None
        return os.fspath(given)
