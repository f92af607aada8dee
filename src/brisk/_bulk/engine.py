"""The async core of a bulk run: ``BulkRun`` on an ``AsyncSession``.

``concurrency`` worker tasks share the input iterator. A worker takes the next item only while fewer than
``options.limit`` items are out (taken and not yet handed to the caller), so memory is bounded by the
limit, never by the number of items: a generator of a billion URLs is read as the run goes. Each item's
request runs through the session's ordinary flow (retries, total deadline, rate limit, redirects, HTTP/2),
then its ``BulkResult`` goes to the ``done`` queue and the consumer is woken.

``batches()`` yields lists of results: every result ready at that moment (as they completed), or in input
order the results contiguous with those already handed out. Handing results out in batches costs one
wake-up per batch, not per item, which matters when the consumer is on another thread (``brisk._bulk.sync``).

Stopping: ``stop()`` takes no new item and lets the requests under way finish; closing ``batches()`` early
(``break``, an exception, Ctrl-C) cancels them, and a body being saved leaves no file behind (it is written
to ``<path>.<index>.part`` and renamed when complete).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from collections.abc import AsyncGenerator, Iterable, Iterator

from brisk._bulk.items import BulkOptions, BulkProgress, BulkResult, HostGate, host_of
from brisk._session.calls import map_call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.sessions import AsyncSession

__all__ = ["BulkRun", "input_length"]

_SKIPPED = object()  # an item an earlier run finished: counted, never handed out


def input_length(items: Iterable[Any]) -> int | None:
    """The number of items when the input knows it (a list, a range...), for the ETA."""
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        return None


class BulkRun:
    """One run of ``items`` through ``session`` with ``options``; iterate ``batches()`` once."""

    def __init__(self, session: AsyncSession, items: Iterable[Any], options: BulkOptions) -> None:
        self.session = session
        self.options = options
        self.stats = BulkProgress(input_length(items))
        self._source: Iterator[Any] = iter(items)
        self._taken = 0  # items taken from the input
        self._handed = 0  # items handed to the caller (or skipped)
        self._done: deque[BulkResult | tuple[int, object]] = deque()
        self._pending: dict[int, Any] = {}  # input order: finished results waiting for their turn
        self._waiter: asyncio.Future[None] | None = None  # the consumer, waiting for a result
        self._room = asyncio.Event()  # set when items were handed out: workers may take more
        self._stopped = False
        self._exited = 0  # workers that have returned
        self._failure: BaseException | None = None  # the input iterator raised this
        self._gate = HostGate(options.per_host) if options.per_host else None
        self._started = time.monotonic()
        self._reported = 0.0

    def stop(self) -> None:
        """Take no new item; the requests under way finish and their results are still handed out."""
        self._stopped = True
        self._room.set()

    def unhanded(self) -> list[BulkResult]:
        """Results finished but not handed out when the run ended early (cancelled, or the input failed),
        so that a job can still record them."""
        entries = [*self._done, *self._pending.values()]
        self._done.clear()
        self._pending.clear()
        return [entry for entry in entries if isinstance(entry, BulkResult)]

    # -- the consumer ------------------------------------------------------------------------------------

    async def batches(self) -> AsyncGenerator[list[BulkResult], None]:
        """Lists of results until every item is done (see the module docstring)."""
        loop = asyncio.get_running_loop()
        workers = [loop.create_task(self._worker()) for _ in range(self.options.concurrency)]
        try:
            while True:
                batch = self._take()
                if batch:
                    self._handed += len(batch)
                    self._room.set()
                    self._report(False)
                    yield [result for result in batch if result is not _SKIPPED]
                    continue
                if self._failure is not None:
                    raise self._failure
                if self._exited == len(workers):
                    break
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
        finally:
            self._stopped = True
            for worker in workers:
                worker.cancel()
            if workers:
                await asyncio.gather(*workers, return_exceptions=True)
            self.stats.in_flight = 0
            self._report(True)

    def _take(self) -> list[Any]:
        done = self._done
        if not done:
            return []
        if not self.options.ordered:
            taken = [entry if isinstance(entry, BulkResult) else _SKIPPED for entry in done]
            done.clear()
            return taken
        pending = self._pending
        while done:
            entry = done.popleft()
            if isinstance(entry, BulkResult):
                pending[entry.index] = entry
            else:
                pending[entry[0]] = _SKIPPED
        batch = []
        turn = self._handed + self.options.offset
        while turn in pending:
            batch.append(pending.pop(turn))
            turn += 1
        return batch

    def _finished(self, entry: BulkResult | tuple[int, object]) -> None:
        self._done.append(entry)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _report(self, finished: bool) -> None:
        progress = self.options.progress
        if progress is None:
            return
        now = time.monotonic()
        if not finished and now - self._reported < self.options.interval:
            return
        self._reported = now
        stats = self.stats
        stats.elapsed = now - self._started
        stats.finished = finished
        progress(stats)

    # -- the workers --------------------------------------------------------------------------------------

    async def _worker(self) -> None:
        options = self.options
        room = self._room
        skip = options.skip
        stats = self.stats
        try:
            while not self._stopped:
                if self._taken - self._handed >= options.limit:
                    room.clear()
                    await room.wait()
                    continue
                try:
                    item = next(self._source)
                except StopIteration:
                    return
                index = self._taken + options.offset
                self._taken += 1
                if skip is not None and skip(index, item):
                    stats.skipped += 1
                    self._finished((index, _SKIPPED))
                    continue
                stats.in_flight += 1
                try:
                    result = await self._fetch(index, item)
                finally:
                    stats.in_flight -= 1
                stats.done += 1
                if result.error is not None:
                    stats.errors += 1
                elif result.response is not None and result.response.status_code >= 400:
                    stats.failed_status += 1
                self._finished(result)
        except Exception as exc:  # the input iterator (or skip) raised: the run ends with it
            self._failure = exc
            self._stopped = True
        except BaseException as exc:
            # KeyboardInterrupt, SystemExit, a CancelledError nobody asked this worker for: its item dies
            # with it, so the run ends with the exception rather than go on one result short
            task = asyncio.current_task()
            if not (isinstance(exc, asyncio.CancelledError) and task is not None and task.cancelling()):
                if self._failure is None:
                    self._failure = exc
                self._stopped = True
            raise
        finally:
            self._exited += 1
            self._wake()

    async def _fetch(self, index: int, item: Any) -> BulkResult:
        started = time.perf_counter()
        try:
            call = map_call(item, self.options.common)
        except TypeError as exc:
            return BulkResult(index, item, "", str(item), error=exc)
        path = self.options.path_for(index, call) if "path" in call or self.options.save_to else None
        call.pop("path", None)
        call.pop("key", None)  # the caller's name for the item, recorded by jobs
        method = str(call.get("method", "GET"))
        url = call.get("url")
        url_text = url.decode("latin-1") if isinstance(url, bytes) else str(url)
        result = BulkResult(index, item, method, url_text, path=path)
        gate = self._gate
        host = host_of(url_text) if gate is not None else ""
        if gate is not None:
            await gate.acquire(host)
        try:
            if path is None:
                result.response = await self.session.request(**call)
            else:
                result.response = await self._save(call, path, index)
        except Exception as exc:
            result.error = exc
        finally:
            if gate is not None:
                gate.release(host)
        result.elapsed = time.perf_counter() - started
        return result

    async def _save(self, call: dict[str, Any], path: str, index: int) -> Any:
        """Send ``call`` and write its body to ``path`` through ``path.<index>.part``, renamed once complete
        (a part file per item: two items saved to one path at once never touch the other's)."""
        call["stream"] = True
        response = await self.session.request(**call)
        part = f"{path}.{index}.part"
        try:
            directory = os.path.dirname(path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(part, "wb") as file:
                async for chunk in response.aiter_content(65536):
                    file.write(chunk)
            os.replace(part, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(part)
            raise
        finally:
            await response.aclose()
        return response
