"""``requests._internal_utils`` under brisk: the helpers and header patterns of that private module, which
code outside requests imports (``to_native_string``, ``unicode_is_ascii``, ``HEADER_VALIDATORS``).

The patterns are requests' rules for a header name (no leading whitespace, no colon, no line break) and
value (no leading whitespace, no line break), as ``brisk.utils.check_header_validity`` applies them. brisk
checks the headers it sends by its own rules (``brisk._core.headers``: control characters refused; a value may
start with a space).
"""

from __future__ import annotations

import re

__all__ = ["HEADER_VALIDATORS", "to_native_string", "unicode_is_ascii"]

builtin_str = str

_VALID_HEADER_NAME_RE_BYTE = re.compile(rb"^[^:\s][^:\r\n]*$")
_VALID_HEADER_NAME_RE_STR = re.compile(r"^[^:\s][^:\r\n]*$")
_VALID_HEADER_VALUE_RE_BYTE = re.compile(rb"^\S[^\r\n]*$|^$")
_VALID_HEADER_VALUE_RE_STR = re.compile(r"^\S[^\r\n]*$|^$")

_HEADER_VALIDATORS_STR = (_VALID_HEADER_NAME_RE_STR, _VALID_HEADER_VALUE_RE_STR)
_HEADER_VALIDATORS_BYTE = (_VALID_HEADER_NAME_RE_BYTE, _VALID_HEADER_VALUE_RE_BYTE)
#: The (name pattern, value pattern) for a header part of each type.
HEADER_VALIDATORS: dict[
    type, tuple[re.Pattern[str], re.Pattern[str]] | tuple[re.Pattern[bytes], re.Pattern[bytes]]
] = {
    bytes: _HEADER_VALIDATORS_BYTE,
    str: _HEADER_VALIDATORS_STR,
}


def to_native_string(string: str | bytes, encoding: str = "ascii") -> str:
    """``string`` as ``str``: bytes are decoded with ``encoding`` (ASCII unless told otherwise)."""
    return string if isinstance(string, str) else string.decode(encoding)


def unicode_is_ascii(u_string: str) -> bool:
    """Whether ``u_string`` (a ``str``) holds ASCII characters only."""
    if not isinstance(u_string, str):
        raise TypeError(f"unicode_is_ascii() takes a str, not {type(u_string).__name__}")
    return u_string.isascii()
