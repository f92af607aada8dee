"""One behaviour test, two clients: ``Session`` and ``AsyncSession`` behind the same calls.

``SyncClient`` passes calls straight to a ``brisk.Session``. ``AsyncClient`` drives a ``brisk.AsyncSession``
on one event loop running in a background thread, so a test body written in plain sync code exercises the
async client too. Reading bodies goes through ``read``/``chunks``/``lines`` so each world uses its own
methods (``content``/``iter_content`` vs ``aread``/``aiter_content``).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import pytest

import brisk

__all__ = ["AsyncClient", "LoopThread", "SyncClient", "client", "client_factory", "loop_thread"]

_CALL_TIMEOUT = 60.0


class LoopThread:
    """An asyncio event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="brisk-test-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = _CALL_TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


class SyncClient:
    mode = "sync"

    def __init__(self, **settings: Any) -> None:
        self.session = brisk.Session(**settings)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def read(self, response: brisk.Response) -> bytes:
        return response.content

    def chunks(
        self, response: brisk.Response, chunk_size: int | None = None, decode_unicode: bool = False
    ) -> list[Any]:
        return list(response.iter_content(chunk_size, decode_unicode=decode_unicode))

    def raw_chunks(self, response: brisk.Response, chunk_size: int | None = None) -> list[bytes]:
        return list(response.iter_raw(chunk_size))

    def lines(self, response: brisk.Response, **kwargs: Any) -> list[Any]:
        return list(response.iter_lines(**kwargs))

    def iterate(self, response: brisk.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        """Pull chunks one at a time (for tests that stop half way)."""
        return response.iter_content(chunk_size)

    def close_response(self, response: brisk.Response) -> None:
        response.close()

    def pool(self) -> Any:
        return self.session._transport._state if self.session._transport is not None else None

    def close(self) -> None:
        self.session.close()


class AsyncClient:
    mode = "async"

    def __init__(self, loop: LoopThread, **settings: Any) -> None:
        self._loop = loop
        self.session = brisk.AsyncSession(**settings)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.session, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return self._loop.run(result) if inspect.isawaitable(result) else result

        return call

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self._loop.run(coro)

    def read(self, response: brisk.Response) -> bytes:
        return self._loop.run(response.aread())  # type: ignore[no-any-return]

    def chunks(
        self, response: brisk.Response, chunk_size: int | None = None, decode_unicode: bool = False
    ) -> list[Any]:
        return self._loop.run(_collect(response.aiter_content(chunk_size, decode_unicode=decode_unicode)))  # type: ignore[no-any-return]

    def raw_chunks(self, response: brisk.Response, chunk_size: int | None = None) -> list[bytes]:
        return self._loop.run(_collect(response.aiter_raw(chunk_size)))  # type: ignore[no-any-return]

    def lines(self, response: brisk.Response, **kwargs: Any) -> list[Any]:
        return self._loop.run(_collect(response.aiter_lines(**kwargs)))  # type: ignore[no-any-return]

    def iterate(self, response: brisk.Response, chunk_size: int | None = None) -> Iterator[bytes]:
        iterator = response.aiter_content(chunk_size)
        while True:
            try:
                yield self._loop.run(iterator.__anext__())
            except StopAsyncIteration:
                return

    def close_response(self, response: brisk.Response) -> None:
        self._loop.run(response.aclose())

    def pool(self) -> Any:
        return self.session._transport._state if self.session._transport is not None else None

    def close(self) -> None:
        self._loop.run(self.session.close())


async def _collect(iterator: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in iterator]


Client = SyncClient | AsyncClient


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


@pytest.fixture(params=["sync", "async"])
def client_factory(
    request: pytest.FixtureRequest, loop_thread: LoopThread
) -> Iterator[Callable[..., Client]]:
    """``client_factory(**session_settings)``: a client of the current mode (sync or async)."""
    made: list[Client] = []

    def make(**settings: Any) -> Client:
        made.append(
            SyncClient(**settings) if request.param == "sync" else AsyncClient(loop_thread, **settings)
        )
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture
def client(client_factory: Callable[..., Client]) -> Client:
    """A Session (``client.mode == "sync"``) or an AsyncSession (``"async"``) with default settings."""
    return client_factory()
