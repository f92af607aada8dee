"""The `bulk_100k` loop: N small GETs fetched from sync code in one call, however the client does bulk.

- `brisk-imap`: `Session.imap(generator, concurrency=C)`, results consumed as they come (the bulk engine on
  the session's loop thread).
- `brisk-map-threads`: brisk's `Session.map` as it was before the bulk engine: the whole list of calls built
  first, then a `ThreadPoolExecutor(C)` sending them through the sync session (kept in
  `brisk._bulk.sync._map_threads`, which map still uses where requests' chain needs it).
- `brisk-map-threads-batched`: the same thread pool called as the suite's `sync_concurrent` workload calls
  `Session.map`: 200 URLs per call, so each call starts its 100 threads again.
- `aiohttp-semaphore`: what users write by hand from sync code: `asyncio.run` of `gather` over a task per
  URL, each under an `asyncio.Semaphore(C)`, on one `ClientSession` (connector limit C).

Unlike the other loops this one is not time-boxed: every client fetches all N, so the memory figure
(`rss_mb`: growth of the peak resident set over the timed run) is for the same number of items.
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_bulk(spec: dict[str, Any]) -> dict[str, Any]:
    n, conc, url, expect = spec["n"], spec["concurrency"], spec["url"], spec["expect"]
    run = {
        "brisk-imap": _brisk_imap, "brisk-map-threads": _brisk_threads,
        "brisk-map-threads-batched": _brisk_threads_batched, "aiohttp-semaphore": _aiohttp,
    }  # fmt: skip
    fetch = run[spec["adapter"]]
    _CA[0] = spec["ca"] or None
    assert fetch(url, min(n, 2 * conc), conc) == min(n, 2 * conc) * expect  # warm-up: opens the connections
    peak = _peak_mb()
    start, cpu = time.perf_counter(), time.process_time()
    got = fetch(url, n, conc)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if got != n * expect:
        raise AssertionError(f"expected {n} x {expect} body bytes, got {got}")
    return {
        "value": n / elapsed, "count": n, "elapsed": elapsed, "cpu_us": cpu / n * 1e6,
        "via": f"rss +{_peak_mb() - peak:.0f} MB",
    }  # fmt: skip


_SESSION: Any = None
_CA: list[str | None] = [None]  # the CA file of an https workload


def _brisk_session() -> Any:
    global _SESSION
    if _SESSION is None:
        import brisk

        _SESSION = brisk.Session(verify=_CA[0] or True)  # HTTP/2 where the server offers it (ALPN)
    return _SESSION


def _brisk_imap(url: str, n: int, conc: int) -> int:
    session = _brisk_session()
    urls = (url for _ in range(n))
    return sum(len(r.response.content) for r in session.imap(urls, concurrency=conc) if r.response)


def _brisk_threads(url: str, n: int, conc: int) -> int:
    from brisk._bulk.sync import _map_threads
    from brisk._session.calls import map_call

    session = _brisk_session()
    calls = [map_call(url, {}) for _ in range(n)]
    return sum(len(r.content) for r in _map_threads(session, calls, conc, False))


def _brisk_threads_batched(url: str, n: int, conc: int) -> int:
    done = got = 0
    while done < n:
        batch = min(n - done, 2 * conc)
        got += _brisk_threads(url, batch, conc)
        done += batch
    return got


def _aiohttp(url: str, n: int, conc: int) -> int:
    import aiohttp

    async def main() -> int:
        import ssl

        semaphore = asyncio.Semaphore(conc)
        context = ssl.create_default_context(cafile=_CA[0]) if _CA[0] else None
        connector = aiohttp.TCPConnector(limit=conc, ssl=context if context else True)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(target: str) -> int:
                async with semaphore, session.get(target) as response:
                    return len(await response.read())

            return sum(await asyncio.gather(*(one(url) for _ in range(n))))

    return asyncio.run(main())
