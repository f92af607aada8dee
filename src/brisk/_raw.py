"""``response.raw``: a file-like view of the body, for code written against urllib3's response; and the
other way round, a raw set by hand (``response.raw = io.BytesIO(...)``) read as the body of a Response.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .exceptions import ChunkedEncodingError, ContentDecodingError, RequestException, SSLError
from .exceptions import ConnectionError as BriskConnectionError

if TYPE_CHECKING:
    from ._headers import Headers
    from .models import Response

__all__ = ["HandSetRaw", "RawResponse"]

CONTENT_CHUNK_SIZE = 10 * 1024  # what requests reads a raw by when it reads the whole body

# The errors of urllib3's ``stream()`` that requests turns into its own, by urllib3's class names (urllib3 is
# no dependency of brisk: a raw of its kind only comes from the caller's code).
_FROM_URLLIB3: dict[str, type[RequestException]] = {
    "ProtocolError": ChunkedEncodingError,
    "DecodeError": ContentDecodingError,
    "ReadTimeoutError": BriskConnectionError,
    "SSLError": SSLError,
}


class RawResponse:
    """Reads the body with ``read(n)``; raw bytes unless ``decode_content`` is set (as in urllib3).

    ``shutil.copyfileobj(response.raw, f)`` works; so do ``stream(n)``, ``readinto`` and ``close()``.
    """

    def __init__(self, response: Response) -> None:
        self._response = response
        self._source: Iterator[bytes] | None = None
        # The piece being read and how much of it was handed out: small reads take slices of it, never
        # copy what is left of it (which would make reading a body in small pieces quadratic).
        self._buffer = b""
        self._offset = 0
        self._position = 0
        self.decode_content = False

    def _pieces(self, decode: bool) -> Iterator[bytes]:
        if self._source is None:
            response = self._response
            if response._consumed and response._chunks is None:
                self._source = iter(())  # read already (content, iter_content...): at its end, as urllib3's
            else:
                self._source = response.iter_content(None) if decode else response.iter_raw()
        return self._source

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        decode = self.decode_content if decode_content is None else decode_content
        pieces = self._pieces(decode)
        buffer, offset = self._buffer, self._offset
        if amt is None or amt < 0:
            parts = [buffer[offset:], *pieces]
            buffer, offset = b"", 0
        else:
            parts = []
            wanted = amt
            while True:
                if offset < len(buffer):
                    part = buffer[offset : offset + wanted]  # the whole piece itself when it all fits
                    parts.append(part)
                    offset += len(part)
                    wanted -= len(part)
                if not wanted:
                    break
                piece = next(pieces, None)
                if piece is None:
                    buffer, offset = b"", 0
                    break
                buffer, offset = piece, 0
            if offset == len(buffer):
                buffer, offset = b"", 0
        self._buffer, self._offset = buffer, offset
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._position += len(data)
        return data

    def read1(self, amt: int = -1) -> bytes:
        left = len(self._buffer) - self._offset
        if left:
            return self.read(min(amt, left) if amt > 0 else left)
        piece = next(self._pieces(self.decode_content), b"")
        if amt > 0 and len(piece) > amt:
            self._buffer, self._offset = piece, amt
            piece = piece[:amt]
        self._position += len(piece)
        return piece

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        while True:
            data = self.read(amt, decode_content=decode_content)
            if not data:
                return
            yield data

    def __iter__(self) -> Iterator[bytes]:
        return self.stream()

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self._response.close()

    def release_conn(self) -> None:
        self._response.close()

    @property
    def closed(self) -> bool:
        """True once the response was closed or its body read to the end (urllib3's meaning)."""
        response = self._response
        return response._closed or (response._consumed and response._chunks is None)

    def isclosed(self) -> bool:
        return self.closed

    @property
    def data(self) -> bytes:
        return self._response.content

    @property
    def headers(self) -> Headers:
        return self._response.headers

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def reason(self) -> str:
        return self._response.reason

    @property
    def version(self) -> int:
        return 20 if self._response.http_version == "HTTP/2" else 11

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self._response.headers.get(name, default)


class HandSetRaw:
    """A raw assigned by hand, as the body stream of its Response (``read_all``, iteration, ``close``).

    Read the way requests reads ``response.raw``: ``raw.stream(n, decode_content=True)`` when it has one
    (urllib3's response, which decodes itself), else ``raw.read(n)`` until it returns nothing. Either way
    the bytes are taken as they come: the Response applies no Content-Encoding of its own to them.
    """

    def __init__(self, raw: Any, replaced: Any = None) -> None:
        self.raw = raw
        self._replaced = replaced  # the stream this raw took the place of: released by close()
        self.read_size: int | None = CONTENT_CHUNK_SIZE  # iter_content sets the caller's chunk size
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        raw = self.raw
        if hasattr(raw, "stream"):
            try:
                for chunk in raw.stream(self.read_size, decode_content=True):
                    yield _as_bytes(chunk)
            except Exception as exc:
                translated = _translate(exc)
                if translated is None:
                    raise
                raise translated from exc
        else:
            while chunk := raw.read(self.read_size):
                yield _as_bytes(chunk)
        self._ended = True

    def read_all(self) -> bytes:
        self.read_size = CONTENT_CHUNK_SIZE
        return b"".join(self)

    def close(self) -> None:
        # As requests: close the raw only while its body is unread; let urllib3's give its connection back.
        raw = self.raw
        if not self._ended and hasattr(raw, "close"):
            raw.close()
        release_conn = getattr(raw, "release_conn", None)
        if release_conn is not None:
            release_conn()
        replaced = self._replaced
        if replaced is not None and hasattr(replaced, "close"):
            replaced.close()  # its connection goes back to the pool (or is closed, if unread)


def _as_bytes(chunk: bytes | str) -> bytes:
    """A text raw (``io.StringIO`` in a fake) still gives a body of bytes."""
    return chunk.encode("utf-8") if isinstance(chunk, str) else chunk


def _translate(error: Exception) -> RequestException | None:
    for kind in type(error).__mro__:
        if kind.__module__.startswith("urllib3") and kind.__name__ in _FROM_URLLIB3:
            return _FROM_URLLIB3[kind.__name__](error)
    return None
