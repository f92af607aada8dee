"""What the suite measures: the clients, the workloads (which clients run each) and the project's targets.

This file is data. bench/run.py runs it; bench/workloads/worker.py holds the timed loops; bench/procs.py times
whole processes (curl, CLIs, imports).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Client:
    """A row of a result table; `mode`: "sync"/"async" (a worker.py adapter) or "proc" (procs.py)."""

    row: str
    env: str  # venv name in envs.py; "project" is the project venv (brisk, the stdlib baselines)
    mode: str
    adapter: str


def _sync(row: str, env: str | None = None) -> Client:
    return Client(row, env or row, "sync", row)


BRISK = Client("brisk", "project", "sync", "brisk")
BRISK_ASYNC = Client("brisk", "project", "async", "brisk")
REQUESTS, HTTPX, URLLIB3, PYCURL, NIQUESTS = map(
    _sync, ("requests", "httpx", "urllib3", "pycurl", "niquests")
)
BARE = Client("bare socket", "project", "sync", "bare")
BARE_POLL = Client("bare polling", "project", "sync", "bare-poll")  # brisk's way of waiting (busy_poll)
AIOHTTP = Client("aiohttp", "aiohttp", "async", "aiohttp")
HTTPX_ASYNC = Client("httpx", "httpx", "async", "httpx")
NIQUESTS_ASYNC = Client("niquests", "niquests", "async", "niquests")
CURL = Client("curl", "project", "proc", "curl")

BRISK_NOPOLL = Client("brisk busy_poll=0", "project", "sync", "brisk-nopoll")  # Limits(busy_poll=0)
BRISK_PURE = Client("brisk pure Python", "project", "sync", "brisk-pure")  # BRISK_NO_EXTENSIONS=1
SEQ_CLIENTS = (BRISK, BRISK_NOPOLL, BRISK_PURE, REQUESTS, HTTPX, URLLIB3, PYCURL, NIQUESTS, BARE, BARE_POLL)
ASYNC_CLIENTS = (BRISK_ASYNC, AIOHTTP, HTTPX_ASYNC, NIQUESTS_ASYNC)
BIG_CLIENTS = (
    BRISK,
    Client("brisk-async", "project", "async", "brisk"),
    REQUESTS,
    HTTPX,
    URLLIB3,
    PYCURL,
    NIQUESTS,
    AIOHTTP,
    BARE,
)
BULK_CLIENTS = (
    Client("brisk", "project", "bulk", "brisk-imap"),  # Session.imap
    Client("map (old)", "project", "bulk", "brisk-map-threads"),  # Session.map's thread pool
    Client("map/200 (old)", "project", "bulk", "brisk-map-threads-batched"),  # as sync_concurrent calls it
    Client("aiohttp+sem", "aiohttp", "bulk", "aiohttp-semaphore"),
)
IMPORTED = ("brisk", "requests", "httpx", "urllib3", "aiohttp", "niquests")


@dataclass(frozen=True)
class Workload:
    name: str
    what: str
    unit: str  # "req/s" or "MB/s" (higher is better), "ms" (lower is better)
    loop: str  # worker loop for sync/async rows: "seq", "cold", "threads", "async"
    op: str  # "get", "post_json", "content", "stream", "upload", "import", "cli"
    server: str  # "http", "https", "h2" (nginx listeners), "sink" (upload sink), "" (none)
    path: str
    clients: tuple[Client, ...]
    n: int  # operations per measurement at most (also bounded by time, see run.py)
    quick_n: int
    concurrency: int = 1
    http2: bool = False
    warmup: int = 50

    @property
    def higher_is_better(self) -> bool:
        return self.unit != "ms"


#: A fresh cache hit (/cached.json: small.json with Cache-Control: max-age) against the same GET without a
#: cache and against requests-cache's hit path; "brisk" is the in-memory cache, the reference row.
CACHE_CLIENTS = (
    Client("brisk", "project", "sync", "brisk-cache"),
    Client("no cache: brisk", "project", "sync", "brisk"),  # (a row name starting "brisk" gets no ratio)
    Client("requests-cache", "requests-cache", "sync", "requests-cache"),
    Client("sqlite: brisk", "project", "sync", "brisk-cache-sqlite"),
    Client("sqlite: requests-cache", "requests-cache", "sync", "requests-cache-sqlite"),
)
BIG = 100 * 1024 * 1024
WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "seq_get", "sequential keep-alive GETs of /small.json, plain HTTP, one session", "req/s",
        "seq", "get", "http", "/small.json", SEQ_CLIENTS, 50_000, 5_000,
    ),
    Workload(
        "seq_get_https", "sequential keep-alive GETs of /small.json, HTTPS HTTP/1.1, one session", "req/s",
        "seq", "get", "https", "/small.json", SEQ_CLIENTS, 50_000, 5_000,
    ),
    Workload(
        "small_posts", "sequential POSTs of a small JSON body (json=), plain HTTP", "req/s",
        "seq", "post_json", "http", "/post", SEQ_CLIENTS, 50_000, 5_000,
    ),
    Workload(
        "seq_get_async", "sequential keep-alive GETs of /small.json, asyncio, one request in flight", "req/s",
        "async", "get", "http", "/small.json", ASYNC_CLIENTS, 50_000, 5_000,
    ),
    Workload(
        "async_concurrent", "100 concurrent GETs in flight (asyncio, one session), plain HTTP", "req/s",
        "async", "get", "http", "/small.json", ASYNC_CLIENTS, 50_000, 5_000, concurrency=100, warmup=2,
    ),
    Workload(
        "async_concurrent_https", "100 concurrent GETs in flight (asyncio), HTTPS HTTP/1.1", "req/s",
        "async", "get", "https", "/small.json", ASYNC_CLIENTS, 50_000, 5_000, concurrency=100, warmup=2,
    ),
    Workload(
        "sync_concurrent", "100 concurrent GETs from threads (brisk: Session.map), plain HTTP", "req/s",
        "threads", "get", "http", "/small.json", (BRISK, REQUESTS, HTTPX), 50_000, 5_000, concurrency=100,
    ),
    Workload(
        "bulk_100k", "100,000 GETs of /small.json from sync code in one call, 100 in flight, not time-boxed",
        "req/s", "bulk", "get", "http", "/small.json", BULK_CLIENTS, 100_000, 10_000, concurrency=100,
    ),
    Workload(
        "bulk_100k_h2", "the same over HTTPS, the server offering HTTP/2 (aiohttp: HTTP/1.1, 100 conns)",
        "req/s", "bulk", "get", "h2", "/small.json", BULK_CLIENTS, 100_000, 10_000, concurrency=100,
    ),
    Workload(
        "h2_concurrent", "100 concurrent GETs over HTTPS, HTTP/2 where the client speaks it", "req/s",
        "async", "get", "h2", "/small.json", ASYNC_CLIENTS, 50_000, 5_000,
        concurrency=100, http2=True, warmup=2,
    ),
    Workload(
        "cache_hit", "sequential GETs of /cached.json, fresh in the cache (max-age), plain HTTP", "req/s",
        "seq", "get", "http", "/cached.json", CACHE_CLIENTS, 50_000, 5_000,
    ),
    Workload(
        "content_100mb", "GET /100mb.bin read whole into memory", "MB/s",
        "seq", "content", "http", "/100mb.bin", BIG_CLIENTS, 8, 2, warmup=0,
    ),
    Workload(
        "stream_100mb", "GET /100mb.bin streamed in 64 KiB chunks that are dropped", "MB/s",
        "seq", "stream", "http", "/100mb.bin", (*BIG_CLIENTS, CURL), 8, 2, warmup=0,
    ),
    Workload(
        "upload_100mb", "POST of a 100 MiB file to a sink that reads it all", "MB/s",
        "seq", "upload", "sink", "/upload", (BRISK, REQUESTS, HTTPX, URLLIB3, PYCURL, AIOHTTP, BARE, CURL),
        8, 2, warmup=0,
    ),
    Workload(
        "cold_request", "new session + one GET over HTTPS (TCP connect + TLS handshake each time)", "ms",
        "cold", "get", "https", "/small.json", SEQ_CLIENTS, 1_000, 100, warmup=2,
    ),
    Workload(
        "import_time", "python -c 'import X' minus python -c pass, fresh processes (median)", "ms",
        "", "import", "", "", tuple(Client(m, "project" if m == "brisk" else m, "proc", m) for m in IMPORTED),
        15, 3,
    ),
    Workload(
        "cli_get", "one GET of /small.json by a command-line client, whole process", "ms",
        "", "cli", "http", "/small.json",
        (Client("brisk", "project", "proc", "brisk-cli"), Client("httpie", "httpie", "proc", "httpie"), CURL),
        10, 3,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """brisk must reach `ratio` times the peer's figure, or (peer None) stay at or below `limit`.

    `row` is brisk's row judged (another setting of brisk's); with `cpu`, the figure is the CPU time per
    operation, and the ratio is the peer's CPU time over brisk's (> 1: brisk spends less)."""

    peer: str | None
    ratio: float = 0.0
    limit: float = 0.0
    row: str = "brisk"
    cpu: bool = False

    def describe(self, unit: str) -> str:
        if self.peer is None:
            return f"{self.row} <= {self.limit:g} {unit}"
        return f"{self.row} >= {self.ratio:g}x {self.peer}{', CPU/op' if self.cpu else ''}"


TARGETS: dict[str, tuple[Target, ...]] = {
    "seq_get": (
        Target("requests", 5.0),
        Target("pycurl", 1.0),
        Target("pycurl", 1.0, cpu=True),
        Target("pycurl", 1.0, row=BRISK_NOPOLL.row),
        Target("pycurl", 1.0, row=BRISK_NOPOLL.row, cpu=True),
        Target("bare socket", 0.8),
    ),
    "async_concurrent": (Target("aiohttp", 1.3),),
    "cache_hit": (Target("no cache: brisk", 3.0), Target("requests-cache", 2.0)),
    "h2_concurrent": (Target("httpx", 10.0), Target("aiohttp", 1.0)),
    "bulk_100k": (Target("map (old)", 3.0), Target("map/200 (old)", 3.0), Target("aiohttp+sem", 1.2)),
    "content_100mb": (Target("requests", 2.5),),
    "stream_100mb": (Target("curl", 0.9),),
    "import_time": (Target(None, limit=30.0),),
    "cli_get": (Target(None, limit=60.0),),
}
