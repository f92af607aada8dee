"""HTTP/1.1 for a client, sans-IO: request bytes out, response events in. No sockets here.

Request side (this module): ``encode_request_head()`` validates and serialises the request line and headers,
refusing CR, LF, NUL and other control characters anywhere before a byte can be written (request smuggling
and header injection, urllib3 CVE-2020-26137, aiohttp CVE-2023-49081/49082). Bodies are framed by the caller
with Content-Length or with ``chunk_header()`` / ``LAST_CHUNK``. The field validation is shared with HTTP/2
(``check_method``, ``check_target``, ``check_header``).

Response side: ``ResponseParser`` and ``ResponseHead`` live in ``http11_response.py`` and are importable from
here too, so ``brisk._protocol.http11`` stays the one name for the HTTP/1.1 codec.
"""

from __future__ import annotations

from collections.abc import Iterable

from brisk._protocol.accelerator import speedups
from brisk._protocol.http11_response import ResponseHead, ResponseParser
from brisk.exceptions import InvalidHeader, InvalidMethod, InvalidURL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = [
    "LAST_CHUNK",
    "SECRET_FIELDS",
    "ResponseHead",
    "ResponseParser",
    "check_header",
    "check_method",
    "check_target",
    "chunk_header",
    "encode_request_head",
    "header_text",
]

# A token's characters (RFC 9110 section 5.6.2): methods and field names are non-empty tokens.
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# Field values may hold visible characters, spaces and tabs, and obs-text (0x80-0xFF); never CR, LF, NUL
# or another control character (RFC 9110 section 5.5).
_BAD_VALUE_BYTES = bytes([*range(0x09), *range(0x0A, 0x20), 0x7F])
_BAD_TARGET_BYTES = bytes([*range(0x21), 0x7F])

# Validated "name: value\r\n" lines. Session headers repeat on every request, so validating each distinct
# pair once keeps the per-request cost to a dict lookup. Fields that carry secrets are validated every time
# instead: a module-wide cache would keep credentials alive after their session is gone.
_line_cache: dict[tuple[str, str], str] = {}
_LINE_CACHE_MAX: Final = 1024
SECRET_FIELDS: Final = frozenset(("authorization", "proxy-authorization", "cookie"))
_method_cache: set[str] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

LAST_CHUNK: Final = b"0\r\n\r\n"
# The C writer of a plainly valid head (see accelerator.py), or None.
_fast_encode = None if speedups is None else speedups.encode_head


def chunk_header(size: int) -> bytes:
    """The size line that precedes a chunk of ``size`` bytes (the chunk is followed by CRLF)."""
    return b"%x\r\n" % size


def _is_token(text: str) -> bool:
    return bool(text) and _TCHAR.issuperset(text)


def _first_bad(text: str, bad: bytes) -> str | None:
    """The first character of ``text`` among the ``bad`` ones (control characters, DEL, perhaps the space).

    ``isprintable()`` clears ordinary text at C speed: it is False for every control character and DEL. Text
    it does not clear (a tab, NBSP and other characters it calls unprintable but a value may hold, or a space
    where the space is refused) is checked as latin-1 bytes with ``bytes.translate``, also in C; only text
    that holds a bad character, or one outside latin-1, is looked at character by character."""
    if text.isprintable() and (32 not in bad or " " not in text):
        return None
    try:
        if len(text.encode("latin-1").translate(None, bad)) == len(text):
            return None
    except UnicodeEncodeError:
        pass
    return next((c for c in text if c <= "\x7f" and ord(c) in bad), None)


def _header_line(name: str, value: str) -> str:
    key = (name, value)
    line = _line_cache.get(key)
    if line is not None:
        return line
    if not _is_token(name):
        raise InvalidHeader(
            f"invalid header name {name!r}: names must be non-empty tokens without "
            "spaces, colons or control characters"
        )
    stripped = value.strip(" \t")
    bad = _first_bad(stripped, _BAD_VALUE_BYTES)
    if bad is not None:
        raise InvalidHeader(
            f"invalid character {bad!r} in the value of header {name!r}: "
            "CR, LF, NUL and other control characters are not allowed"
        )
    try:
        stripped.encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidHeader(
            f"the value of header {name!r} has characters outside latin-1; encode it yourself and pass bytes"
        ) from None
    line = f"{name}: {stripped}\r\n"
    if name.lower() not in SECRET_FIELDS:
        if len(_line_cache) >= _LINE_CACHE_MAX:
            _line_cache.clear()
        _line_cache[key] = line
    return line


def header_text(pair: tuple[object, object]) -> tuple[str, str]:
    """A header pair as text: bytes are taken as latin-1; any other type is refused (a session header set
    to a number, a list, ...) with InvalidHeader, as requests does."""
    name, value = pair
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidHeader(
            f"header {name!r}: names and values must be str or bytes, not "
            f"{type(name).__name__} and {type(value).__name__}"  # never the value: it may be a credential
        )
    return name, value


def check_method(method: str) -> None:
    """Raise InvalidMethod unless ``method`` is a token (shared with HTTP/2)."""
    if method not in _method_cache:
        if not _is_token(method):
            raise InvalidMethod(
                f"invalid HTTP method {method!r}: a method is a token without spaces or control characters"
            )
        if len(_method_cache) < 64:
            _method_cache.add(method)


def check_target(target: str) -> None:
    """Raise InvalidURL unless ``target`` is a non-empty, printable-ASCII request-target."""
    if not target:
        raise InvalidURL("empty request target")
    if not target.isascii():
        raise InvalidURL(f"non-ASCII characters in request target {target!r}: percent-encode them")
    bad = _first_bad(target, _BAD_TARGET_BYTES)
    if bad is not None:
        raise InvalidURL(f"invalid character {bad!r} in request target {target!r}")


def check_header(name: str, value: str) -> str:
    """Validate one header field (shared with HTTP/2); returns the value without surrounding whitespace."""
    return _header_line(name, value)[len(name) + 2 : -2]


def encode_request_head(method: str, target: str, headers: Iterable[tuple[str, str | bytes]]) -> bytes:
    """Serialise the request line and headers, validating every part first.

    ``target`` is the request-target as it goes on the wire (origin form ``/path?q``, or the absolute URL
    for a forward proxy, or ``host:port`` for CONNECT). Header values may be bytes (sent as they are, after
    the same validation). Raises InvalidMethod, InvalidURL or InvalidHeader; nothing is returned (and so
    nothing can be written) for an invalid request.
    """
    if _fast_encode is not None:
        head: bytes | None = _fast_encode(method, target, headers)
        if head is not None:
            return head
    check_method(method)
    check_target(target)
    parts = [f"{method} {target} HTTP/1.1\r\n"]
    cached = _line_cache.get
    for pair in headers:
        try:
            line = cached(pair)  # type: ignore[arg-type]
        except TypeError:  # an unhashable value (a list, ...): refused by header_text()
            line = None
        if line is None:
            line = _header_line(*header_text(pair))
        parts.append(line)
    parts.append("\r\n")
    return "".join(parts).encode("latin-1")
