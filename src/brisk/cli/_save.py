"""``-o FILE``: save the body to a file, with a progress bar on a terminal; ``--continue`` resumes.

Resuming asks for the rest with ``Range: bytes=<size of the file>-`` and appends only when the server
answers 206 from exactly that offset. A 200 means the server ignored the range: the file is written from the
start. A 416 whose ``Content-Range`` total equals the file's size means the file is complete already.
Downloads ask for ``Accept-Encoding: identity``: ranges count bytes of the encoded body, which would not
match a file saved decoded.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING, TextIO

from ..exceptions import RequestException
from ._args import DownloadError

if TYPE_CHECKING:
    from ..models import Response

__all__ = ["Progress", "human_size", "prepare_download", "save_body"]

_CONTENT_RANGE = re.compile(r"\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*", re.IGNORECASE)


def human_size(size: float) -> str:
    """``532 B``, ``1.4 kB``, ``12.0 MB``: decimal units, as download tools show them."""
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB"):
        size /= 1000
        if size < 1000:
            return f"{size:.1f} {unit}"
    return f"{size / 1000:.1f} GB"


def prepare_download(path: str, resume: bool, headers: dict[str, str | None]) -> int:
    """Add the download's request headers to ``headers``; return the offset to resume from (0: start)."""
    lowered = {name.lower() for name in headers}
    if "accept-encoding" not in lowered:
        headers["Accept-Encoding"] = "identity"
    if not resume:
        return 0
    try:
        offset = os.path.getsize(path)
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise DownloadError(f"cannot resume {path!r}: {exc.strerror or exc}") from None
    if offset and "range" not in lowered:
        headers["Range"] = f"bytes={offset}-"
    return offset


class Progress:
    """A one-line progress bar redrawn in place on a terminal (at most ten times a second)."""

    WIDTH = 30

    def __init__(self, stream: TextIO, total: int | None, done: int = 0) -> None:
        self.stream = stream
        self.total = total
        self.done = done
        self.start_done = done
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, size: int) -> None:
        self.done += size
        now = time.monotonic()
        if now - self._drawn >= 0.1:
            self._drawn = now
            self._draw(now)

    def finish(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-6)
        rate = (self.done - self.start_done) / elapsed
        speed = f"{human_size(rate)}/s"
        if self.total:
            fraction = min(1.0, self.done / self.total)
            filled = int(fraction * self.WIDTH)
            bar = "█" * filled + "░" * (self.WIDTH - filled)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            eta = f"{int(left // 60)}:{int(left % 60):02d} left" if self.done < self.total else "done"
            size = f"{human_size(self.done)} / {human_size(self.total)}"
            return f"{fraction:4.0%} ▕{bar}▏ {size}  {speed}  {eta}"
        return f"{human_size(self.done)}  {speed}"

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()


def _content_range(response: Response) -> tuple[int | None, int | None]:
    """``(first byte, total size)`` of a Content-Range header; None for what it does not say."""
    found = _CONTENT_RANGE.fullmatch(response.headers.get("content-range") or "")
    if found is None:
        return None, None
    first = int(found.group(1)) if found.group(1) else None
    total = int(found.group(3)) if found.group(3) != "*" else None
    return first, total


def save_body(response: Response, path: str, offset: int, progress: TextIO | None) -> str:
    """Write the body of ``response`` to ``path`` (appending from ``offset`` on a matching 206); return
    the summary line. ``progress`` is the terminal to draw the bar on, or None."""
    status = response.status_code
    mode = "wb"
    resumed = 0
    if status == 416 and offset:
        _, total = _content_range(response)
        response.close()
        if total == offset:
            return f"{path} is complete already ({human_size(offset)})"
        raise DownloadError(f"cannot resume {path!r}: the server has no bytes after offset {offset}")
    if not 200 <= status < 300:
        response.close()
        reason = f" {response.reason}" if response.reason else ""
        raise DownloadError(f"HTTP {status}{reason}: nothing saved to {path}", status=min(status // 100, 5))
    length = response.headers.get("content-length")
    total = int(length) if length and length.isdigit() else None
    note = ""
    if status == 206 and offset:
        first, full = _content_range(response)
        if first != offset:
            response.close()
            raise DownloadError(f"cannot resume {path!r}: the server answered a different range")
        mode, resumed, total = "ab", offset, full
    elif offset:
        note = " (the server ignored the range: downloaded from the start)"
    bar = Progress(progress, total, resumed) if progress is not None else None
    written = 0
    try:
        with open(path, mode) as f:
            for chunk in response.iter_content(None):
                f.write(chunk)
                written += len(chunk)
                if bar is not None:
                    bar.advance(len(chunk))
    except RequestException:
        raise
    except OSError as exc:  # the file, not the network (brisk's errors are OSErrors too)
        response.close()
        raise DownloadError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    finally:
        if bar is not None:
            bar.finish()
    how = f"resumed at {human_size(resumed)}, " if resumed else ""
    return f"saved {human_size(written)} to {path} ({how}{human_size(resumed + written)} in all){note}"
