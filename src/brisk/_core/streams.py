"""``ByteStream``: a response body already in memory (mock responses, cached content, small bodies that
arrived with their head). Usable from sync and async code alike; transports hand it to ``Response`` when
there is nothing left to read from the connection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

__all__ = ["ByteStream"]


class ByteStream:
    """An in-memory body, usable from sync and async code alike."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __iter__(self) -> Iterator[bytes]:
        if self._data:
            yield self._data

    def read_all(self) -> bytes:
        return self._data

    def close(self) -> None:
        pass

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._data:
            yield self._data

    async def aread_all(self) -> bytes:
        return self._data

    async def aclose(self) -> None:
        pass
