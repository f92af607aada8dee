"""Request-body parsing for the test application: header parameters, urlencoded and multipart forms.

The multipart reader is deliberately small: the whole body is in memory (the application caps it), parts
are found by their delimiter lines (RFC 7578 / RFC 2046 section 5.1) and only Content-Disposition and
Content-Type of each part are read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a=1; b="x;y"`` into the lower-cased main value and its parameters.

    Parameter names are lower-cased; quoted values lose their quotes and backslash escapes.
    """
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    params: dict[str, str] = {}
    for item in items[1:]:
        key, sep, val = item.strip().partition("=")
        if sep:
            params[key.strip().lower()] = val.strip()
    return items[0].strip().lower(), params


def decode_ext_value(value: str) -> str:
    """Decode an RFC 8187 ``charset'lang'percent-encoded`` parameter value (``filename*=``)."""
    charset, _, rest = value.partition("'")
    _, _, encoded = rest.partition("'")
    try:
        return unquote(encoded, encoding=charset or "utf-8", errors="strict")
    except (LookupError, UnicodeDecodeError):
        return unquote(encoded, encoding="latin-1")


def parse_urlencoded(body: bytes) -> list[tuple[str, str]]:
    """The name/value pairs of an ``application/x-www-form-urlencoded`` body."""
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a ``multipart/form-data`` body; raises ValueError when the framing is broken."""
    if not boundary or len(boundary) > 200:
        raise ValueError("missing or over-long multipart boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    if body.startswith(delimiter):
        pos = len(delimiter)
    else:
        first = body.find(b"\r\n" + delimiter)
        if first < 0:
            raise ValueError("no multipart boundary in the body")
        pos = first + 2 + len(delimiter)
    separator = b"\r\n" + delimiter
    parts: list[Part] = []
    while not body.startswith(b"--", pos):
        line_end = body.find(b"\r\n", pos)  # the rest of the delimiter line (transport padding)
        if line_end < 0:
            raise ValueError("truncated multipart body")
        start = line_end + 2
        end = body.find(separator, start)
        if end < 0:
            raise ValueError("multipart body without a closing boundary")
        parts.append(_parse_part(body[start:end]))
        pos = end + len(separator)
    return parts


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):
        head, data = b"", raw[2:]
    else:
        head, sep, data = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("multipart part without a blank line after its headers")
    disposition = content_type = None
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-disposition":
            disposition = value.strip()
        elif name.strip().lower() == "content-type":
            content_type = value.strip()
    if disposition is None:
        raise ValueError("multipart part without Content-Disposition")
    _, params = parse_header_params(disposition)
    filename = params.get("filename")
    if "filename*" in params:
        filename = decode_ext_value(params["filename*"])
    return Part(params.get("name", ""), filename, content_type, data)


def as_text_or_data_url(data: bytes, content_type: str | None = None) -> str:
    """*data* as UTF-8 text, or as a base64 ``data:`` URL when it is not UTF-8 (httpbin's convention)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        encoded = base64.b64encode(data).decode("ascii")
        return f"data:{content_type or 'application/octet-stream'};base64,{encoded}"
