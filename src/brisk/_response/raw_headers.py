"""``raw.headers``: a Response's headers as urllib3's ``HTTPHeaderDict`` shows them, and Headers made from
what a urllib3-shaped raw carries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from brisk._core.headers import Headers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["RawHeaders", "headers_from"]

_MISSING: Any = object()


class RawHeaders(Headers):
    """``raw.headers``: the Response's headers as urllib3's ``HTTPHeaderDict`` shows them, over the same
    store (a change made through either shows in both). A name's values read joined
    (``headers["Set-Cookie"]``) as in requests, but ``items()`` gives repeated names as separate pairs, and
    ``getlist``/``get_all``,
    ``iteritems``, ``itermerged``, ``extend`` and ``add(..., combine=)`` are urllib3's, so that copying them
    into an ``HTTPHeaderDict`` or a cookie jar keeps each Set-Cookie apart."""

    __slots__ = ()

    @classmethod
    def view(cls, headers: Headers) -> RawHeaders:
        self = cls.__new__(cls)
        self._store = headers._store
        self._multi = headers._multi
        self._unset = False
        return self

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return list(self.multi_items())

    def iteritems(self) -> Iterator[tuple[str, str]]:
        return self.multi_items()

    def itermerged(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._store.values()))

    def getlist(self, key: str, default: Any = _MISSING) -> Any:
        values = self.get_list(key)
        if not values and default is not _MISSING:
            return default
        return values

    getheaders = getallmatchingheaders = iget = get_all = getlist

    def add(self, key: str, value: str, *, combine: bool = False) -> None:
        existing = self.get_list(key)
        if combine and existing:
            existing[-1] = f"{existing[-1]}, {value}"
            del self[key]
            for item in existing:
                super().add(key, item)
            return
        super().add(key, value)

    def extend(self, *args: Any, **kwargs: Any) -> None:
        for other in (*args, kwargs):
            if hasattr(other, "keys"):
                pairs: Iterable[tuple[str, str]] = list(headers_from(other).multi_items())
            else:
                pairs = list(other)
            for name, value in pairs:
                super().add(name, value)

    def discard(self, key: str) -> None:
        self.pop(key, None)

    def copy(self) -> RawHeaders:
        new = RawHeaders.__new__(RawHeaders)
        new._store = dict(self._store)
        new._multi = {k: list(v) for k, v in self._multi.items()} if self._multi else {}
        new._unset = False
        return new


def headers_from(value: Any) -> Headers:
    """Headers from what a urllib3-shaped raw carries, repeated names kept apart (urllib3's
    ``HTTPHeaderDict.getlist``, ``http.client``'s ``get_all``) so that each Set-Cookie stays one cookie."""
    if type(value) is Headers:
        return value
    if isinstance(value, Headers):
        return Headers.from_raw(value.multi_items())
    if value is None:
        return Headers()
    getlist = getattr(value, "getlist", None) or getattr(value, "get_all", None)
    if getlist is not None and hasattr(value, "keys"):
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for name in list(value.keys()):
            lower = name.lower() if isinstance(name, str) else name
            if lower in seen:
                continue
            seen.add(lower)
            pairs.extend((name, item) for item in getlist(name) or ())
        return Headers.from_raw(pairs)
    if isinstance(value, Mapping):
        return Headers(value)
    return Headers(value if isinstance(value, Iterable) else None)
