"""Run one measurement of one client and print one JSON line. Runs inside the client's own venv.

    python worker.py '<spec json>'

The spec (built by bench/run.py) names a loop, an adapter and its operation. Only the loop after the warm-up
is timed. A loop stops after `n` operations or once `max_s` seconds have passed, whichever comes first, so a
slow client cannot stretch the run. Output: {"value": ..., "count": ..., "elapsed": ...} or {"error": ...}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from async_clients import ASYNC_CLIENTS, AsyncClient
from sync_clients import CLIENTS, Config, SyncClient

SMALL_DOC = {"user": "bench", "items": [1, 2, 3], "active": True, "note": "a small JSON body"}


def _check(spec: dict[str, Any], got: int, ops: int = 1) -> None:
    """Every operation's body length is checked, so a client that cuts a body short cannot look fast."""
    if got != spec["expect"] * ops:
        raise AssertionError(f"expected {ops} x {spec['expect']} body bytes from {spec['url']}, got {got}")


def _result(spec: dict[str, Any], count: int, elapsed: float, cpu: float, **extra: Any) -> dict[str, Any]:
    """The figure of one measurement; ``cpu`` is this process's CPU time over the timed loop."""
    unit = spec["unit"]
    if unit == "req/s":
        value = count / elapsed
    elif unit == "MB/s":
        value = count * spec["bytes_per_op"] / elapsed / 1e6
    else:  # ms per operation
        value = elapsed / count * 1000
    return {"value": value, "count": count, "elapsed": elapsed, "cpu_us": cpu / count * 1e6, **extra}


def _sync_op(client: SyncClient, spec: dict[str, Any]) -> Callable[[], int]:
    url, op = spec["url"], spec["op"]
    if op == "stream":
        return lambda: client.stream(url, spec["chunk"])
    if op == "post_json":
        return lambda: client.post_json(url, SMALL_DOC)
    if op == "upload":
        return lambda: client.upload(url, spec["file"])
    return lambda: client.get(url)  # "get" and "content"


def run_sync(spec: dict[str, Any]) -> dict[str, Any]:
    cls = CLIENTS[spec["adapter"]]
    n, deadline_s = spec["n"], spec["max_s"]
    cfg = Config(spec["ca"], pool=max(spec["concurrency"], 10), http2=spec["http2"])

    if spec["loop"] == "cold":  # a brand-new client (and connection, and TLS handshake) per request

        def once() -> int:
            client = cls(cfg)
            try:
                return client.get(spec["url"])
            finally:
                client.close()

        op: Callable[[], int] = once
        client = None
    else:
        client = cls(cfg)
        op = _sync_op(client, spec)

    if spec["loop"] == "threads":
        assert client is not None
        return _threads(client, spec)
    try:
        for _ in range(spec["warmup"]):
            _check(spec, op())
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        deadline = start + deadline_s
        while count < n:
            _check(spec, op())
            count += 1
            if time.perf_counter() > deadline:
                break
        return _result(spec, count, time.perf_counter() - start, time.process_time() - cpu)
    finally:
        if client is not None:
            client.close()


def _threads(client: SyncClient, spec: dict[str, Any]) -> dict[str, Any]:
    """Concurrent GETs: brisk's Session.map when it has one, else a thread pool sharing the client."""
    url, conc = spec["url"], spec["concurrency"]
    pool = ThreadPoolExecutor(conc)
    via = "threads"

    def threaded(urls: list[str]) -> int:
        return sum(pool.map(client.get, urls))

    run: Callable[[list[str]], int] = threaded
    mapper = getattr(client, "map_get", None)
    if mapper is not None and hasattr(client.s, "map"):  # type: ignore[attr-defined]
        run, via = (lambda urls: mapper(urls, conc)), "Session.map"
    try:
        _check(spec, run([url] * conc * 2), conc * 2)  # warm-up: opens the connections
        count, start, cpu = 0, time.perf_counter(), time.process_time()
        deadline = start + spec["max_s"]
        while count < spec["n"] and time.perf_counter() < deadline:
            batch = min(spec["n"] - count, conc * 2)  # small batches keep slow clients inside the time box
            _check(spec, run([url] * batch), batch)
            count += batch
        return _result(spec, count, time.perf_counter() - start, time.process_time() - cpu, via=via)
    finally:
        pool.shutdown()
        client.close()


async def run_async(spec: dict[str, Any]) -> dict[str, Any]:
    conc = spec["concurrency"]
    cfg = Config(spec["ca"], pool=max(conc, 10), http2=spec["http2"])
    client: AsyncClient = ASYNC_CLIENTS[spec["adapter"]](cfg)
    await client.start()
    try:
        url = spec["url"]
        if spec["op"] == "stream":
            op: Callable[[], Awaitable[int]] = lambda: client.stream(url, spec["chunk"])  # noqa: E731
        elif spec["op"] == "upload":
            op = lambda: client.upload(url, spec["file"])  # noqa: E731
        else:
            op = lambda: client.get(url)  # noqa: E731
        for _ in range(spec["warmup"]):  # each warm-up round fills the pool: `conc` requests at once
            for got in await asyncio.gather(*(op() for _ in range(conc))):
                _check(spec, got)
        proto = await client.version(url) if spec["http2"] else None
        left = spec["n"]
        done = 0
        start, cpu = time.perf_counter(), time.process_time()
        deadline = start + spec["max_s"]

        async def task() -> None:
            nonlocal left, done
            while left > 0 and time.perf_counter() < deadline:
                left -= 1
                _check(spec, await op())
                done += 1

        await asyncio.gather(*(task() for _ in range(conc)))
        extra = {"proto": proto} if proto else {}
        return _result(spec, done, time.perf_counter() - start, time.process_time() - cpu, **extra)
    finally:
        await client.close()


def main() -> None:
    spec = json.loads(sys.argv[1])
    try:
        if spec["mode"] == "bulk":
            from bulk import run_bulk

            result = run_bulk(spec)
        else:
            result = asyncio.run(run_async(spec)) if spec["mode"] == "async" else run_sync(spec)
    except BaseException as exc:
        result = {"error": f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
