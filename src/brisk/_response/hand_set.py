"""A raw assigned by hand (``response.raw = io.BytesIO(...)``, urllib3's response in a mock), read as the
body of its Response, the way requests reads ``response.raw``."""

from __future__ import annotations

from collections.abc import Iterator

from brisk.exceptions import (
    ChunkedEncodingError,
    ContentDecodingError,
    RequestException,
    SSLError,
)
from brisk.exceptions import ConnectionError as BriskConnectionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CONTENT_CHUNK_SIZE", "HandSetRaw"]

CONTENT_CHUNK_SIZE = 10 * 1024  # what requests reads a raw by when it reads the whole body

# The errors of urllib3's ``stream()`` that requests turns into its own, by urllib3's class names (urllib3 is
# no dependency of brisk: a raw of its kind only comes from the caller's code).
_FROM_URLLIB3: dict[str, type[RequestException]] = {
    "ProtocolError": ChunkedEncodingError,
    "DecodeError": ContentDecodingError,
    "ReadTimeoutError": BriskConnectionError,
    "SSLError": SSLError,
}


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
