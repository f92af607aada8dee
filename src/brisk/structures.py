"""Data structures with requests' names: ``CaseInsensitiveDict`` and ``LookupDict``."""

from __future__ import annotations

from collections import OrderedDict  # noqa: F401  (requests.structures has the name)
from collections.abc import Iterable, Iterator, Mapping, MutableMapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar
else:
    from brisk._core.typing_lite import TypeVar

__all__ = ["CaseInsensitiveDict", "LookupDict"]

V = TypeVar("V")


class CaseInsensitiveDict(MutableMapping[str, V]):
    """A dict whose string keys compare case-insensitively but keep the case they were last set with.

    >>> d = CaseInsensitiveDict({"Content-Type": "text/plain"})
    >>> d["content-type"]
    'text/plain'
    >>> list(d)
    ['Content-Type']
    """

    __slots__ = ("_store",)

    def __init__(self, data: Mapping[str, V] | Iterable[tuple[str, V]] | None = None, **kwargs: V) -> None:
        self._store: dict[str, tuple[str, V]] = {}
        if data is not None:
            self.update(data)
        if kwargs:
            self.update(kwargs)

    def __setitem__(self, key: str, value: V) -> None:
        self._store[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> V:
        return self._store[key.lower()][1]

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._store

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def lower_items(self) -> Iterator[tuple[str, V]]:
        """Items with lower-cased keys."""
        return ((lower, pair[1]) for lower, pair in self._store.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        other_dict = other if isinstance(other, CaseInsensitiveDict) else CaseInsensitiveDict(other)
        return dict(self.lower_items()) == dict(other_dict.lower_items())

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> CaseInsensitiveDict[V]:
        new = type(self).__new__(type(self))
        new._store = dict(self._store)
        return new

    def __repr__(self) -> str:
        return str(dict(self.items()))


class LookupDict(dict[str, "Any"]):
    """A dict whose entries are also attributes, returning None when missing (``codes.ok``)."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        super().__init__()

    def __repr__(self) -> str:
        return f"<lookup '{self.name}'>"

    def __getitem__(self, key: str) -> Any:
        return self.__dict__.get(key, None)

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)
