"""``response.raw``: a file-like view of the body, for code written against urllib3's response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._headers import Headers
    from .models import Response

__all__ = ["RawResponse"]


class RawResponse:
    """Reads the body with ``read(n)``; raw bytes unless ``decode_content`` is set (as in urllib3).

    ``shutil.copyfileobj(response.raw, f)`` works; so do ``stream(n)``, ``readinto`` and ``close()``.
    """

    def __init__(self, response: Response) -> None:
        self._response = response
        self._source: Iterator[bytes] | None = None
        self._buffer = b""
        self._position = 0
        self.decode_content = False

    def _pieces(self, decode: bool) -> Iterator[bytes]:
        if self._source is None:
            response = self._response
            self._source = response.iter_content(None) if decode else response.iter_raw()
        return self._source

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes:
        decode = self.decode_content if decode_content is None else decode_content
        pieces = self._pieces(decode)
        if amt is None or amt < 0:
            data = self._buffer + b"".join(pieces)
            self._buffer = b""
        else:
            buffer = self._buffer
            while len(buffer) < amt:
                piece = next(pieces, None)
                if piece is None:
                    break
                buffer += piece
            data, self._buffer = buffer[:amt], buffer[amt:]
        self._position += len(data)
        return data

    def read1(self, amt: int = -1) -> bytes:
        if self._buffer:
            return self.read(min(amt, len(self._buffer)) if amt > 0 else len(self._buffer))
        piece = next(self._pieces(self.decode_content), b"")
        if amt > 0 and len(piece) > amt:
            self._buffer = piece[amt:]
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
        return self._response._consumed and self._source is None and self._response._content is not None

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
