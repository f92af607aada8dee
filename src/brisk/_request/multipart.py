"""multipart/form-data bodies for ``files=``, streamed from the file objects.

A body of at most 1 MiB whose size is known, files included, is built as ``bytes`` when the request is
prepared, as requests builds every multipart body: the prepared request then holds its body (it can be
inspected, pickled and sent after its files were closed). A larger body is never read into memory: it is
produced in ``CHUNK_SIZE`` pieces while it is sent. Its length is computed up front from the part headers
and the file sizes, so the request carries a Content-Length; if one file's size cannot be known (a pipe),
the body is sent chunked instead.

Field names and file names are escaped as HTML5 form submission does: ``"`` -> ``%22``, CR -> ``%0D``,
LF -> ``%0A``; other characters, non-ASCII included, are sent as UTF-8.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from brisk._core.form import form_pairs
from brisk._request.body import CHUNK_SIZE, FileBody, RequestBody
from brisk.exceptions import InvalidHeader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MultipartBody", "encode_multipart"]

#: Multipart bodies of a known size up to this are joined into ``bytes``; larger ones are streamed.
_JOIN_LIMIT = 1024 * 1024

_Content = bytes | FileBody


def _escape(value: str) -> bytes:
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A").encode("utf-8")


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8")
    if isinstance(value, int | float):
        return str(value)
    raise TypeError(f"a multipart {what} must be str or bytes, not {type(value).__name__}")


def _check_header(name: str, value: str) -> None:
    if not name or any(c in name for c in ":\r\n\0 \t") or any(c in value for c in "\r\n\0"):
        raise InvalidHeader(f"invalid multipart part header {name!r}: {value!r}")


def _guess_type(filename: str) -> str:
    import mimetypes

    guessed = mimetypes.guess_type(filename)[0]
    return guessed or "application/octet-stream"


def _part_head(
    boundary: bytes,
    name: str,
    filename: str | None,
    content_type: str | None,
    headers: Mapping[str, str] | None,
) -> bytes:
    lines = [b"--" + boundary, b'Content-Disposition: form-data; name="' + _escape(name) + b'"']
    if filename is not None:
        lines[1] += b'; filename="' + _escape(filename) + b'"'
    if content_type is not None:
        _check_header("Content-Type", content_type)
        lines.append(b"Content-Type: " + content_type.encode("utf-8"))
    for raw_key, raw_value in (headers or {}).items():
        key, value = _text(raw_key, "header name"), _text(raw_value, "header value")
        _check_header(key, value)
        lines.append(key.encode("utf-8") + b": " + value.encode("utf-8"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _file_part(field: str, spec: Any) -> tuple[str | None, Any, str | None, Any] | None:
    """Unpack one ``files=`` value into (filename, content, content type, extra headers)."""
    if isinstance(spec, tuple | list):
        if not 2 <= len(spec) <= 4:
            raise ValueError(
                f"files[{field!r}] must be a file, bytes, str or a tuple (filename, file[, content_type"
                f"[, headers]]), got a tuple of {len(spec)} items"
            )
        filename, content, content_type, headers = (*spec, None, None)[:4]
        filename = None if filename is None else _text(filename, "file name")
    else:
        content, content_type, headers = spec, None, None
        name = getattr(spec, "name", None)
        if isinstance(name, str) and name and not name.startswith("<") and not name.endswith(">"):
            filename = os.path.basename(name)
        else:
            filename = field
    if content is None:  # requests skips such fields
        return None
    if content_type is None and filename is not None:
        content_type = _guess_type(filename)
    return filename, content, content_type, headers


def _content(field: str, value: Any) -> _Content:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if hasattr(value, "read"):
        return FileBody(value)
    if isinstance(value, int | float):
        return str(value).encode("ascii")
    raise TypeError(f"files[{field!r}] must be a file object, bytes or str, not {type(value).__name__}")


class MultipartBody(RequestBody):
    """A multipart/form-data body streamed part by part."""

    def __init__(self, parts: list[tuple[bytes, _Content]], closing: bytes) -> None:
        self._parts = parts
        self._closing = closing
        files = [content for _, content in parts if isinstance(content, FileBody)]
        self._files = files
        self.replayable = all(f.replayable for f in files)
        sizes = [f.content_length for f in files]
        if any(size is None for size in sizes):
            self.content_length = None
        else:
            self.content_length = (
                sum(len(head) + 2 for head, _ in parts)  # each part ends with CRLF
                + sum(len(c) for _, c in parts if isinstance(c, bytes))
                + sum(size for size in sizes if size is not None)
                + len(closing)
            )

    def rewind(self) -> None:
        """Seek every file back to where its part starts."""
        if not self._started:
            return
        if not self.replayable:
            super().rewind()
        for f in self._files:
            f.rewind()
        self._started = False

    def _why_unrewindable(self) -> str:
        return "a file in files= cannot seek and was already read"

    def _chunks(self) -> Iterator[bytes]:
        pending = bytearray()  # part headers and small values are sent together
        for head, content in self._parts:
            pending += head
            if isinstance(content, bytes) and len(content) < CHUNK_SIZE:
                pending += content
            else:
                yield bytes(pending)
                pending.clear()
                if isinstance(content, bytes):
                    yield content
                else:
                    yield from content
            pending += b"\r\n"
            if len(pending) >= CHUNK_SIZE:
                yield bytes(pending)
                pending.clear()
        pending += self._closing
        yield bytes(pending)


def encode_multipart(
    files: Mapping[Any, Any] | list[tuple[Any, Any]], data: Any = None, boundary: str | None = None
) -> tuple[bytes | MultipartBody, str]:
    """Return ``(body, content_type)`` for ``files=`` plus optional form fields ``data=``.

    Form fields come first, then files. ``boundary`` is random unless given (tests).
    """
    if data and not isinstance(data, Mapping | list | tuple):
        raise ValueError(
            f"with files=, data= must be a mapping or a list of (key, value) pairs, not {type(data).__name__}"
        )
    if boundary is None:
        boundary = os.urandom(16).hex()  # secrets.token_hex(16), without loading secrets, base64 and re
    marker = boundary.encode("ascii")
    parts: list[tuple[bytes, _Content]] = []
    for key, value in form_pairs(data) if data else ():
        name = _text(key, "field name")
        parts.append((_part_head(marker, name, None, None, None), _content(name, value)))
    items = files.items() if isinstance(files, Mapping) else files
    for key, spec in items:
        field = _text(key, "field name")
        unpacked = _file_part(field, spec)
        if unpacked is None:
            continue
        filename, raw, part_type, headers = unpacked
        content = _content(field, raw)
        parts.append((_part_head(marker, field, filename, part_type, headers), content))
    closing = b"--" + marker + b"--\r\n"
    content_type = "multipart/form-data; boundary=" + boundary
    body = MultipartBody(parts, closing)
    if body.content_length is not None and body.content_length <= _JOIN_LIMIT:
        return b"".join(body), content_type
    return body, content_type
