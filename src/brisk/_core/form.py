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

__all__ = ["encode_form", "form_pairs"]


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
    quote_plus = _quote_plus or _import_quote_plus()
    return "&".join(f"{quote_plus(key)}={quote_plus(value)}" for key, value in form_pairs(data))


_quote_plus: Any = None  # urllib.parse's, imported by the first form (not loaded by import brisk)


def _import_quote_plus() -> Any:
    global _quote_plus
    from urllib.parse import quote_plus

    _quote_plus = quote_plus
    return quote_plus
