"""A terminal progress bar to pass as ``progress=``, for downloads and uploads.

>>> from brisk.progress import ProgressBar
>>> brisk.download(url, "big.iso", progress=ProgressBar("big.iso"))
>>> with open("video.mp4", "rb") as f:
...     session.put(url, data=f, progress=ProgressBar("upload"))

It shows the bytes done, the total, the rate and the time left. With ``rich`` installed (``pip install
brisk[cli]``) it draws rich's bar; without it, a plain line redrawn in place (``\\r``) on a terminal, or a
line every few seconds when the output is not a terminal. It closes itself when ``done`` reaches ``total``;
use it as a context manager (or call ``close()``) when the total is unknown.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = ["ProgressBar", "format_bytes", "format_duration"]

_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def format_bytes(size: float) -> str:
    """``1536000`` -> ``'1.5 MB'`` (decimal units, as download tools show them)."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """``75`` -> ``'1:15'``; ``3725`` -> ``'1:02:05'``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """A callable ``progress(done, total)`` that draws a progress bar on a terminal.

    :param description: a label shown before the bar (a file name, "upload", ...).
    :param file: where to draw; standard error by default.
    :param use_rich: True to require rich, False for the plain text bar; by default rich when installed.
    :param interval: the least time between two redraws, in seconds (the last one is always drawn).
    """

    def __init__(
        self,
        description: str = "",
        *,
        file: IO[str] | None = None,
        use_rich: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.description = description
        self.file = file
        self.interval = interval
        self.done = 0
        self.total: int | None = None
        self.closed = False
        self._started: float | None = None
        self._first = 0  # where this transfer started (a resumed download does not start at 0)
        self._drawn = 0.0
        self._logged = time.monotonic()  # not a terminal: when the last line was written
        self._width = 0
        self._rich: Any = None
        self._task: Any = None
        if use_rich is None:
            try:
                import rich  # noqa: F401
            except ImportError:
                use_rich = False
            else:
                use_rich = True
        self.use_rich = use_rich

    # -- the callback ----------------------------------------------------------------------------------

    def __call__(self, done: int, total: int | None) -> None:
        """Record ``done`` of ``total`` bytes and redraw when due."""
        if self.closed:
            return
        now = time.monotonic()
        if self._started is None or done < self.done:  # first call, or the transfer started over
            self._started, self._first = now, done
        self.done, self.total = done, total
        if total is not None and done >= total:
            self.close()
        elif now - self._drawn >= self.interval:
            self._drawn = now
            self._draw()

    @property
    def rate(self) -> float:
        """Bytes per second since the transfer started (0 before any time has passed)."""
        if self._started is None:
            return 0.0
        elapsed = time.monotonic() - self._started
        return (self.done - self._first) / elapsed if elapsed > 0 else 0.0

    @property
    def remaining(self) -> float | None:
        """Seconds left at the current rate, or None when the total or the rate is unknown."""
        rate = self.rate
        if self.total is None or rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / rate)

    def text(self) -> str:
        """The plain-text line: ``label  45% 4.5 MB/10.0 MB  1.2 MB/s  0:04 left``."""
        parts = [self.description] if self.description else []
        if self.total:
            parts.append(
                f"{100 * self.done // self.total:3d}% {format_bytes(self.done)}/{format_bytes(self.total)}"
            )
        else:
            parts.append(format_bytes(self.done))
        parts.append(f"{format_bytes(self.rate)}/s")
        remaining = self.remaining
        if remaining is not None:
            parts.append(f"{format_duration(remaining)} left")
        return "  ".join(parts)

    # -- drawing ---------------------------------------------------------------------------------------

    def _stream(self) -> IO[str]:
        return self.file if self.file is not None else sys.stderr

    def _draw(self) -> None:
        if self.use_rich:
            self._draw_rich()
            return
        stream = self._stream()
        if stream.isatty():
            line = self.text()
            stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        elif time.monotonic() - self._logged >= 5.0:  # not a terminal: a line now and then, no \r
            self._logged = time.monotonic()
            stream.write(self.text() + "\n")
        else:
            return
        stream.flush()

    def _draw_rich(self) -> None:
        if self._rich is None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            console = Console(file=self._stream())
            self._rich = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=console,
                auto_refresh=False,  # no refresh thread: redraws happen in our calls, at our interval
            )
            self._rich.start()
            self._task = self._rich.add_task(self.description, total=self.total, completed=self._first)
        self._rich.update(self._task, completed=self.done, total=self.total)
        self._rich.refresh()

    def close(self) -> None:
        """Draw the final state and end the line (idempotent)."""
        if self.closed:
            return
        self.closed = True
        if self._started is None:
            return
        if self.use_rich:
            self._draw_rich()
            self._rich.stop()
            return
        stream = self._stream()
        line = self.text()
        stream.write(("\r" + line.ljust(self._width) if stream.isatty() else line) + "\n")
        stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
