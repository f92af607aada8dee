"""``brisk.Cache``: where a session's cached responses live, in memory or in an SQLite file.

The store only keeps entries; what to keep and when to reuse it is ``brisk._cache.policy``'s. Entries are
found by URL (the primary key), then by their ``Vary`` secondary key; the store evicts the least recently
used entries when the bodies it holds pass ``max_size`` bytes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

from brisk._cache.policy import vary_matches

if TYPE_CHECKING:
    from brisk._cache.policy import Entry, _Lookup

__all__ = ["Body", "BodyWriter", "Cache", "MemoryBackend"]

#: A stored body: whole, or the chunks a streamed body was read in.
Body = bytes | tuple[bytes, ...]

DEFAULT_MEMORY_SIZE = 64 * 1024 * 1024
DEFAULT_FILE_SIZE = 512 * 1024 * 1024


class BodyWriter(Protocol):
    """Receives a body as it is read; ``commit`` stores the entry, ``abort`` forgets it."""

    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Backend(Protocol):
    def variants(self, url: str) -> list[Entry]: ...
    def body(self, entry: Entry) -> Body | None: ...
    def writer(self, entry: Entry) -> BodyWriter: ...
    def refresh(self, entry: Entry) -> None: ...
    def invalidate(self, urls: list[str]) -> None: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...
    def __len__(self) -> int: ...


class Cache:
    """An HTTP cache (RFC 9111, private) for a ``Session`` or ``AsyncSession``.

    ``Cache()`` keeps responses in memory; ``Cache(path)`` in an SQLite file, which several threads and
    processes may share. ``max_size`` bounds the bytes of the bodies kept (least recently used go first).

    >>> session = brisk.Session(cache=brisk.Cache("~/.cache/myapp.sqlite"))
    >>> session.get("https://example.org/data").from_cache
    False
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, max_size: int | None = None) -> None:
        if max_size is not None and (
            not isinstance(max_size, int) or isinstance(max_size, bool) or max_size <= 0
        ):
            raise ValueError(f"Cache max_size must be a positive number of bytes, not {max_size!r}")
        self.path = None if path is None else os.path.abspath(os.path.expanduser(os.fspath(path)))
        self.max_size = max_size or (DEFAULT_MEMORY_SIZE if path is None else DEFAULT_FILE_SIZE)
        self._session_made = False  # made by a session from cache=True or a path: the session closes it
        self._backend: Backend
        if self.path is None:
            self._backend = MemoryBackend(self.max_size)
        else:
            from brisk._cache.sqlite import SQLiteBackend

            self._backend = SQLiteBackend(self.path, self.max_size)

    def lookup(self, url: str, request_headers: _Lookup) -> Entry | None:
        """The most recent stored response for ``url`` whose ``Vary`` fields match the request's."""
        variants = self._backend.variants(url)
        if len(variants) == 1:  # the common case: one response, stored without Vary
            entry = variants[0]
            return entry if not entry.vary or vary_matches(entry, request_headers) else None
        best = None
        for entry in variants:
            if vary_matches(entry, request_headers) and (
                best is None or entry.response_time > best.response_time
            ):
                best = entry
        return best

    def body(self, entry: Entry) -> Body | None:
        """The stored body of ``entry``: bytes, or the chunks it arrived in (a streamed body is kept as it
        was read, never joined into a second copy); None if it was evicted meanwhile."""
        return self._backend.body(entry)

    def writer(self, entry: Entry) -> BodyWriter:
        return self._backend.writer(entry)

    def refresh(self, entry: Entry) -> None:
        """Store ``entry``'s new head and clocks (after a 304), keeping its body."""
        self._backend.refresh(entry)

    def invalidate(self, *urls: str) -> None:
        """Forget every stored response for these URLs."""
        self._backend.invalidate(list(urls))

    def clear(self) -> None:
        """Forget every stored response."""
        self._backend.clear()

    def close(self) -> None:
        """Close the store's file (an in-memory cache has nothing to close); it opens again if used.
        A session closes the cache it made itself (``cache=True`` or a path), not one it was given."""
        self._backend.close()

    def __len__(self) -> int:
        return len(self._backend)

    def __reduce__(self) -> Any:
        # A pickled session takes its cache's settings; a file cache opens the same file, a memory one
        # starts empty.
        return (Cache, (self.path,), {"max_size": self.max_size, "session_made": self._session_made})

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state["max_size"] != self.max_size:
            self.__init__(self.path, max_size=state["max_size"])  # type: ignore[misc]
        self._session_made = state.get("session_made", False)

    def __repr__(self) -> str:
        where = "memory" if self.path is None else repr(self.path)
        return f"<brisk.Cache {where}, {len(self)} responses>"


class MemoryBackend:
    """Entries in a dict, in least-recently-used order, under a lock (a session may serve threads)."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._entries: OrderedDict[tuple[str, Any], tuple[Entry, Body]] = OrderedDict()
        self._by_url: dict[str, dict[Any, Entry]] = {}
        self._size = 0
        self._lock = threading.Lock()

    def variants(self, url: str) -> list[Entry]:
        with self._lock:
            found = self._by_url.get(url)
            return list(found.values()) if found else []

    def body(self, entry: Entry) -> Body | None:
        with self._lock:
            stored = self._entries.get(entry.key)
            if stored is None:
                return None
            self._entries.move_to_end(entry.key)
            return stored[1]

    def writer(self, entry: Entry) -> BodyWriter:
        return _MemoryWriter(self, entry)

    def put(self, entry: Entry, body: Body, size: int) -> None:
        key = entry.key = (entry.url, entry.vary)
        entry.size = size
        with self._lock:
            self._remove(key)
            self._entries[key] = (entry, body)
            self._by_url.setdefault(entry.url, {})[entry.vary] = entry
            self._size += entry.size
            while self._size > self.max_size and self._entries:
                self._remove(next(iter(self._entries)))

    def _remove(self, key: tuple[str, Any]) -> None:
        stored = self._entries.pop(key, None)
        if stored is None:
            return
        self._size -= stored[0].size
        variants = self._by_url.get(key[0])
        if variants is not None:
            variants.pop(key[1], None)
            if not variants:
                del self._by_url[key[0]]

    def refresh(self, entry: Entry) -> None:
        with self._lock:
            stored = self._entries.get(entry.key)
            if stored is None:
                return
            self._entries[entry.key] = (entry, stored[1])
            self._by_url[entry.url][entry.vary] = entry

    def invalidate(self, urls: list[str]) -> None:
        with self._lock:
            for url in urls:
                for vary in list(self._by_url.get(url, ())):
                    self._remove((url, vary))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_url.clear()
            self._size = 0

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        return len(self._entries)


class _MemoryWriter:
    __slots__ = ("_backend", "_chunks", "_entry", "_size")

    def __init__(self, backend: MemoryBackend, entry: Entry) -> None:
        self._backend = backend
        self._entry = entry
        self._chunks: list[bytes] | None = []
        self._size = 0

    def write(self, chunk: bytes) -> None:
        chunks = self._chunks
        if chunks is None:
            return
        self._size += len(chunk)
        if self._size > self._backend.max_size:
            self._chunks = None  # too large to keep: stop collecting now, store nothing
            return
        chunks.append(chunk)

    def commit(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks is not None:  # kept as read: joining them would hold the body twice for a moment
            self._backend.put(self._entry, chunks[0] if len(chunks) == 1 else tuple(chunks), self._size)

    def abort(self) -> None:
        self._chunks = None
