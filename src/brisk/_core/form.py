"""application/x-www-form-urlencoded encoding, shared by ``params=`` and ``data=``.

Follows requests: a mapping or a list of pairs; a value that is a list/tuple repeats its key;
``None`` values are left out; str keys and values are UTF-8 encoded; other values go through ``str()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    FormInput = Mapping[Any, Any] | Iterable[tuple[Any, Any]]

__all__ = ["encode_form", "form_pairs", "quote_plus"]


def form_pairs(data: FormInput) -> list[tuple[str | bytes, str | bytes]]:
    """Flatten ``data`` into (key, value) pairs, dropping ``None`` values and expanding lists."""
    items = data.items() if isinstance(data, Mapping) else data
    pairs: list[tuple[str | bytes, str | bytes]] = []
    for item in items:
        try:
            key, values = item
        except (TypeError, ValueError):
            raise ValueError(
                f"form data must be a mapping or pairs of (key, value), got item {item!r}"
            ) from None
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            values = (values,)
        key_out = key if isinstance(key, str | bytes) else str(key)
        for value in values:
            if value is None:
                continue
            pairs.append((key_out, value if isinstance(value, str | bytes) else str(value)))
    return pairs


def encode_form(data: FormInput) -> str:
    """Encode ``data`` as a query string or form body: ``{"q": "a b", "n": [1, 2]}`` -> ``q=a+b&n=1&n=2``."""
    return "&".join(f"{quote_plus(key)}={quote_plus(value)}" for key, value in form_pairs(data))


# What urllib.parse.quote_plus keeps: letters, digits and "_.-~"; a space becomes "+", every other byte of
# the UTF-8 encoding "%XX". Written here so that a GET with params= does not load urllib.parse (and re).
_KEPT_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_KEPT = frozenset(_KEPT_BYTES.decode("ascii"))
_ESCAPES = tuple(
    chr(byte) if byte in _KEPT_BYTES else "+" if byte == 0x20 else f"%{byte:02X}" for byte in range(256)
)


def quote_plus(value: str | bytes) -> str:
    """urllib.parse.quote_plus of a str (as UTF-8: a lone surrogate raises UnicodeEncodeError) or bytes."""
    if isinstance(value, str):
        if type(value) is str and _KEPT.issuperset(value):  # a subclass (a str Enum) goes by its characters
            return value
        value = value.encode("utf-8")
    return "".join([_ESCAPES[byte] for byte in value])
