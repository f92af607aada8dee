"""Resumable downloads: the decisions once, as a plan and a flow, run by ``brisk._flows``' two drivers.

``DownloadPlan`` holds everything that is decided: which headers to send, what an answer means, when to
start over, how the result is verified. ``download_flow`` is a generator that asks for effects (send this
request, stream this body into the plan, close that response, run this blocking file work) the way
``brisk._flows`` does for requests, and ``run_sync``/``run_async`` run it. Each effect is a
``brisk._flows.Perform``: it does its work itself, with a short blocking and a short asyncio method, the
only code of a download that exists twice. Local file work runs inline (writes are small and go to the page
cache); the heavy part (hashing an existing part file, fsync, rename) is a ``Blocking`` effect, which runs
in a thread on the event loop.

On disk, next to the target ``name``:

- ``name.part`` -- the bytes received so far, appended to on resume;
- ``name.part.json`` -- what is needed to resume safely: the URL, the validator (ETag, else
  Last-Modified) and the total size the server announced.

How an answer is read (``N`` bytes already in the part file, ``Range: bytes=N-`` and ``If-Range`` sent
only when there is a validator and the server did not say ``Accept-Ranges: none``):

=====================================  ======================================================================
200 (or 203)                           the whole resource: start over from this body (the range was ignored,
                                       or If-Range found the resource changed)
206 ``bytes N-E/T``                    append; unless the ETag/Last-Modified or the total differ from what
                                       was recorded (a server that ignored If-Range): start over
206 starting elsewhere, unparsable     start over with a plain GET
416 ``bytes */T`` with T == N          the part is already complete: verify it
416 otherwise                          the part is not a prefix of this resource: start over
other 4xx/5xx                          ``HTTPError``; the part file is kept for a later attempt
=====================================  ======================================================================

A transfer broken off mid-body (connection reset or closed early, read timeout) is resumed within the same
call up to ``max_resumes`` times, as long as each attempt made progress; beyond that the error is raised and
the part file stays for the next call. At the end the size must equal the announced total and the optional
checksum must match; otherwise ``SizeMismatch``/``ChecksumMismatch`` is raised and the part file deleted.
A complete file is flushed to disk (fsync) and renamed over the target in one step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, NamedTuple

from brisk._flows import Perform
from brisk._session.options import DOWNLOAD_OPTIONS, unknown_keywords
from brisk.exceptions import (
    ChecksumMismatch,
    ChunkedEncodingError,
    ConnectionError,
    DownloadError,
    ReadTimeout,
    SizeMismatch,
)

if TYPE_CHECKING:
    from pathlib import Path

    from brisk._session.calls import SessionCalls
    from brisk._session.types import DownloadOptions
    from brisk.models import Response

__all__ = [
    "DownloadPlan",
    "DownloadResult",
    "download_flow",
    "plan_download",
]

ProgressCallback = Callable[[int, "int | None"], object]

#: The errors that mean "the transfer broke off", after which a resume may finish the job.
BROKEN_OFF = (ChunkedEncodingError, ConnectionError, ReadTimeout)

_CONTENT_RANGE = re.compile(r"\s*bytes\s+(?:(\d+)-(\d+)|\*)\s*/\s*(\d+|\*)\s*", re.IGNORECASE)
_HASH_BLOCK = 1024 * 1024


class DownloadResult(NamedTuple):
    """What ``download()`` did.

    >>> result = session.download("https://example.org/big.iso", "big.iso")
    >>> result.path, result.total, result.resumed
    (PosixPath('big.iso'), 734003200, True)
    """

    #: Where the complete file is.
    path: Path
    #: Body bytes received by this call (bytes thrown away by a restart included).
    downloaded: int
    #: The size of the complete file.
    total: int
    #: True if bytes from an earlier attempt were kept and completed.
    resumed: bool
    #: True if bytes received earlier were thrown away because the resource changed or ranges were refused.
    restarted: bool
    #: The status of the last response (200, 206, or 416 for a part that was already complete).
    status: int


# -- effects: what the flow asks its driver to do ----------------------------------------------------------


class Fetch(Perform):
    """GET ``url`` with ``headers`` through ``session`` (body streamed), with the caller's other request
    ``options``; the result is the Response."""

    __slots__ = ("headers", "options", "session", "url")

    def __init__(
        self, session: SessionCalls[Any], url: str, headers: dict[str, str], options: dict[str, Any]
    ) -> None:
        self.session = session
        self.url = url
        self.headers = headers
        self.options = options

    def run(self) -> Any:
        return self.session.request("GET", self.url, headers=self.headers, stream=True, **self.options)

    async def arun(self) -> Any:
        return await self.session.request("GET", self.url, headers=self.headers, stream=True, **self.options)


class Stream(Perform):
    """Read the body of ``response`` as received (no content decoding), passing each piece to ``write``;
    close the response at the end."""

    __slots__ = ("chunk_size", "response", "write")

    def __init__(self, response: Response, write: Callable[[bytes], None], chunk_size: int | None) -> None:
        self.response = response
        self.write = write
        self.chunk_size = chunk_size

    def run(self) -> None:
        try:
            for chunk in self.response.iter_raw(self.chunk_size):
                self.write(chunk)
        finally:
            self.response.close()

    async def arun(self) -> None:
        try:
            async for chunk in self.response.aiter_raw(self.chunk_size):
                self.write(chunk)
        finally:
            await self.response.aclose()


class Close(Perform):
    """Close ``response`` without reading its body."""

    __slots__ = ("response",)

    def __init__(self, response: Response) -> None:
        self.response = response

    def run(self) -> None:
        self.response.close()

    async def arun(self) -> None:
        await self.response.aclose()


class Blocking(Perform):
    """Run ``function()`` (file work that may take a while; on the event loop, in a thread); the result is
    its return value."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function

    def run(self) -> Any:
        return self.function()

    async def arun(self) -> Any:
        import asyncio

        return await asyncio.to_thread(self.function)


Effect = Fetch | Stream | Close | Blocking

_WRITE, _RETRY, _COMPLETE = "write", "retry", "complete"


# -- the plan -----------------------------------------------------------------------------------------------


def parse_checksum(checksum: str) -> tuple[str, str]:
    """``"sha256:<hex>"`` -> ``("sha256", "<hex>")``; any fixed-size hashlib algorithm; ValueError if bad."""
    import hashlib

    algorithm, sep, expected = checksum.partition(":")
    algorithm = algorithm.strip().lower().replace("-", "")
    expected = expected.strip().lower()
    if not sep or not algorithm or not expected:
        raise ValueError(f"checksum must look like 'sha256:<hex digest>', got {checksum!r}")
    try:
        size = hashlib.new(algorithm).digest_size
    except (ValueError, TypeError):
        raise ValueError(f"unknown checksum algorithm {algorithm!r} in {checksum!r}") from None
    if algorithm.startswith("shake") or len(expected) != size * 2 or not re.fullmatch("[0-9a-f]+", expected):
        raise ValueError(f"checksum {checksum!r}: expected {size * 2} hex digits for {algorithm}")
    return algorithm, expected


def target_path(path: str | os.PathLike[str], url: str) -> Path:
    """The file to write: ``path``, or inside ``path`` (a directory) the last segment of the URL's path."""
    from pathlib import Path
    from urllib.parse import unquote, urlsplit

    target = Path(path)
    if target.is_dir():
        name = os.path.basename(unquote(urlsplit(url).path).rstrip("/"))
        target = target / (name if name not in ("", ".", "..") else "download")
    return target


def plan_download(
    url: str, path: str | os.PathLike[str], options: DownloadOptions
) -> tuple[DownloadPlan, dict[str, Any]]:
    """The plan of ``download(url, path, **options)``, and the options left for its requests. A keyword
    that is neither the download's nor ``request()``'s is a TypeError; ``stream`` is the download's to
    decide, so a given one is ignored."""
    if not options.keys() <= DOWNLOAD_OPTIONS:
        raise unknown_keywords("download", options, DOWNLOAD_OPTIONS)
    request_options: dict[str, Any] = dict(options)
    plan = DownloadPlan(url, path, request_options)
    request_options.pop("stream", None)
    return plan, request_options


class DownloadPlan:
    """Every decision of one download; holds the part file while writing it. No network I/O."""

    def __init__(self, url: str, path: str | os.PathLike[str], options: dict[str, Any]) -> None:
        """Takes the download's own options (``brisk._session.types.DownloadOptions``: ``resume``,
        ``progress``, ``chunk_size``, ``checksum``, ``max_resumes``, and the ``headers`` it adds Range to)
        out of ``options``, with their defaults; what is left are the options of its requests."""
        resume: bool = options.pop("resume", True)
        progress: ProgressCallback | None = options.pop("progress", None)
        chunk_size: int | None = options.pop("chunk_size", None)
        checksum: str | None = options.pop("checksum", None)
        max_resumes: int = options.pop("max_resumes", 3)
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise ValueError(f"chunk_size must be a positive int or None, not {chunk_size!r}")
        if max_resumes < 0:
            raise ValueError(f"max_resumes must be 0 or more, not {max_resumes}")
        self.url = url
        self.target = target_path(path, url)
        self.part = self.target.with_name(self.target.name + ".part")
        self.meta_path = self.target.with_name(self.target.name + ".part.json")
        self.resume = resume
        self.progress = progress
        self.chunk_size = chunk_size
        self.checksum = parse_checksum(checksum) if checksum else None
        self.resumes_left = max_resumes
        self.user_headers = options.pop("headers", None)
        # What is known about the resource (from the meta file, then from each response).
        self.etag: str | None = None
        self.last_modified: str | None = None
        self.total: int | None = None
        self.ranges_refused = False
        # The part file.
        self.offset = 0  # bytes in the part file
        self._file: Any = None
        self._hash: Any = None
        # This attempt and this call.
        self._sent_range = False
        self._expected_end: int | None = None  # where the current body must end
        self._attempt_bytes = 0
        self.downloaded = 0
        self.resumed = False
        self.restarted = False
        self.status = 0

    # -- before the first request ---------------------------------------------------------------------

    def load(self) -> None:
        """Read what an earlier attempt left; forget it unless it can be resumed safely."""
        import json

        part_size = self.part.stat().st_size if self.part.is_file() else 0
        meta: Any = None
        if self.resume and part_size:
            try:
                meta = json.loads(self.meta_path.read_text("utf-8"))
            except (OSError, ValueError):
                meta = None
        usable = (
            isinstance(meta, dict)
            and meta.get("url") == self.url
            and (meta.get("etag") or meta.get("last_modified"))
            and (meta.get("total") is None or (isinstance(meta["total"], int) and part_size <= meta["total"]))
        )
        if not usable:
            self._discard()
            return
        assert isinstance(meta, dict)
        self.etag = meta.get("etag")
        self.last_modified = meta.get("last_modified")
        self.total = meta.get("total")
        self.offset = part_size

    @property
    def validator(self) -> str | None:
        """What If-Range carries: a strong ETag, else the Last-Modified date (RFC 9110 section 13.1.5)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    def request_headers(self) -> dict[str, str]:
        """The headers of the next request: Range + If-Range when the part file can be continued."""
        headers: dict[str, str] = {"Accept-Encoding": "identity"}  # the stored bytes are what was sent
        if self.user_headers:
            items = self.user_headers.items() if hasattr(self.user_headers, "items") else self.user_headers
            for name, value in items:
                if name.lower() not in ("range", "if-range"):
                    headers[name] = value
        validator = self.validator
        self._sent_range = bool(self.offset and validator and not self.ranges_refused)
        if self._sent_range:
            assert validator is not None
            headers["Range"] = f"bytes={self.offset}-"
            headers["If-Range"] = validator
        self._attempt_bytes = 0
        return headers

    # -- reading an answer ----------------------------------------------------------------------------

    def on_response(self, response: Response) -> str:
        """What to do with a response: write its body, retry with another request, or finish."""
        status = self.status = response.status_code
        headers = response.headers
        if status in (200, 203):
            if self.offset:
                self.restarted = True
            self._remember(headers, _int(headers.get("content-length")))
            self.offset = 0
            self._expected_end = self.total
            if (headers.get("accept-ranges") or "").strip().lower() == "none":
                self.ranges_refused = True
            return _WRITE
        if status == 206:
            if not self._sent_range:
                raise DownloadError(
                    f"{self.url} answered 206 Partial Content to a request without Range", response=response
                )
            span = _content_range(headers.get("content-range"))
            if span is None or span[0] != self.offset or span[1] is None or self._changed(headers, span[2]):
                return self._start_over()
            self.resumed = True
            self.etag = headers.get("etag") or self.etag  # a 206 may leave the validators out
            self.last_modified = headers.get("last-modified") or self.last_modified
            self.total = span[2] if span[2] is not None else self.total
            self._expected_end = span[1] + 1
            return _WRITE
        if status == 416 and self._sent_range:
            span = _content_range(headers.get("content-range"))
            size = span[2] if span is not None else self.total
            if size is not None and size == self.offset and not self._changed(headers, size):
                self.resumed = True
                self.total = size
                return _COMPLETE
            return self._start_over()
        response.raise_for_status()
        raise DownloadError(
            f"{self.url} answered {status} {response.reason}: nothing to download", response=response
        )

    def _changed(self, headers: Any, total: int | None) -> bool:
        """True if the response describes another version of the resource than the part file holds."""
        etag = headers.get("etag")
        if etag and self.etag and etag != self.etag:
            return True
        modified = headers.get("last-modified")
        if modified and not self.etag and self.last_modified and modified != self.last_modified:
            return True
        return total is not None and self.total is not None and total != self.total

    def _start_over(self) -> str:
        """Throw the part file away and ask again without Range."""
        if self.offset:
            self.restarted = True
        self._discard()
        return _RETRY

    def _remember(self, headers: Any, total: int | None) -> None:
        self.etag = headers.get("etag") or None
        self.last_modified = headers.get("last-modified") or None
        self.total = total

    def _discard(self) -> None:
        self.close_file()
        for path in (self.part, self.meta_path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        self.offset = 0
        self.etag = self.last_modified = None
        self.total = None

    # -- writing --------------------------------------------------------------------------------------

    def open_part(self) -> None:
        """Open the part file for this body (truncated, or appended to) and record the meta file."""
        import json

        self.close_file()
        self.part.parent.mkdir(parents=True, exist_ok=True)
        meta = {"url": self.url, "etag": self.etag, "last_modified": self.last_modified, "total": self.total}
        if self.ranges_refused:
            meta["etag"] = meta["last_modified"] = None  # nothing to resume with
        temporary = self.meta_path.with_name(self.meta_path.name + ".tmp")
        temporary.write_text(json.dumps(meta), "utf-8")
        os.replace(temporary, self.meta_path)
        self._file = open(self.part, "ab" if self.offset else "wb")  # noqa: SIM115 - closed by close_file
        self._hash = None
        if self.checksum is not None:
            self._hash = self._hash_of_part(self.offset)

    def report(self) -> None:
        """Tell the progress callback where the file stands (called where the driver runs, never a thread)."""
        if self.progress is not None:
            self.progress(self.offset, self.total)

    def _hash_of_part(self, size: int) -> Any:
        import hashlib

        assert self.checksum is not None
        digest = hashlib.new(self.checksum[0])
        if size:
            with open(self.part, "rb") as f:
                while block := f.read(min(_HASH_BLOCK, size)):
                    digest.update(block)
                    size -= len(block)
        return digest

    def write(self, chunk: bytes) -> None:
        """Append a piece of the body to the part file (the ``Stream`` effect calls this)."""
        if not chunk:
            return
        self._file.write(chunk)
        if self._hash is not None:
            self._hash.update(chunk)
        size = len(chunk)
        self.offset += size
        self._attempt_bytes += size
        self.downloaded += size
        if self.progress is not None:
            self.progress(self.offset, self.total)

    def body_done(self) -> bool:
        """The body ended normally: True if the file is complete, False to ask for the rest."""
        end = self._expected_end
        if end is not None and self.offset != end:
            raise self._mismatch(SizeMismatch, f"the body ended at byte {self.offset}, not at {end}")
        if self.total is None or self.offset >= self.total:
            return True
        if self._attempt_bytes == 0:  # a 206 that carried nothing: asking again would loop
            raise self._mismatch(SizeMismatch, f"the server stopped sending at byte {self.offset}")
        return False  # the server sent a shorter range than asked: ask for the rest

    def may_resume(self, error: BaseException) -> bool:
        """After a transfer broke off: True to resume now (progress was made and resumes are left)."""
        if not isinstance(error, BROKEN_OFF) or self._attempt_bytes == 0 or self.resumes_left <= 0:
            return False
        self.resumes_left -= 1
        self.close_file(sync=False)
        return True

    def finish(self) -> DownloadResult:
        """Verify size and checksum, fsync, and rename the part file over the target."""
        if self._file is None:  # a part that was complete already (416): nothing was opened
            self._file = open(self.part, "ab")  # noqa: SIM115 - closed below
            if self.checksum is not None:
                self._hash = self._hash_of_part(self.offset)
        if self.total is not None and self.offset != self.total:
            raise self._mismatch(SizeMismatch, f"got {self.offset} bytes, the server announced {self.total}")
        if self.checksum is not None:
            algorithm, expected = self.checksum
            actual = self._hash.hexdigest()
            if actual != expected:
                self._discard()
                raise ChecksumMismatch(
                    f"download of {self.url} to {self.target} failed verification: the {algorithm} of "
                    f"the file is {actual}, expected {expected}",
                    path=self.target,
                    expected=expected,
                    actual=actual,
                )
        self.close_file(sync=True)
        os.replace(self.part, self.target)
        _sync_directory(self.target.parent)
        try:
            self.meta_path.unlink()
        except FileNotFoundError:
            pass
        return DownloadResult(
            self.target, self.downloaded, self.offset, self.resumed, self.restarted, self.status
        )

    def _mismatch(self, kind: type[DownloadError], detail: str) -> DownloadError:
        self._discard()
        return kind(
            f"download of {self.url} to {self.target} failed verification: {detail}", path=self.target
        )

    def close_file(self, sync: bool = False) -> None:
        """Close the part file (after an fsync when ``sync``)."""
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.flush()
            if sync:
                os.fsync(f.fileno())
        finally:
            f.close()


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _content_range(value: str | None) -> tuple[int | None, int | None, int | None] | None:
    """``bytes 10-99/100`` -> (10, 99, 100); ``bytes */100`` -> (None, None, 100); None if unparsable."""
    if not value:
        return None
    found = _CONTENT_RANGE.fullmatch(value)
    if found is None:
        return None
    first, last, total = found.groups()
    start = int(first) if first is not None else None
    end = int(last) if last is not None else None
    size = int(total) if total != "*" else None
    if start is not None and end is not None and (end < start or (size is not None and end >= size)):
        return None
    return start, end, size


def _sync_directory(directory: Path) -> None:
    """fsync the directory so the rename survives a crash (POSIX; a no-op where directories cannot open)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the flow -----------------------------------------------------------------------------------------------


def download_flow(
    plan: DownloadPlan, session: SessionCalls[Any], options: dict[str, Any]
) -> Generator[Effect, Any, DownloadResult]:
    """The download as effects, its requests sent through ``session`` with ``options`` (the caller's other
    ``request()`` arguments); see the module docstring for the rules."""
    try:
        yield Blocking(plan.load)
        while True:
            response: Response = yield Fetch(session, plan.url, plan.request_headers(), options)
            try:
                step = plan.on_response(response)
            except Exception:
                yield Close(response)
                raise
            if step == _RETRY:
                yield Close(response)
                continue
            if step == _COMPLETE:
                yield Close(response)
                break
            yield Blocking(plan.open_part)
            plan.report()
            try:
                yield Stream(response, plan.write, plan.chunk_size)
            except BROKEN_OFF as exc:
                if plan.may_resume(exc):
                    continue
                raise
            if plan.body_done():
                break
        result: DownloadResult = yield Blocking(plan.finish)
        return result
    finally:
        plan.close_file()
