"""Percent-encoding of URL components (RFC 3986 section 2.1) and how a URL is quoted in an error message.

The rules are those listed in :mod:`brisk._core.url`'s docstring: characters not allowed in a component are
encoded as UTF-8, valid escapes are kept (those of unreserved characters decoded), a stray ``%`` becomes
``%25``. Each component has its own set of characters kept as they are (``*_SAFE``).
"""

from __future__ import annotations

from brisk.exceptions import InvalidURL

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

__all__ = [
    "FRAGMENT_SAFE",
    "PASSWORD_SAFE",
    "PATH_SAFE",
    "QUERY_SAFE",
    "USER_SAFE",
    "requote",
    "requote_pattern",
    "requote_with",
    "show",
    "unquote",
    "up_to",
]

_PCT_RUN = r"(?:%[0-9A-Fa-f]{2})+"

# What each component keeps unencoded besides letters, digits and "-._~" (RFC 3986 section 3).
SUB_DELIMS = "!$&'()*+,;="
USER_SAFE = SUB_DELIMS
PASSWORD_SAFE = SUB_DELIMS + ":"
PATH_SAFE = SUB_DELIMS + ":@/[]"
QUERY_SAFE = PATH_SAFE + "?"
FRAGMENT_SAFE = QUERY_SAFE + "#"

_PCT = tuple(f"%{i:02X}" for i in range(256))
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_PATTERNS: dict[str, re.Pattern[str]] = {}
_KEPT: dict[str, frozenset[str]] = {}


def _kept(safe: str) -> frozenset[str]:
    """The characters a component with this safe set keeps as they are ('%' aside: it may start an escape)."""
    kept = _KEPT.get(safe)
    if kept is None:
        kept = frozenset(_UNRESERVED + safe) - {"%"}
        if len(_KEPT) < 64:
            _KEPT[safe] = kept
    return kept


def requote_pattern(safe: str) -> re.Pattern[str]:
    """A pattern matching each run of characters to encode: unsafe ones, and '%' not starting an escape."""
    pattern = _PATTERNS.get(safe)
    if pattern is None:
        import re

        chars = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(set(safe) - {"%"}))
        pattern = re.compile(rf"(?:[^A-Za-z0-9\-._~%{chars}]|%(?![0-9A-Fa-f]{{2}}))+")
        if len(_PATTERNS) < 64:
            _PATTERNS[safe] = pattern
    return pattern


def encode_utf8(match: re.Match[str]) -> str:
    return "".join([_PCT[b] for b in match[0].encode("utf-8")])


def encode_latin1(match: re.Match[str]) -> str:
    return "".join([_PCT[b] for b in match[0].encode("latin-1")])


# Escapes of letters, digits, "-", "_" and "~". An escaped dot stays escaped: decoded, "%2e%2e" would become
# a dot segment and be removed, and a path the caller wrote would change meaning.
_UNRESERVED_ESCAPE = r"%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|5[Ff]|7[Ee])"


def _decode_unreserved(match: re.Match[str]) -> str:
    return chr(int(match[0][1:], 16))


def requote_with(text: str, safe: str) -> str:
    """``requote``, where the common case (no escape, every character kept) is a set lookup per character:
    the regular expressions, and the ``re`` module itself, are loaded by the first text that needs them."""
    if type(text) is str and "%" not in text and _kept(safe).issuperset(text):
        return text
    import re

    if "%" in text:  # escapes of letters, digits, - _ ~ mean those characters (RFC 3986 section 6.2.2.2)
        text = re.sub(_UNRESERVED_ESCAPE, _decode_unreserved, text)
    pattern = requote_pattern(safe)
    if pattern.search(text) is None:
        return text
    try:
        return pattern.sub(encode_utf8, text)
    except UnicodeEncodeError:
        raise InvalidURL(f"Invalid URL component {show(text)}: contains a lone surrogate") from None


def requote(text: str, safe: str = QUERY_SAFE) -> str:
    """Percent-encode what may not appear in a URL component, keeping valid ``%XX`` escapes, except those
    of letters, digits and ``-_~``, which are decoded (RFC 3986 section 6.2.2.2; requests does the same;
    ``%2E`` stays, so that an escaped dot never becomes a dot segment).

    Letters, digits, ``-._~`` and the characters in ``safe`` are kept; everything else is encoded as UTF-8
    (``" "`` -> ``%20``, ``"é"`` -> ``%C3%A9``); a ``%`` not followed by two hex digits becomes ``%25``.
    Idempotent: ``requote(requote(s)) == requote(s)``. Raises ``InvalidURL`` for a lone surrogate.
    """
    return requote_with(text, safe)


def unquote(text: str) -> str:
    """Decode %XX escapes (UTF-8, invalid sequences replaced), as for userinfo."""
    if "%" not in text:
        return text
    import re

    return re.sub(_PCT_RUN, lambda m: bytes.fromhex(m[0].replace("%", "")).decode("utf-8", "replace"), text)


def up_to(text: str, start: int, delimiters: str) -> int:
    """The index of the first of ``delimiters`` in ``text`` from ``start``, or ``len(text)``."""
    end = len(text)
    for delimiter in delimiters:
        found = text.find(delimiter, start, end)
        if found >= 0:
            end = found
    return end


def show(text: str) -> str:
    """``text`` quoted for an error message: password masked, cut to 200 characters, controls escaped."""
    start = text.find("://")
    if start >= 0:
        start += 3
        at = text.rfind("@", start, up_to(text, start, "/?#"))
        colon = text.find(":", start, at) if at >= 0 else -1
        if colon >= 0:
            text = f"{text[: colon + 1]}***{text[at:]}"
    if len(text) > 200:
        text = text[:200] + "..."
    return repr(text)
