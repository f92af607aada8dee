"""``BulkBar``: a bulk run's progress on a terminal (items done, rate, errors, time left).

With rich installed and a terminal, rich's bar; otherwise a plain line, redrawn in place on a terminal or
written every few seconds (and at the end) when the output is a file or a pipe.
"""

from __future__ import annotations

import sys
import time

from brisk._bulk.items import BulkProgress
from brisk.progress import format_duration

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = ["BulkBar", "describe"]


def describe(progress: BulkProgress) -> str:
    """``'1200/5000 done, 3 errors, 12 status >= 400, 850/s, 0:04 left'``, as the plain bar shows it."""
    total = "" if progress.total is None else f"/{progress.total}"
    parts = [f"{progress.done + progress.skipped}{total} done"]
    if progress.skipped:
        parts.append(f"{progress.skipped} skipped (done before)")
    parts.append(f"{progress.errors} errors")
    if progress.failed_status:
        parts.append(f"{progress.failed_status} status >= 400")
    parts.append(f"{progress.rate:,.0f}/s")
    if progress.finished:
        parts.append(f"in {format_duration(progress.elapsed)}")
    elif progress.eta is not None:
        parts.append(f"{format_duration(progress.eta)} left")
    return ", ".join(parts)


class BulkBar:
    """A ``progress`` callable for bulk runs: ``session.imap(urls, progress=BulkBar("crawl"))``."""

    def __init__(
        self, description: str = "bulk", *, file: IO[str] | None = None, use_rich: bool | None = None
    ):
        self.description = description
        self.file = file
        terminal = (file or sys.stderr).isatty()
        if use_rich is None:
            use_rich = terminal and _has_rich()
        self.use_rich = use_rich
        self.terminal = terminal
        self._rich: Any = None
        self._task: Any = None
        self._logged = time.monotonic()
        self._width = 0

    def __call__(self, progress: BulkProgress) -> None:
        if self.use_rich:
            self._draw_rich(progress)
        else:
            self._draw_plain(progress)

    def _draw_rich(self, progress: BulkProgress) -> None:
        if self._rich is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            console = Console(file=self.file or sys.stderr)
            self._rich = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}/s  errors {task.fields[errors]}"), TimeRemainingColumn(),
                console=console, transient=False,
            )  # fmt: skip
            self._rich.start()
            self._task = self._rich.add_task(self.description, total=progress.total, rate="0", errors=0)
        self._rich.update(
            self._task, completed=progress.done + progress.skipped, rate=f"{progress.rate:,.0f}",
            errors=progress.errors,
        )  # fmt: skip
        if progress.finished:
            self._rich.stop()
            self._rich = None

    def _draw_plain(self, progress: BulkProgress) -> None:
        out = self.file or sys.stderr
        line = f"{self.description}: {describe(progress)}"
        if self.terminal:
            out.write("\r" + line.ljust(self._width) + ("\n" if progress.finished else ""))
            self._width = len(line)
        else:
            now = time.monotonic()
            if not progress.finished and now - self._logged < 5.0:
                return
            self._logged = now
            out.write(line + "\n")
        out.flush()


def _has_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True
