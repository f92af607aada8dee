"""``raw._fp``: the body as it came off the connection (transfer framing removed, content coding kept), a
file object shaped like the ``http.client`` response urllib3 wraps. See :mod:`brisk._response.raw`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from brisk._core.error_context import add_url_context
from brisk.exceptions import RequestException

TYPE_CHECKING = False
if TYPE_CHECKING:
    from http.client import HTTPMessage
    from typing import Any

    from brisk._core.headers import Headers
    from brisk._core.url import URL
    from brisk.models import PreparedRequest

__all__ = ["WireBody", "is_chunked"]


class WireBody(io.BufferedIOBase):
    """The body as received, a file: ``read(n)``, ``read1``, ``readinto``, ``peek``, ``close()``; closed once
    read to its end, as ``http.client``'s response is (``raw._fp`` in requests). It also answers what code
    reads from that response: ``status``, ``reason``, ``version``, ``msg``/``headers``, ``getheader``.

    Pieces are taken from the transport as they come; a read of ``n`` bytes slices the piece it is in rather
    than copying what is left of it (reading a large body in small reads stays linear).
    """

    def __init__(
        self,
        stream: Any,
        pieces: Iterator[bytes] | None,
        left: int | None,
        head: tuple[int, str, int, Headers],
        url: URL | None = None,
        request: PreparedRequest | None = None,
    ) -> None:
        super().__init__()
        self._stream = stream  # what close() closes: gives the connection back, or drops it mid-body
        self._pieces = pieces  # None: not started (the whole body may still be read in one call)
        self._buffer = b""
        self._offset = 0
        self._left = left  # bytes still to come when the length is known: the end is seen with the last one
        self._ended = stream is None  # nothing more will come from the stream
        self._shut = False  # close() was called
        self.status, self.reason, self.version, self._headers = head
        self._url = url
        self._request = request
        self._msg: HTTPMessage | None = None
        self.debuglevel = 0

    # -- reading -----------------------------------------------------------------------------------------

    def _next(self) -> bytes | None:
        """The next piece from the transport, or None at the end (which closes this file)."""
        pieces = self._pieces
        if pieces is None:
            if self._ended or self._shut:
                return None
            pieces = self._pieces = iter(self._stream)
        try:
            piece: bytes | None = next(pieces, None)
        except RequestException as exc:
            self._with_url(exc)
            raise
        if piece is None:
            self._end()
            return None
        if self._left is not None:
            self._left -= len(piece)
        return piece

    def _check_end(self) -> None:
        """After a read that emptied the buffer: once the announced length has arrived, let the transport
        finish the body now (it has nothing more to wait for), so that this file is closed with its last
        byte, as ``http.client``'s is, not one read later."""
        left = self._left
        if left is None or left > 0 or self._ended or self._offset < len(self._buffer):
            return
        self._left = None
        while (extra := self._next()) is not None:
            if extra:  # more than announced (a response made by hand): kept for the next read
                self._buffer, self._offset = extra, 0
                return

    def _end(self) -> None:
        self._ended = True
        self._pieces = None

    def _with_url(self, exc: RequestException) -> None:
        if self._url is not None:
            add_url_context(exc, self._url, self._request)

    def read(self, amt: int | None = -1) -> bytes:
        if amt is None or amt < 0:
            return self._read_all()
        buffer, offset = self._buffer, self._offset
        parts = []
        wanted = amt
        while wanted:
            if offset < len(buffer):
                part = buffer[offset : offset + wanted]  # the whole piece itself when it all fits
                parts.append(part)
                offset += len(part)
                wanted -= len(part)
                continue
            piece = self._next()
            if piece is None:
                break
            buffer, offset = piece, 0
        if offset >= len(buffer):
            buffer, offset = b"", 0
        self._buffer, self._offset = buffer, offset
        if not buffer:
            self._check_end()
        if not parts:
            return b""
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _read_all(self) -> bytes:
        rest = self._buffer[self._offset :]
        self._buffer, self._offset = b"", 0
        if self._ended or self._shut:
            return rest
        stream = self._stream
        if self._pieces is None and not rest and hasattr(stream, "read_all"):
            try:  # not started: the transport reads the whole body its fastest way
                data: bytes = stream.read_all()
            except RequestException as exc:
                self._with_url(exc)
                raise
            self._end()
            return data
        parts = [rest] if rest else []
        while (piece := self._next()) is not None:
            parts.append(piece)
        if not parts:
            return b""
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _fill(self) -> bool:
        """Make sure the buffer holds something unless the body is over."""
        if self._offset < len(self._buffer):
            return True
        piece = self._next()
        if piece is None:
            return False
        self._buffer, self._offset = piece, 0
        return True

    def read1(self, amt: int | None = -1) -> bytes:
        """What is at hand, or the next piece when nothing is: at most ``amt`` bytes, one wait at most."""
        if not self._fill():
            return b""
        at_hand = len(self._buffer) - self._offset
        return self.read(at_hand if amt is None or amt < 0 else min(amt, at_hand))

    def peek(self, size: int = 0) -> bytes:
        if not self._fill():
            return b""
        return self._buffer[self._offset :]

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def readinto1(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read1(len(view))
        view[: len(data)] = data
        return len(data)

    def pieces(self) -> Iterator[bytes]:
        """The rest of the body as the transport hands it over (no slicing): how the Response reads a raw
        whose ``_fp`` nobody replaced."""
        rest = self._buffer[self._offset :]
        self._buffer, self._offset = b"", 0
        if rest:
            yield rest
        while (piece := self._next()) is not None:
            yield piece

    @property
    def started(self) -> bool:
        return self._pieces is not None or self._ended or bool(self._buffer)

    # -- state -------------------------------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        """True once closed, or read to its end (``http.client``'s meaning, which urllib3 relies on)."""
        return self._shut or (self._ended and self._offset >= len(self._buffer))

    def isclosed(self) -> bool:
        return self.closed

    def close(self) -> None:
        """Release the connection: back to the pool when the body was read to its end, else closed."""
        if self._shut:
            return
        self._shut = True
        self._buffer, self._offset = b"", 0
        self._pieces = None
        stream = self._stream
        if stream is not None and hasattr(stream, "close"):
            stream.close()

    def fileno(self) -> int:
        raise io.UnsupportedOperation("brisk reads the body through its transport: it has no file descriptor")

    def __del__(self) -> None:
        """No close() when collected (io's default): the garbage collector may run while this thread holds
        the pool's lock. The transport's stream, collected with this file, gives its connection up itself."""

    # -- the head, as http.client's response has it ------------------------------------------------------

    @property
    def msg(self) -> HTTPMessage:
        if self._msg is None:
            from http.client import HTTPMessage  # email's parser with it: imported when code asks

            message = HTTPMessage()
            for name, value in self._headers.multi_items():
                message[name] = value  # appends: repeated names stay separate (get_all)
            self._msg = message
        return self._msg

    headers = msg

    def getheader(self, name: str, default: Any = None) -> Any:
        values = self._headers.get_list(name)
        return ", ".join(values) if values else default

    def getheaders(self) -> list[tuple[str, str]]:
        return list(self._headers.multi_items())

    def info(self) -> HTTPMessage:
        return self.msg

    def geturl(self) -> str | None:
        return None if self._url is None else str(self._url)

    def getcode(self) -> int:
        return self.status

    @property
    def length(self) -> int | None:
        return self._left

    @property
    def chunked(self) -> bool:
        return is_chunked(self._headers)


def is_chunked(headers: Any) -> bool:
    """Whether Transfer-Encoding names chunked (what the server sent: brisk has removed the framing)."""
    value = headers.get("transfer-encoding") if headers is not None else None
    return isinstance(value, str) and "chunked" in (item.strip().lower() for item in value.split(","))
