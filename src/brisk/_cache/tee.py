"""A response body that is stored as the user reads it: each chunk passes through to the reader and into the
store's writer, and the entry is committed only when the body was read to its end (an abandoned or failed
read stores nothing). The body is not held twice: the writer keeps the store's copy (memory) or spools it to
a temporary file (SQLite), and the reader gets the same chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from brisk._cache.store import BodyWriter

__all__ = ["AsyncTeeStream", "ChunksStream", "DualTeeStream", "SyncTeeStream", "tee"]

#: The reading methods: never passed through to the inner stream, which would read past the tee.
_READERS = frozenset({"__iter__", "read_all", "close", "__aiter__", "aread_all", "aclose"})


def tee(stream: Any, writer: BodyWriter) -> Any:
    """``stream`` wrapped so that what is read of it goes to ``writer`` too; the wrapper reads the way the
    stream does (sync, async, or both for a body already in memory)."""
    sync, asynchronous = hasattr(stream, "read_all"), hasattr(stream, "aread_all")
    kind = DualTeeStream if sync and asynchronous else SyncTeeStream if sync else AsyncTeeStream
    return kind(stream, writer)


class _Tee:
    __slots__ = ("_inner", "_writer")

    def __init__(self, inner: Any, writer: BodyWriter) -> None:
        self._inner = inner
        self._writer = writer

    def __getattr__(self, name: str) -> Any:  # the transport stream's extras (trailers, ...)
        if name in _READERS:
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # The reader's settings (read_size, piece_size: iter_content's chunk size) are the inner stream's,
        # which cuts the pieces; the tee passes on whatever comes out.
        if name in _Tee.__slots__:
            object.__setattr__(self, name, value)
        else:
            setattr(self._inner, name, value)

    def _done(self) -> None:
        writer, self._writer = self._writer, None  # type: ignore[assignment]
        if writer is not None:
            writer.commit()

    def _fail(self) -> None:
        writer, self._writer = self._writer, None  # type: ignore[assignment]
        if writer is not None:
            writer.abort()


class SyncTeeStream(_Tee):
    __slots__ = ()

    def __iter__(self) -> Iterator[bytes]:
        writer = self._writer
        try:
            for chunk in self._inner:
                if writer is not None:
                    writer.write(chunk)
                yield chunk
        except BaseException:
            self._fail()
            raise
        self._done()

    def read_all(self) -> bytes:
        try:
            data: bytes = self._inner.read_all()
        except BaseException:
            self._fail()
            raise
        if self._writer is not None:
            self._writer.write(data)
            self._done()
        return data

    def close(self) -> None:
        self._fail()  # a body closed before its end is not stored (after the end, there is nothing to undo)
        self._inner.close()


class AsyncTeeStream(_Tee):
    __slots__ = ()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        writer = self._writer
        try:
            async for chunk in self._inner:
                if writer is not None:
                    writer.write(chunk)
                yield chunk
        except BaseException:
            self._fail()
            raise
        self._done()

    async def aread_all(self) -> bytes:
        try:
            data: bytes = await self._inner.aread_all()
        except BaseException:
            self._fail()
            raise
        if self._writer is not None:
            self._writer.write(data)
            self._done()
        return data

    async def aclose(self) -> None:
        self._fail()
        await self._inner.aclose()


class DualTeeStream(SyncTeeStream, AsyncTeeStream):
    """For a body already in memory, which both worlds read."""

    __slots__ = ()


class ChunksStream:
    """A stored body kept as the chunks it was read in, served to sync and async readers alike (joined
    only for a reader that asks for the whole body)."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    def read_all(self) -> bytes:
        return b"".join(self._chunks)

    def close(self) -> None:
        pass

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk

    async def aread_all(self) -> bytes:
        return b"".join(self._chunks)

    async def aclose(self) -> None:
        pass
