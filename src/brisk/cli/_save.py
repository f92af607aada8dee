"""``-o FILE``: save the body to a file, through brisk's download API (``Session.download``).

A GET goes through ``Session.download``: the body is written to ``FILE.part`` and renamed to ``FILE`` once
complete (with an fsync), a transfer broken off mid-body is resumed within the same run, and with
``--continue`` a part file left by an interrupted run is resumed with ``Range`` + ``If-Range`` (started over
when the server ignores the range or the file changed). ``brisk.progress.ProgressBar`` draws the bar on
a terminal. Other methods (``brisk POST url ... -o out.json``) write the body as it arrives, without resume.
"""

from __future__ import annotations

import sys
from pathlib import Path

from brisk.cli._args import DownloadError
from brisk.exceptions import DownloadError as BriskDownloadError
from brisk.exceptions import HTTPError, RequestException
from brisk.progress import format_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk.models import Response
    from brisk.sessions import Session

__all__ = ["download", "save_response"]


def _status_error(response: Response | None, path: str) -> DownloadError | None:
    """The CLI's error for a download answered with a status that carries no file (3xx, 4xx, 5xx)."""
    if response is None or response.status_code < 300:
        return None
    from brisk.cli._output import reason_phrase

    status = response.status_code
    message = f"HTTP {status} {reason_phrase(response)}: nothing saved to {path}"
    return DownloadError(message, status=min(status // 100, 5))


def download(
    session: Session,
    url: str,
    path: str,
    *,
    resume: bool,
    quiet: bool,
    request_args: dict[str, Any],
) -> str:
    """GET ``url`` into ``path`` with ``Session.download``; return the summary line for stderr."""
    progress = None
    if not quiet and sys.stderr.isatty():
        from brisk.progress import ProgressBar

        progress = ProgressBar(Path(path).name, file=sys.stderr)
    try:
        result = session.download(url, path, resume=resume, progress=progress, **request_args)
    except (HTTPError, BriskDownloadError) as exc:
        error = _status_error(exc.response, path)
        if error is None:
            raise
        raise error from None
    except KeyboardInterrupt:
        part = Path(path + ".part") if not Path(path).is_dir() else None
        if part is not None and part.is_file() and part.stat().st_size:
            sys.stderr.write(
                f"\nbrisk: interrupted: {format_bytes(part.stat().st_size)} kept in {part}; "
                "run the same command with --continue to resume\n"
            )
        raise
    finally:
        if progress is not None:
            progress.close()
    target = result.path
    if result.status == 416:
        return f"{target} was complete already ({format_bytes(result.total)})"
    saved = f"saved {format_bytes(result.downloaded)} to {target}"
    if result.resumed:
        kept = result.total - result.downloaded
        return f"{saved} (resumed after {format_bytes(kept)}: {format_bytes(result.total)} in all)"
    if result.restarted:
        return f"{saved} (the partial file could not be resumed: downloaded from the start)"
    return saved


def save_response(response: Response, path: str) -> str:
    """Write the (decoded) body of a response to another method than GET into ``path``."""
    error = _status_error(response, path)
    if error is not None:
        response.close()
        raise error
    written = 0
    try:
        with open(path, "wb") as f:
            for chunk in response.iter_content(None):
                f.write(chunk)
                written += len(chunk)
    except RequestException:
        raise
    except OSError as exc:  # the file, not the network (brisk's errors are OSErrors too)
        response.close()
        raise DownloadError(f"cannot write {path!r}: {exc.strerror or exc}") from None
    return f"saved {format_bytes(written)} to {path}"
