"""Request bodies: turning requests' ``data=``, ``json=`` and ``files=`` into what goes on the wire.

``encode_body`` returns ``bytes`` for what is already in memory (the fast path: one write, a Content-Length),
``str`` for forms and text (as requests does; sent as UTF-8), and a ``RequestBody`` for streams: file objects,
iterables, async iterables and multipart uploads with files.
A ``RequestBody`` knows its length when it can be known without reading it (``None`` means the body is sent
with ``Transfer-Encoding: chunked``) and whether it can be sent again for a retry, a 307/308 redirect or an
authentication challenge (``replayable``; ``rewind()`` raises ``UnrewindableBodyError`` otherwise).
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping

from brisk._core.form import encode_form
from brisk.exceptions import InvalidJSONError, RequestException, UnrewindableBodyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CHUNK_SIZE",
    "FileBody",
    "IterBody",
    "ProgressBody",
    "RequestBody",
    "encode_body",
    "encode_json",
    "with_progress",
]

#: Size of the pieces read from files.
CHUNK_SIZE = 64 * 1024

_BYTES_LIKE = (bytes, bytearray, memoryview)
_READ_ONLY = (io.BufferedReader, io.FileIO)  # open(path, "rb") and its unbuffered form


class RequestBody:
    """A request body produced piece by piece instead of held in memory.

    ``content_length`` is ``None`` when the size is not known in advance (the body is then sent chunked);
    ``replayable`` says whether ``rewind()`` can make it start again. Iterating a body a second time rewinds
    it first, so a body that cannot be replayed raises ``UnrewindableBodyError`` instead of sending nothing.
    """

    content_length: int | None = None
    replayable: bool = False
    _started = False

    def __iter__(self) -> Iterator[bytes]:
        """The body in non-empty chunks (at most ``CHUNK_SIZE`` each when read from files)."""
        if self._started:
            self.rewind()
        self._started = True
        return self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The same bytes as ``__iter__``, for the async client."""
        # Local files are read inline: a thread hop per chunk would cost more than it saves.
        for chunk in self:
            yield chunk

    def rewind(self) -> None:
        """Make the next iteration start again from the beginning, or raise ``UnrewindableBodyError``."""
        if self._started:
            raise UnrewindableBodyError(f"cannot send the request body again: {self._why_unrewindable()}")

    def file_range(self) -> tuple[int, int, int] | None:
        """``(descriptor, offset, length)`` when the body is that range of a regular file, which a transport
        may hand to the kernel (``os.sendfile``) instead of iterating it; starts the body as iterating
        would. None for every other body."""
        return None

    def range_sent(self, sent: int) -> None:
        """Told by the transport how many bytes of ``file_range()`` the kernel sent."""
        raise NotImplementedError

    def _chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def _why_unrewindable(self) -> str:
        return "it was already sent and cannot be produced again"


def _seek_position(fileobj: Any) -> int | None:
    """The current position of a seekable file object, or ``None`` if it cannot seek back."""
    try:
        seekable = fileobj.seekable()
    except AttributeError:
        seekable = hasattr(fileobj, "seek") and hasattr(fileobj, "tell")
    except (OSError, ValueError):
        return None
    if not seekable:
        return None
    try:
        position = fileobj.tell()
    except (OSError, ValueError, AttributeError):
        return None
    return position if isinstance(position, int) else None


def _remaining_size(fileobj: Any, position: int | None) -> int | None:
    """Bytes left from ``position`` to the end of a binary file, when it can be known without reading."""
    if position is None:
        return None
    try:
        fd = fileobj.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        fd = None
    if isinstance(fd, int):
        try:
            st = os.fstat(fd)
        except OSError:
            st = None
        # Pipes and sockets report no useful size; neither do /proc files (size 0): send those chunked.
        if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > 0:
            return max(st.st_size - position, 0)
    try:
        end = fileobj.seek(0, io.SEEK_END)
        if not isinstance(end, int):  # a hand-written file object whose seek() returns nothing
            end = fileobj.tell()
        fileobj.seek(position)
    except (OSError, ValueError, AttributeError):
        return None
    return max(end - position, 0) if isinstance(end, int) else None


def _declared_size(fileobj: Any, position: int | None) -> int | None:
    """The size a stream that cannot be measured declares, as requests' ``super_len`` reads it: ``len()``,
    else a ``len`` attribute (requests-toolbelt's ``MultipartEncoder`` and ``StreamingIterator``), less the
    position it was read to. Sent with that Content-Length, as requests does, not chunked (which servers
    such as werkzeug's refuse)."""
    try:
        size = len(fileobj) if hasattr(fileobj, "__len__") else getattr(fileobj, "len", None)
    except (TypeError, ValueError, OSError):
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        return None
    return max(size - (position or 0), 0)


def _encoded_text_size(fileobj: Any, position: int | None) -> int | None:
    """Bytes a seekable text file will take as UTF-8 from ``position``: measured by reading it once and
    seeking back (a server may refuse a chunked upload; requests sends text files with a length too)."""
    if position is None:
        return None
    size = 0
    try:
        while chunk := fileobj.read(CHUNK_SIZE):
            size += len(chunk.encode("utf-8")) if isinstance(chunk, str) else len(chunk)
    except UnicodeError as exc:  # text that cannot be decoded or encoded fails now, not halfway through
        exc.add_note(f"while measuring the text file {_file_name(fileobj)} to upload it")
        raise
    except (OSError, ValueError):
        return None  # sent chunked instead
    finally:
        fileobj.seek(position)  # back to where the body starts, whatever happened
    return size


def _file_name(fileobj: Any) -> str:
    name = getattr(fileobj, "name", None)
    return repr(name) if isinstance(name, str) else type(fileobj).__name__


class FileBody(RequestBody):
    """A file object streamed in ``CHUNK_SIZE`` pieces from its current position.

    Binary files whose size can be learnt (``os.fstat`` for regular files, else seek/tell) get a
    ``content_length`` and exactly that many bytes are sent. Text files are encoded as UTF-8; a seekable
    one is measured first (one extra read) and gets a ``content_length`` too, others are sent chunked.
    Replayable when the file can seek: ``rewind()`` seeks back to where the body started.
    """

    def __init__(self, fileobj: Any) -> None:
        self._file = fileobj
        self._text = isinstance(fileobj, io.TextIOBase)
        self._start = _seek_position(fileobj)
        self.replayable = self._start is not None
        self.content_length = (
            _encoded_text_size(fileobj, self._start) if self._text else _remaining_size(fileobj, self._start)
        )
        if self.content_length is None and not self._text:
            self.content_length = _declared_size(fileobj, self._start)

    def rewind(self) -> None:
        """Seek the file back to the position the body started at."""
        if not self._started:
            return
        if self._start is None:
            super().rewind()
            return
        self._file.seek(self._start)
        self._started = False

    def read(self, size: int = -1) -> bytes:
        """Read from the file itself, as code written for requests does with ``PreparedRequest.body``
        (requests keeps the file object there): test doubles record what a request would have sent."""
        data = self._file.read(size)
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek the file itself (requests' ``utils.rewind_body`` seeks ``PreparedRequest.body``)."""
        position: int = self._file.seek(offset, whence)
        self._started = False
        return position

    def tell(self) -> int:
        position: int = self._file.tell()
        return position

    def _why_unrewindable(self) -> str:
        return f"it is a file object that cannot seek ({_file_name(self._file)}) and was already read"

    def file_range(self) -> tuple[int, int, int] | None:
        # Only a file opened for reading in binary: a writable buffered file may hold bytes not yet
        # written to its descriptor, and text is encoded on the way.
        # The exact types: a subclass may watch or change what read() gives (a progress bar), which the
        # kernel would bypass.
        if self._start is None or not self.content_length or type(self._file) not in _READ_ONLY:
            return None
        # Over a file's own descriptor only: a BufferedReader may read from any raw stream, such as a tar
        # archive's member (positions within the member, and no fileno at all).
        raw = self._file if type(self._file) is io.FileIO else getattr(self._file, "raw", None)
        if type(raw) is not io.FileIO or not raw.readable():  # open(path, "wb", buffering=0): FileIO too
            return None
        try:
            descriptor = self._file.fileno()
        except (OSError, ValueError, AttributeError):
            return None
        if self._started:
            self.rewind()
        self._started = True
        return descriptor, self._start, self.content_length

    def range_sent(self, sent: int) -> None:
        """After the kernel sent ``sent`` bytes of ``file_range()``: the file is left where reading them
        would leave it, or, when the file ended early, the error iterating it would have raised."""
        start, length = self._start or 0, self.content_length or 0  # (both set: file_range() gave them)
        self._file.seek(start + sent)
        if sent < length:
            raise self._shrank(length - sent)

    def _shrank(self, missing: int) -> RequestException:
        return RequestException(
            f"the file {_file_name(self._file)} shrank while it was being sent: "
            f"{missing} of the {self.content_length} announced bytes are missing"
        )

    def _chunks(self) -> Iterator[bytes]:
        read = self._file.read
        remaining = self.content_length
        # Text is read in characters: a quarter of the chunk keeps each encoded piece within CHUNK_SIZE.
        size = CHUNK_SIZE // 4 if self._text else CHUNK_SIZE
        if remaining is None:
            while chunk := read(size):
                yield chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)
            return
        while remaining > 0:
            chunk = read(min(size, remaining))
            if not chunk:
                raise self._shrank(remaining)
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if len(chunk) > remaining:  # the file grew: send what was announced, no more
                chunk = chunk[:remaining]
            remaining -= len(chunk)
            yield bytes(chunk)


def _to_bytes(item: Any) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, bytearray | memoryview):
        return bytes(item)
    raise TypeError(f"request body chunks must be bytes or str, got {type(item).__name__}")


class IterBody(RequestBody):
    """An iterable of bytes/str chunks, sent chunked.

    A list or tuple can be sent again; a generator or other iterator cannot. Async iterables and async
    generators are consumed by ``__aiter__`` (the async client) only.
    """

    def __init__(self, iterable: Iterable[Any] | AsyncIterable[Any]) -> None:
        self._iterable = iterable
        self.replayable = isinstance(iterable, list | tuple)
        self._is_async = not isinstance(iterable, Iterable) and isinstance(iterable, AsyncIterable)

    def _why_unrewindable(self) -> str:
        kind = "an async iterable" if self._is_async else "a generator or iterator"
        return f"the request body is {kind} that was already consumed; pass bytes or a list to re-send it"

    def rewind(self) -> None:
        """Lists and tuples start again; consumed iterators raise ``UnrewindableBodyError``."""
        if self.replayable:
            self._started = False
        else:
            super().rewind()

    def __iter__(self) -> Iterator[bytes]:
        """The chunks, encoding str as UTF-8 and skipping empty ones; async iterables raise TypeError."""
        if self._is_async:
            raise TypeError(
                "the request body is an async iterable: it can only be sent by the async client "
                "(AsyncSession); pass a regular iterable to the sync client"
            )
        return super().__iter__()

    def _chunks(self) -> Iterator[bytes]:
        for item in self._iterable:  # type: ignore[union-attr]  # never async: __iter__ checked
            chunk = _to_bytes(item)
            if chunk:  # an empty chunk would end a chunked body early
                yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The chunks for the async client, awaiting them when the iterable is asynchronous."""
        if not self._is_async:
            for chunk in self:
                yield chunk
            return
        if self._started:
            self.rewind()  # always raises: async iterables are single-use
        self._started = True
        async for item in self._iterable:  # type: ignore[union-attr]
            chunk = _to_bytes(item)
            if chunk:
                yield chunk


def encode_json(obj: Any) -> bytes:
    """A ``json=`` body: compact JSON (NaN and infinities refused, as requests refuses them), as UTF-8."""
    encoder = _json_encoder or _make_json_encoder()
    try:  # json.dumps(obj, allow_nan=False), without making an encoder on each call
        text: str = encoder.encode(obj)
    except (ValueError, TypeError) as exc:
        raise InvalidJSONError(f"the json= body cannot be serialised as JSON: {exc}") from exc
    return text.encode("utf-8")


_json_encoder: Any = None  # made by the first json= body


def _make_json_encoder() -> Any:
    global _json_encoder
    import json  # not at import time: see brisk._core.json_error

    _json_encoder = json.JSONEncoder(allow_nan=False)
    return _json_encoder


def _is_chunk_list(data: list[Any] | tuple[Any, ...]) -> bool:
    """A list of bytes/str chunks, as opposed to requests' list of (key, value) form pairs."""
    return all(isinstance(item, str | bytes | bytearray | memoryview) for item in data)


def encode_body(
    *, data: Any = None, files: Any = None, json: Any = None
) -> tuple[bytes | str | RequestBody | None, str | None]:
    """Return ``(body, content_type)`` for requests' ``data=``/``files=``/``json=`` arguments.

    ``body`` is ``str`` for a form or a text ``data=`` (as ``PreparedRequest.body`` is in requests; it goes
    out as UTF-8), ``bytes`` for other in-memory bodies, a ``RequestBody`` for streams, or ``None``;
    ``content_type`` is the Content-Type to send unless the caller set one (``None``: do not add one).
    """
    if files:
        from brisk._request.multipart import encode_multipart

        return encode_multipart(files, data)
    if data is None or (isinstance(data, str | bytes | bytearray | Mapping | list | tuple) and not data):
        if json is not None:
            return encode_json(json), "application/json"
        return None, None
    if isinstance(data, bytes):
        return data, None
    if isinstance(data, str):
        return data, None  # kept as text, as requests does; sent as UTF-8
    if isinstance(data, _BYTES_LIKE):
        return bytes(data), None
    if hasattr(data, "read"):
        return FileBody(data), None
    if isinstance(data, Mapping) or (isinstance(data, list | tuple) and not _is_chunk_list(data)):
        return encode_form(data), "application/x-www-form-urlencoded"  # text (all ASCII), as in requests
    if isinstance(data, Iterable | AsyncIterable):
        return IterBody(data), None
    raise TypeError(
        f"data= must be bytes, str, a mapping, a list of pairs, a file object or an iterable of bytes, "
        f"not {type(data).__name__}"
    )


#: ``progress(done, total)``: bytes sent so far and the body's size (None when unknown).
ProgressCallback = Callable[[int, "int | None"], object]


class ProgressBody(RequestBody):
    """A request body (bytes or a ``RequestBody``) that reports the bytes sent to ``callback(done, total)``.

    The length and replayability are those of the wrapped body, so the request goes out exactly as it
    would without progress. ``callback(0, total)`` comes first, then one call after each piece the transport
    has written, the last with ``done`` equal to the body size; a rewind (retry, redirect, authentication
    challenge) starts the count again from 0. In-memory bodies are cut into ``CHUNK_SIZE`` pieces so the
    progress moves.
    """

    def __init__(self, body: bytes | RequestBody, callback: ProgressCallback) -> None:
        self._body = body
        self._callback = callback
        if isinstance(body, bytes):
            self.content_length = len(body)
            self.replayable = True
        else:
            self.content_length = body.content_length
            self.replayable = body.replayable

    def rewind(self) -> None:
        """Rewind the wrapped body; the next iteration reports from 0 again."""
        if not self._started:
            return
        if isinstance(self._body, RequestBody):
            self._body.rewind()
        self._started = False

    def _why_unrewindable(self) -> str:
        body = self._body
        return body._why_unrewindable() if isinstance(body, RequestBody) else super()._why_unrewindable()

    def _chunks(self) -> Iterator[bytes]:
        body = self._body
        if isinstance(body, bytes):
            return self._counted(body[i : i + CHUNK_SIZE] for i in range(0, len(body), CHUNK_SIZE))
        return self._counted(iter(body))

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        callback, total = self._callback, self.content_length
        done = 0
        callback(done, total)
        for chunk in chunks:
            yield chunk  # the transport comes back for the next piece once this one is written
            done += len(chunk)
            callback(done, total)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The same pieces and reports for the async client (async iterables included)."""
        body = self._body
        if isinstance(body, bytes) or not getattr(body, "_is_async", False):
            for chunk in self:
                yield chunk
            return
        if self._started:
            self.rewind()
        self._started = True
        callback, total = self._callback, self.content_length
        done = 0
        callback(done, total)
        async for chunk in body:
            yield chunk
            done += len(chunk)
            callback(done, total)


def with_progress(body: bytes | RequestBody | None, callback: ProgressCallback | None) -> Any:
    """``body`` wrapped to report its progress to ``callback``; unchanged without a callback or a body."""
    if callback is None or body is None or isinstance(body, ProgressBody):
        return body
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if not isinstance(body, bytes | RequestBody):
        return body  # something a custom adapter understands: leave it alone
    return ProgressBody(body, callback)
