"""asyncio clients behind one small interface (the async twin of sync_clients.py).

    await start()                         open one session/client, sized for `pool` connections
    await get(url) -> body length         the whole body read into memory
    await stream(url, chunk) -> bytes     the body in chunks that are dropped
    await upload(url, path) -> length     POST of a file
    await version(url) -> str             the HTTP version the server answered with (to check h2 is used)
    await close()

Each session is entered with `async with` through an AsyncExitStack, as user code would. All run on the stdlib
asyncio event loop (no uvloop) so that no client gets a faster loop than another.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
from typing import Any, Protocol

from sync_clients import Config


class AsyncClient(Protocol):
    def __init__(self, cfg: Config) -> None: ...
    async def start(self) -> None: ...
    async def get(self, url: str) -> int: ...
    async def stream(self, url: str, chunk: int) -> int: ...
    async def upload(self, url: str, path: str) -> int: ...
    async def version(self, url: str) -> str: ...
    async def close(self) -> None: ...


class _Base:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.stack = contextlib.AsyncExitStack()
        self.s: Any = None

    async def close(self) -> None:
        await self.stack.aclose()

    async def upload(self, url: str, path: str) -> int:
        raise NotImplementedError(f"{type(self).__name__}: no async upload in this suite")


class Aiohttp(_Base):
    async def start(self) -> None:
        import aiohttp

        ctx = ssl.create_default_context(cafile=self.cfg.ca)
        connector = aiohttp.TCPConnector(limit=self.cfg.pool, ssl=ctx)
        self.s = await self.stack.enter_async_context(aiohttp.ClientSession(connector=connector))

    async def get(self, url: str) -> int:
        async with self.s.get(url) as r:
            return len(await r.read())

    async def stream(self, url: str, chunk: int) -> int:
        seen = 0
        async with self.s.get(url) as r:
            async for block in r.content.iter_chunked(chunk):
                seen += len(block)
        return seen

    async def upload(self, url: str, path: str) -> int:
        with open(path, "rb") as f:
            async with self.s.post(url, data=f) as r:
                return len(await r.read())

    async def version(self, url: str) -> str:
        async with self.s.get(url) as r:
            await r.read()
            return f"HTTP/{r.version.major}.{r.version.minor}"


class Httpx(_Base):
    async def start(self) -> None:
        import httpx

        ctx = ssl.create_default_context(cafile=self.cfg.ca)
        limits = httpx.Limits(max_connections=self.cfg.pool, max_keepalive_connections=self.cfg.pool)
        client = httpx.AsyncClient(verify=ctx, http2=self.cfg.http2, limits=limits)
        self.s = await self.stack.enter_async_context(client)

    async def get(self, url: str) -> int:
        return len((await self.s.get(url)).content)

    async def stream(self, url: str, chunk: int) -> int:
        seen = 0
        async with self.s.stream("GET", url) as r:
            async for block in r.aiter_bytes(chunk):
                seen += len(block)
        return seen

    async def version(self, url: str) -> str:
        return str((await self.s.get(url)).http_version)


class RequestsLike(_Base):
    """niquests and brisk: `AsyncSession`, `await s.get(url)`, `r.content` (requests' API, awaited)."""

    module = "niquests"

    def _session(self, mod: Any) -> Any:
        return mod.AsyncSession()

    async def start(self) -> None:
        mod = importlib.import_module(self.module)
        self.s = await self.stack.enter_async_context(self._session(mod))
        self.s.verify = self.cfg.ca

    async def get(self, url: str) -> int:
        return len((await self.s.get(url)).content)

    async def stream(self, url: str, chunk: int) -> int:
        seen = 0
        r = await self.s.get(url, stream=True)
        async for block in r.aiter_content(chunk):
            seen += len(block)
        return seen

    async def version(self, url: str) -> str:
        version: Any = getattr(await self.s.get(url), "http_version", "?")  # niquests: 11, 20, 30
        return {11: "HTTP/1.1", 20: "HTTP/2", 30: "HTTP/3"}.get(version, str(version))


class Niquests(RequestsLike):
    module = "niquests"

    def _session(self, mod: Any) -> Any:
        # niquests keeps 10 connections per host unless told; 100 tasks in flight need 100 (or h2 streams).
        return mod.AsyncSession(pool_connections=self.cfg.pool, pool_maxsize=self.cfg.pool)


class Brisk(RequestsLike):
    module = "brisk"

    def _session(self, mod: Any) -> Any:
        # HTTP/2 is a public session setting (off by default for now), like httpx's http2=True: h2_concurrent
        # asks for it, every other workload runs with it off, as before.
        return mod.AsyncSession(http2=self.cfg.http2)


ASYNC_CLIENTS: dict[str, type[AsyncClient]] = {
    "aiohttp": Aiohttp,
    "httpx": Httpx,
    "niquests": Niquests,
    "brisk": Brisk,
}
