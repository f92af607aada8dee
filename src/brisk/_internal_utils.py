"""``requests._internal_utils`` under brisk: the two helpers of that private module that code outside
requests imports (``to_native_string`` and ``unicode_is_ascii``).

requests' header-validation regular expressions (``HEADER_VALIDATORS``) are not offered: brisk checks
header names and values by its own rules (see ``brisk._headers``).
"""

from __future__ import annotations

__all__ = ["to_native_string", "unicode_is_ascii"]


def to_native_string(string: str | bytes, encoding: str = "ascii") -> str:
    """``string`` as ``str``: bytes are decoded with ``encoding`` (ASCII unless told otherwise)."""
    return string if isinstance(string, str) else string.decode(encoding)


def unicode_is_ascii(u_string: str) -> bool:
    """Whether ``u_string`` (a ``str``) holds ASCII characters only."""
    if not isinstance(u_string, str):
        raise TypeError(f"unicode_is_ascii() takes a str, not {type(u_string).__name__}")
    return u_string.isascii()
