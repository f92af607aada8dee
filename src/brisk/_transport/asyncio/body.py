"""The loop every asyncio response body shares (HTTP/1.1 and HTTP/2): take what has arrived, else wait for
more, until the body ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

__all__ = ["AsyncPulledBody"]


class AsyncPulledBody:
    """An async body read by pulling: ``_take`` what has arrived, ``_fill`` to wait for more, until
    ``_ended``. At the end the connection goes back to the pool (``_finish``); when reading fails or stops
    half-way it is given up (``_abort``)."""

    __slots__ = ()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                data = self._take()
                if data:
                    yield data
                    continue
                if self._ended():
                    break
                await self._fill()
        except BaseException:
            self._abort()
            raise
        self._finish()

    async def aread_all(self) -> bytes:
        # The loop of __aiter__ again, without an async generator: most bodies arrive with their head,
        # and driving a generator for one piece costs more than the rest of reading it.
        chunks: list[bytes] = []
        try:
            while True:
                data = self._take()
                if data:
                    chunks.append(data)
                if self._ended():
                    break
                await self._fill()
        except BaseException:
            self._abort()
            raise
        self._finish()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def __iter__(self) -> Iterator[bytes]:
        raise RuntimeError(
            "this response came from an AsyncSession: use 'async for' / 'await response.aread()'"
        )

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError

    def _take(self) -> bytes:
        """The body bytes that have arrived and not been taken yet (b"" if none)."""
        raise NotImplementedError

    def _ended(self) -> bool:
        raise NotImplementedError

    async def _fill(self) -> None:
        """Wait until more of the body, its end or an error arrives (raising the error)."""
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _abort(self) -> None:
        raise NotImplementedError
