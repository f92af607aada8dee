"""Resumable bulk jobs: ``brisk.bulk(items, "results.jsonl")`` appends one JSON line per result as results
arrive, and a later run with the same input skips the items a line already records as done.

A line (a *record*)::

    {"index": 7, "method": "GET", "url": "https://a.example/x", "status": 200, "final_url": "...",
     "headers": {"content-type": "text/html", ...}, "elapsed": 0.0123, "size": 5120, "path": null,
     "error": null}

``error`` is ``{"type": "ConnectTimeout", "message": "..."}`` when the request failed; such items are not
done, and the next run tries them again (an answer with any status, 404 or 503 included, is done). An item
is known by its input position, checked against the URL's checksum recorded for that position: an input
that changed there is fetched again, never skipped by mistake. The lines are written as each batch of
results arrives; a run killed mid-write leaves at most one cut line, which the next run ignores.
"""

from __future__ import annotations

import json
import os
import time
import zlib
from array import array
from collections.abc import Iterable

from brisk._bulk.engine import BulkRun
from brisk._bulk.items import BulkOptions, BulkResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.sessions import AsyncSession

__all__ = ["BulkSummary", "DoneItems", "record", "run_job"]


class BulkSummary:
    """What a bulk job did: ``done`` items answered in this run (``failed_status`` of them with a status of
    400 or more), ``errors`` that failed (retried by the next run), ``skipped`` ones done by an earlier run,
    ``elapsed`` seconds, and the ``output`` file."""

    __slots__ = ("done", "elapsed", "errors", "failed_status", "output", "skipped")

    def __init__(self, output: str, done: int, errors: int, failed_status: int, skipped: int, elapsed: float):
        self.output = output
        self.done = done
        self.errors = errors
        self.failed_status = failed_status
        self.skipped = skipped
        self.elapsed = elapsed

    def __repr__(self) -> str:
        return (
            f"<BulkSummary {self.output}: {self.done} done ({self.errors} errors, {self.failed_status} "
            f"status >= 400), {self.skipped} skipped, {self.elapsed:.1f} s>"
        )


def _checksum(url: Any) -> int:
    text = url.decode("latin-1") if isinstance(url, bytes) else str(url)
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) | 1  # never 0, which means "not done"


def _item_url(item: Any) -> Any:
    if isinstance(item, tuple) and len(item) == 2:
        return item[1]
    if isinstance(item, dict):
        return item.get("url")
    return getattr(item, "url", item)


class DoneItems:
    """The items an earlier run finished: a checksum of the URL per input position from ``offset`` (the
    run's first index: a shard's), 4 bytes per item of the run however long the URLs."""

    def __init__(self, offset: int = 0) -> None:
        self._sums = array("I")
        self._offset = offset
        self.count = 0

    def add(self, index: int, url: Any) -> None:
        position = index - self._offset
        if position < 0:
            return  # not an item of this run
        sums = self._sums
        if position >= len(sums):
            sums.frombytes(bytes(sums.itemsize * (position + 1 - len(sums))))
        if not sums[position]:
            self.count += 1
        sums[position] = _checksum(url)

    def __call__(self, index: int, item: Any) -> bool:
        """Was ``item``, at ``index``, done by an earlier run? (The engine's ``skip``.)"""
        sums = self._sums
        position = index - self._offset
        return 0 <= position < len(sums) and sums[position] == _checksum(_item_url(item))

    @classmethod
    def read(cls, path: str, offset: int = 0) -> DoneItems:
        done = cls(offset)
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                try:
                    entry = json.loads(line)
                    if entry.get("error") is None:
                        done.add(int(entry["index"]), entry["url"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue  # a line cut by a killed run, or not one of ours
        return done


def record(result: BulkResult) -> dict[str, Any]:
    """``result`` as a JSON-able dict (see the module docstring)."""
    response = result.response
    entry: dict[str, Any] = {"index": result.index, "method": result.method, "url": result.url}
    if response is not None:
        headers: dict[str, Any] = {}
        for name, value in response.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        size = None if result.path is not None else len(response.content)
        if result.path is not None:
            size = os.path.getsize(result.path) if os.path.exists(result.path) else None
        entry.update(
            status=response.status_code, final_url=response.url, headers=headers,
            elapsed=round(result.elapsed, 6), size=size, path=result.path, error=None,
        )  # fmt: skip
    else:
        error = result.error
        entry.update(
            status=None, elapsed=round(result.elapsed, 6), path=None,
            error={"type": type(error).__name__, "message": str(error)},
        )  # fmt: skip
    given_key = result.item.get("key") if isinstance(result.item, dict) else None
    if given_key is not None:
        entry["key"] = given_key
    return entry


async def run_job(
    session: AsyncSession, items: Iterable[Any], output: str, options: BulkOptions, resume: bool = True
) -> BulkSummary:
    """Run ``items`` through ``session``, appending a record per result to ``output`` (see the module
    docstring; an output named ``*.parquet`` is a directory of Parquet files, ``brisk._bulk.parquet``);
    with ``resume``, items an earlier run recorded as done are skipped."""
    output = os.fspath(output)
    started = time.monotonic()
    if output.endswith(".parquet"):
        from brisk._bulk.parquet import ParquetParts

        parts = ParquetParts(output, resume)
        if resume:
            options.skip = parts.done(options.offset)
        run = BulkRun(session, items, options)
        try:
            async for batch in run.batches():
                parts.write([record(result) for result in batch])
        finally:
            parts.write([record(result) for result in run.unhanded()])
            parts.flush()
    else:
        if resume and os.path.exists(output):
            options.skip = DoneItems.read(output, options.offset)
            _end_with_newline(output)
        run = BulkRun(session, items, options)
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode
        with open(output, "a" if resume else "w", encoding="utf-8") as file:
            try:
                async for batch in run.batches():
                    if batch:
                        file.write("".join(dumps(record(result)) + "\n" for result in batch))
                        file.flush()
            finally:  # stopped early: what finished is recorded too
                file.write("".join(dumps(record(result)) + "\n" for result in run.unhanded()))
    stats = run.stats
    return BulkSummary(
        output, stats.done, stats.errors, stats.failed_status, stats.skipped, time.monotonic() - started
    )


def _end_with_newline(path: str) -> None:
    """A line cut by a killed run stays alone on its line: the next record starts on a new one."""
    with open(path, "rb+") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() == 0:
            return
        file.seek(-1, os.SEEK_END)
        if file.read(1) != b"\n":
            file.write(b"\n")
