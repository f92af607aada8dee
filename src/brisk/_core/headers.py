"""Headers: case-insensitive, multi-valued, order-keeping.

``Headers`` is a ``CaseInsensitiveDict`` so code that checks for requests' type keeps working.
Reading a name that occurs several times joins the values with ", " (as requests and urllib3 do);
``get_list()`` returns them one by one and ``multi_items()`` yields every (name, value) pair in order,
which is what goes on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from brisk.structures import CaseInsensitiveDict

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    HeadersInput = Mapping[str, Any] | Iterable[tuple[str, Any]] | None

__all__ = ["Headers"]


class Headers(CaseInsensitiveDict[str]):
    """Case-insensitive multi-value headers.

    >>> h = Headers.from_raw([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])
    >>> h["set-cookie"]
    'a=1, b=2'
    >>> h.get_list("Set-Cookie")
    ['a=1', 'b=2']
    """

    # _store maps lower name -> (name as first set, joined value); _multi holds the separate values
    # only for names that occur more than once (rare), so the common case costs one dict. _unset is True
    # once a value was set to None: requests' way of saying "leave this session header out", which
    # ``without_unset()`` does when a request is prepared.
    __slots__ = ("_multi", "_unset")

    def __init__(self, data: HeadersInput = None, **kwargs: str) -> None:
        self._multi: dict[str, list[str]] = {}
        self._unset = False
        super().__init__(data, **kwargs)

    @classmethod
    def from_raw(cls, pairs: Iterable[tuple[str, str]]) -> Headers:
        """Build from wire pairs, keeping repeated names as separate values."""
        self = cls.__new__(cls)
        store: dict[str, tuple[str, str]] = {}
        multi: dict[str, list[str]] = {}
        for name, value in pairs:
            lower = name.lower()
            existing = store.get(lower)
            if existing is None:
                store[lower] = (name, value)
            else:
                values = multi.get(lower)
                if values is None:
                    values = multi[lower] = [existing[1]]
                values.append(value)
                store[lower] = (existing[0], existing[1] + ", " + value)
        self._store = store
        self._multi = multi
        self._unset = False
        return self

    def __setitem__(self, key: str, value: str) -> None:
        lower = key.lower()
        self._store[lower] = (key, value)
        if self._multi:
            self._multi.pop(lower, None)
        if value is None:
            self._unset = True

    def __delitem__(self, key: str) -> None:
        lower = key.lower()
        del self._store[lower]
        if self._multi:
            self._multi.pop(lower, None)

    def add(self, key: str, value: str) -> None:
        """Add a value, keeping any existing values of the same name."""
        lower = key.lower()
        existing = self._store.get(lower)
        if existing is None:
            self._store[lower] = (key, value)
            return
        values = self._multi.get(lower)
        if values is None:
            values = self._multi[lower] = [existing[1]]
        values.append(value)
        self._store[lower] = (existing[0], existing[1] + ", " + value)

    def get_list(self, key: str) -> list[str]:
        """Every value of ``key`` in the order received; empty when absent."""
        lower = key.lower()
        values = self._multi.get(lower)
        if values is not None:
            return list(values)
        pair = self._store.get(lower)
        return [] if pair is None else [pair[1]]

    getlist = get_list  # urllib3's spelling

    def multi_items(self) -> Iterator[tuple[str, str]]:
        """Every (name, value) pair, repeated names as separate pairs."""
        multi = self._multi
        for lower, (name, value) in self._store.items():
            values = multi.get(lower) if multi else None
            if values is None:
                yield name, value
            else:
                for item in values:
                    yield name, item

    def pairs(self) -> list[tuple[str, str]]:
        """``multi_items()`` as a new list (built in C when no name repeats: the hot path of a request)."""
        if not self._multi:
            return list(self._store.values())
        return list(self.multi_items())

    def copy(self) -> Headers:
        new = Headers.__new__(Headers)
        new._store = dict(self._store)
        new._multi = {k: list(v) for k, v in self._multi.items()} if self._multi else {}
        new._unset = self._unset
        return new

    def without_unset(self) -> None:
        """Remove the names whose value is None (``session.headers["User-Agent"] = None`` means: send no
        User-Agent, as in requests)."""
        for lower, (_, value) in list(self._store.items()):
            if value is None:
                del self._store[lower]
                self._multi.pop(lower, None)
        self._unset = False

    def __repr__(self) -> str:
        # requests' CaseInsensitiveDict prints as a dict, and messages of libraries built on it quote that
        return str(dict(self.items()))
