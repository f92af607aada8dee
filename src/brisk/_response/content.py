"""Reading response bodies: charset rules, chunking, line splitting, Link headers. Pure helpers, no I/O.

The same ``BodyPipeline`` serves ``iter_content`` and ``aiter_content``: the sync and async loops only pull
raw bytes and push them through it.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from itertools import chain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, AnyStr, Generic

    from brisk._response.decoders import ContentDecoder
else:
    from brisk._core.typing_lite import Generic

__all__ = ["BodyPipeline", "LineSplitter", "encoding_from_content_type", "guess_json_utf", "parse_links"]


def _params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``text/html; charset="utf-8"`` into the media type and its parameters (lower-case names)."""
    parts = value.split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, val = part.partition("=")
        if sep:
            params[name.strip().lower()] = val.strip().strip("'\"")
    return parts[0].strip().lower(), params


def encoding_from_content_type(content_type: str | None) -> str | None:
    """requests' rule: the charset parameter; else ISO-8859-1 for text/*; else UTF-8 for JSON; else None."""
    if not content_type:
        return None
    media_type, params = _params(content_type)
    if "charset" in params:
        return params["charset"] or None
    if media_type.startswith("text/"):
        return "ISO-8859-1"
    if media_type == "application/json":
        return "utf-8"
    return None


def guess_json_utf(data: bytes) -> str | None:
    """JSON's encoding from its first bytes (RFC 4627 section 3): the NUL pattern gives UTF-8/16/32."""
    sample = data[:4]
    if sample in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
        return "utf-32"
    if sample[:3] == codecs.BOM_UTF8:
        return "utf-8-sig"
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    nulls = sample.count(0)
    if nulls == 0:
        return "utf-8"
    if nulls == 2:
        if sample[::2] == b"\0\0":
            return "utf-16-be"
        if sample[1::2] == b"\0\0":
            return "utf-16-le"
    if nulls == 3:
        if sample[:3] == b"\0\0\0":
            return "utf-32-be"
        if sample[1:] == b"\0\0\0":
            return "utf-32-le"
    return None


def parse_links(value: str) -> list[dict[str, str]]:
    """Parse a ``Link`` header into dicts with ``url`` and the link parameters (``rel``, ...)."""
    links: list[dict[str, str]] = []
    strip = " '\""
    for entry in _split_links(value):
        url, _, params = entry.partition(";")
        link = {"url": url.strip().strip("<> '\"")}
        for param in params.split(";"):
            key, sep, val = param.partition("=")
            if sep:
                link[key.strip(strip).lower()] = val.strip(strip)
        links.append(link)
    return links


def _split_links(value: str) -> list[str]:
    """Split on commas that separate links, not commas inside <...> or quotes."""
    entries: list[str] = []
    current: list[str] = []
    in_url = in_quote = False
    for char in value:
        if char == "<" and not in_quote:
            in_url = True
        elif char == ">" and not in_quote:
            in_url = False
        elif char == '"' and not in_url:
            in_quote = not in_quote
        elif char == "," and not in_url and not in_quote:
            entries.append("".join(current))
            current = []
            continue
        current.append(char)
    entries.append("".join(current))
    return [e.strip() for e in entries if e.strip()]


class BodyPipeline:
    """Raw body bytes in; content-decoded, optionally text-decoded, optionally re-sized pieces out.

    ``chunk_size=None`` passes pieces through at whatever size they arrive; an int yields pieces of exactly
    that size (the last one may be shorter), as requests' ``iter_content`` does.

    With a decoder, ``push`` returns its pieces as an iterator that decodes as it is advanced: one network
    read of a highly compressed body may expand a thousandfold, so only one bounded decoding step (and the
    pieces cut from it) is in memory at a time. Exhaust it before the next ``push`` or ``finish``.
    """

    __slots__ = ("_chunk_size", "_decoder", "_held", "_held_size", "_text")

    def __init__(
        self, decoder: ContentDecoder | None, chunk_size: int | None, text_encoding: str | None = None
    ) -> None:
        if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
            raise TypeError(f"chunk_size must be a positive int or None, not {chunk_size!r}")
        self._decoder = decoder
        self._chunk_size = chunk_size
        self._held: list[bytes] = []  # the start of the next piece, shorter than chunk_size in all
        self._held_size = 0
        self._text = codecs.getincrementaldecoder(text_encoding)(errors="replace") if text_encoding else None

    def push(self, raw: bytes) -> Iterable[Any]:
        """The pieces ``raw`` completes: a list without a decoder, else an iterator that decodes lazily."""
        decoder = self._decoder
        if decoder is None:
            return self._emit(raw)
        # chain and map keep the per-piece work in C: pieces may be single bytes (iter_content's default).
        return chain.from_iterable(map(self._emit, decoder.iter_decode(raw)))

    def finish(self) -> list[Any]:
        """The last pieces; raises ``ContentDecodingError`` if the body ended inside a compressed stream."""
        out = self._emit(self._decoder.flush()) if self._decoder is not None else []
        held = self._held
        if held:
            rest = b"".join(held)
            held.clear()
            self._held_size = 0
            out.append(rest if self._text is None else self._text.decode(rest))
        if self._text is not None:
            tail = self._text.decode(b"", final=True)
            out = [s for s in out if s]
            if tail:
                out.append(tail)
        return out

    def _emit(self, data: bytes) -> list[Any]:
        if not data:
            return []
        size = self._chunk_size
        if size is None:
            pieces = [data]
        else:
            held = self._held
            if held:
                # What was held is completed by this data: join them once, not once per push (pieces much
                # smaller than chunk_size would otherwise be copied over and over).
                self._held_size += len(data)
                held.append(data)
                if self._held_size < size:
                    return []
                data = b"".join(held)
                held.clear()
                self._held_size = 0
            end = len(data) - len(data) % size
            pieces = [data[i : i + size] for i in range(0, end, size)]
            if end < len(data):
                held.append(data[end:])
                self._held_size = len(data) - end
        text = self._text
        if text is None:
            return pieces
        return [s for s in map(text.decode, pieces) if s]


class LineSplitter(Generic["AnyStr"]):
    """Split a stream of bytes or text into lines across chunk boundaries.

    Without a delimiter, lines end at LF, CRLF or CR (a CR at the end of a chunk waits for the next chunk,
    so a CRLF split across chunks is one line end, not two). Line ends are not included.
    """

    __slots__ = ("_delimiter", "_pending")

    def __init__(self, delimiter: AnyStr | None = None) -> None:
        self._delimiter: AnyStr | None = delimiter
        self._pending: AnyStr | None = None

    def push(self, chunk: AnyStr) -> list[AnyStr]:
        if self._pending is not None:
            chunk = self._pending + chunk
            self._pending = None
        if not chunk:
            return []
        if self._delimiter is not None:
            lines = chunk.split(self._delimiter)
            self._pending = lines.pop()
            return lines
        pieces = chunk.splitlines(keepends=True)
        tail = pieces[-1][-1:]
        # The last piece is complete only if it ends with a line end that cannot grow: LF (alone or as the
        # end of CRLF) or, for text, another Unicode line boundary. A final CR may be half of a CRLF.
        if tail in ("\r", b"\r") or not _ends_line(pieces[-1]):
            self._pending = pieces.pop()
        return [_strip_end(piece) for piece in pieces]

    def finish(self) -> list[AnyStr]:
        pending, self._pending = self._pending, None
        if not pending:
            return []
        if self._delimiter is not None:
            return [pending]
        return [_strip_end(piece) for piece in pending.splitlines(keepends=True)]


def _ends_line(piece: AnyStr) -> bool:
    """True if ``piece`` (one element of splitlines(keepends=True)) ends with a line boundary."""
    lines = piece.splitlines()
    return not lines or len(lines[0]) != len(piece)


def _strip_end(piece: AnyStr) -> AnyStr:
    """``piece`` without its line boundary."""
    lines = piece.splitlines()
    return lines[0] if lines else piece[:0]
