"""CPU time and instructions per request of a sequential keep-alive GET, layer by layer (issue 26).

    .venv/bin/python bench/profile_layers.py               # CPU us per layer, sync and async (~1 min)
    .venv/bin/python bench/profile_layers.py --callgrind   # + instructions per request (valgrind, +1 min)
    .venv/bin/python bench/profile_layers.py --top 15      # + the top 15 functions, sampled (+1 min)
    .venv/bin/python bench/profile_layers.py --no-peers    # without pycurl/aiohttp through the bench worker

It starts its own nginx (bench/nginx.py) and measures, in one run:

1. **Each layer alone, in memory.** A connection is pooled from nginx, then its socket is swapped for one that
   takes the request and hands back a response nginx sent earlier, so a row is the layer's own work: Python,
   C extensions, and the system calls the layer makes itself (the pool's liveness ``poll()``). A layer is
   timed over a stand-in for the layer below (a transport that returns a fresh Response), and the stand-in
   is subtracted: session = ``Session(transport=stub).get()`` minus the flow over the stub; flow =
   ``run_sync(request_flow(...), stub)`` minus the stub; pool, serialise, parse and Response are their own
   calls; "transport, the rest" is ``handle_request`` minus those four. Indented rows are parts of the row
   above, timed alone (not added again). Async shares serialise and parse with sync (the same code).
2. **What adding up misses.** "footprint" is the whole ``get()`` in memory minus the layers added up: the same
   instructions (see the instr column) take longer together, as two layers called one after the other in
   one loop do too. Not the cyclic GC (a request frees what it allocates: no collections); most likely more
   code and data than the CPU's caches and branch predictors hold (this VM has no hardware counters to show
   it). So a layer's share of the real cost is closer to its share of the instructions than to its time
   alone. "in-loop" is the real loop against nginx minus the whole ``get()`` in memory and the bare socket
   loop: caches refilled after the core slept in recv(), busy polling's spinning, and in async the waiting
   that the in-memory run skips (a future and a timer per request).
3. **Peers on the same nginx** through the bench's own worker (bench/workloads/worker.py, each in its venv):
   pycurl, the bare socket and brisk for seq_get; aiohttp and brisk for seq_get_async. The first run makes
   their venvs as ``bench/run.py`` does (a minute or two).
4. ``--top K``: the K functions with the most CPU time per request, self and cumulative, sampled on CPU time
   (``ITIMER_PROF``) in real loops against nginx; unlike cProfile it adds no cost to each call. Python runs a
   signal handler at its next function call or loop turn, so self time skids: the CPU of a system call can
   land on a function called after it (``ReadBody.__init__``); cumulative times are sound.

CPU time is ``time.process_time()`` per call, the best of alternating passes (noise only ever adds); on a
shared machine it still moves by 10-20 %. Instructions do not: ``--callgrind`` runs the same operations in a
child process under valgrind's callgrind, which calls ``os.getpgrp()`` (``--zero-before``) and
``os.getppid()`` (``--dump-before``) around each operation's calls, so each dump holds one operation.
User-space instructions only: the kernel's share of send/recv is in the CPU time, not in the count. ``--keep
DIR`` keeps the dumps (``DIR/sync.out.N``: the N-th operation of ``sync_ops`` then ``real_sync_ops``, busy
polling left out); ``callgrind_annotate DIR/sync.out.N`` lists the C functions (the interpreter, dicts,
malloc, llhttp) that its instructions go to.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import httptools  # noqa: E402

import brisk  # noqa: E402
import nginx  # noqa: E402
from brisk._core.streams import ByteStream  # noqa: E402
from brisk._flows import run_async, run_sync  # noqa: E402
from brisk._flows.request import request_flow  # noqa: E402
from brisk._protocol.http11 import ResponseParser, encode_request_head  # noqa: E402
from brisk._transport.base import Timings  # noqa: E402
from brisk._transport.wire import method_of, request_line_and_headers  # noqa: E402
from brisk.models import Response  # noqa: E402
from seq_profile import _NoCallbacks, minimal_client  # noqa: E402

PASSES = 5  # alternating passes over every operation; the best is kept
N = 2000  # calls per operation and pass
CG_N = 1000  # calls per operation under callgrind (deterministic: one pass is enough)
Ops = dict[str, Callable[[], Any]]  # "layer" or "layer/part" or "real: ..." -> one request's work


def canned_response(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /small.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = sock.recv(65536)
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


class InMemory(socket.socket):
    """A socket that takes any request and answers with ``canned`` (no system call)."""

    canned = b""
    real: socket.socket | None = None  # the connection's own socket, kept open: the pool polls it

    def sendall(self, data: object, flags: int = 0) -> None:
        return None

    def recv(self, size: int, flags: int = 0) -> bytes:
        return self.canned


class InMemoryAsyncio:
    """An asyncio transport whose write() delivers the canned response through the protocol's buffer."""

    def __init__(self, conn: Any, canned: bytes, real: Any) -> None:
        self.conn, self.canned, self.real = conn, canned, real

    def write(self, data: bytes) -> None:
        self.conn._buffer[: len(self.canned)] = self.canned
        self.conn.buffer_updated(len(self.canned))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class Stub:
    """A transport that returns a fresh Response at once: what the session and the flow are timed over."""

    def __init__(self, canned: bytes) -> None:
        parser = ResponseParser()
        parser.feed(canned)
        self.head, self.body = parser.head, parser.take_body()

    def response(self, request: Any) -> Response:
        head, body = self.head, ByteStream(self.body)
        return Response._from_transport(200, "OK", "HTTP/1.1", head, body, request, None)

    def handle_request(self, request: Any, options: Any) -> Response:
        return self.response(request)

    async def handle_async_request(self, request: Any, options: Any) -> Response:
        return self.response(request)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def pooled(session: Any, url: str) -> tuple[Any, Any, Any, Any, Any, tuple[Any, ...]]:
    """(request, settings, transport, connection, url, pool key) of a session with one pooled connection."""
    p = session._prepare("GET", url, None, None, None, None, None, None, None)
    settings = session._settings(p)
    transport = session._transport_for()
    (conn,) = [c for conns in transport._state._idle.values() for c in conns]
    u = p._url
    return p, settings, transport, conn, u, (u.scheme, u.host, u.effective_port, settings.options.config)


def sync_ops(url: str, canned: bytes) -> Ops:
    stub = Stub(canned)
    stubbed = brisk.Session(transport=stub)
    memory = brisk.Session(limits=brisk.Limits(busy_poll=0))  # nothing to wait for: the socket is in memory
    memory.get(url).content  # noqa: B018  (opens the pooled connection)
    p, settings, transport, conn, u, key = pooled(memory, url)
    options, timings = settings.options, Timings(0.0)
    real, conn.sock = conn.sock, InMemory(socket.AF_INET, socket.SOCK_STREAM)
    conn.sock.canned, conn.sock.real = canned, real
    # The C accelerator's exchange (h1._exchange_in_c) makes its system calls on the socket's descriptor,
    # which a Python stand-in cannot answer: in memory, the Python exchange runs (the real loops use C).
    conn._in_c = False
    head_only = canned[: canned.index(b"\r\n\r\n") + 4]
    minimal_sock = InMemory(socket.AF_INET, socket.SOCK_STREAM)
    minimal_sock.canned = canned
    headers = list(memory.headers.items())

    def pool() -> None:
        transport._finish(key, transport._acquire(key, u, options, timings), True)

    def parse() -> bytes:
        parser = ResponseParser(method_of(p), options.limits)
        parser.feed(canned)
        return parser.take_body() if parser.complete and parser.reusable else b""

    ops: Ops = {
        "nothing": lambda: None,
        "session+flow+stub": lambda: stubbed.get(url).content,
        "session/_follows_requests_chain": memory._follows_requests_chain,
        "session/_prepare": lambda: memory._prepare("GET", url, None, None, None, None, None, None, None),
        "session/_settings (cached)": lambda: memory._settings(p),
        "session/_fingerprint": memory._fingerprint,
        "session/_transport_for (_routes_through_adapters)": memory._transport_for,
        "flow+stub": lambda: run_sync(request_flow(p, settings), stub),
        "stub": lambda: stub.handle_request(p, options).content,
        "transport": lambda: transport.handle_request(p, options).content,
        "pool": pool,
        "pool/looks_alive (one poll())": conn.looks_alive,
        "serialise": lambda: encode_request_head(method_of(p), *request_line_and_headers(p, u, options)),
        "parse": parse,
        "parse/llhttp on the head": lambda: httptools.HttpResponseParser(_NoCallbacks()).feed_data(head_only),
        "Response": lambda: stub.response(p).content,
        "Response/+ r.headers['x'] (not in seq_get)": lambda: stub.response(p).headers["content-type"],
        "whole": lambda: memory.get(url).content,
        "minimal": lambda: minimal_client(minimal_sock, u.host_header, "/small.json", headers),
    }
    return in_memory(ops, conn)


def in_memory(ops: Ops, conn: Any) -> Ops:
    """``ops``, once it is checked that the in-memory connection serves them (not a new, real one)."""
    served = conn.served
    ops["transport"]()
    ops["whole"]()
    if conn.served != served + 2:
        raise RuntimeError("the pool did not reuse the in-memory connection: the figures would be wrong")
    return ops


def real_sync_ops(url: str) -> Ops:
    host, port = url.split("/")[2].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fixed = f"GET /small.json HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sock.sendall(fixed)
    size = len(sock.recv(65536))

    def bare() -> None:
        sock.sendall(fixed)
        got = 0
        while got < size:
            got += len(sock.recv(65536))

    polling = brisk.Session()
    sleeping = brisk.Session(limits=brisk.Limits(busy_poll=0))
    return {
        "real: bare socket": bare,
        "real: Session.get, busy_poll=0": lambda: sleeping.get(url).content,
        "real: Session.get, busy polling (default)": lambda: polling.get(url).content,
    }


async def async_ops(url: str, canned: bytes) -> Ops:
    stub = Stub(canned)
    stubbed = brisk.AsyncSession(transport=stub)
    memory = brisk.AsyncSession()
    (await memory.get(url)).content  # noqa: B018
    p, settings, transport, conn, u, key = pooled(memory, url)
    options, timings = settings.options, Timings(0.0)
    real = conn.transport  # kept open: the pool polls its socket
    conn.transport = InMemoryAsyncio(conn, canned, real)

    async def nothing() -> None:
        return None

    async def session_flow_stub() -> bytes:
        return (await stubbed.get(url)).content

    async def flow_stub() -> Response:
        return await run_async(request_flow(p, settings), stub)

    async def stub_alone() -> bytes:
        return await (await stub.handle_async_request(p, options)).aread()

    async def transport_alone() -> bytes:
        return await (await transport.handle_async_request(p, options)).aread()

    async def pool() -> None:
        transport._finish(key, await transport._acquire(key, u, options, timings), True)

    async def response() -> bytes:
        return await stub.response(p).aread()

    async def whole() -> bytes:
        return (await memory.get(url)).content

    served = conn.served
    await transport_alone()
    await whole()
    if conn.served != served + 2 or conn.transport.real is not real:
        raise RuntimeError("the pool did not reuse the in-memory connection: the figures would be wrong")
    return {
        "nothing": nothing,
        "session+flow+stub": session_flow_stub,
        "flow+stub": flow_stub,
        "stub": stub_alone,
        "transport": transport_alone,
        "pool": pool,
        "Response": response,
        "whole": whole,
    }


async def real_async_ops(url: str) -> Ops:
    host, port = url.split("/")[2].split(":")
    loop = asyncio.get_running_loop()
    fixed = f"GET /small.json HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    size = len(canned_response(int(port)))

    class Bare(asyncio.Protocol):
        """The floor of asyncio: fixed request bytes, a future resolved when the known length arrived."""

        got, done = 0, loop.create_future()

        def data_received(self, data: bytes) -> None:
            self.got += len(data)
            if self.got >= size:
                self.done.set_result(None)

    writer, bare_protocol = await loop.create_connection(Bare, host, int(port))

    async def bare() -> None:
        bare_protocol.got, bare_protocol.done = 0, loop.create_future()
        writer.write(fixed)
        await bare_protocol.done

    session = brisk.AsyncSession()

    async def get() -> bytes:
        return (await session.get(url)).content

    return {"real: bare asyncio": bare, "real: AsyncSession.get": get}


# -- measuring ----------------------------------------------------------------------------------------------


Times = dict[str, tuple[float, float]]  # operation -> (CPU us, wall us) per call


def best(found: dict[str, list[tuple[float, float]]]) -> Times:
    return {name: (min(c for c, _ in got), min(w for _, w in got)) for name, got in found.items()}


def timed(ops: Ops, n: int = N) -> Times:
    """CPU and wall time per call of each operation: the best of PASSES alternating passes."""
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in ops}
    for _ in range(PASSES):
        for name, op in ops.items():
            for _ in range(200):  # warm up (and let busy polling's backoff settle)
                op()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                op()
            found[name].append(
                ((time.process_time() - cpu) * 1e6 / n, (time.perf_counter() - wall) * 1e6 / n)
            )
    return best(found)


async def atimed(ops: Ops, n: int = N) -> Times:
    found: dict[str, list[tuple[float, float]]] = {name: [] for name in ops}
    for _ in range(PASSES):
        for name, op in ops.items():
            for _ in range(200):
                await op()
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                await op()
            found[name].append(
                ((time.process_time() - cpu) * 1e6 / n, (time.perf_counter() - wall) * 1e6 / n)
            )
    return best(found)


def counted(ops: Ops, n: int) -> list[str]:
    """Under callgrind: each operation's n calls between a zeroing and a dump (see the module docstring)."""
    names = []
    for name, op in ops.items():
        if "busy polling" in name:  # spins as many times as valgrind's slowness lets it: not comparable
            continue
        for _ in range(200):
            op()
        os.getpgrp()
        for _ in range(n):
            op()
        os.getppid()
        names.append(name)
    return names


async def acounted(ops: Ops, n: int) -> list[str]:
    names = []
    for name, op in ops.items():
        for _ in range(200):
            await op()
        os.getpgrp()
        for _ in range(n):
            await op()
        os.getppid()
        names.append(name)
    return names


def callgrind(url: str, keep: Path, n: int = CG_N) -> dict[str, dict[str, float]]:
    """Instructions per call of every operation (sync, async), and of pycurl's get() when its venv exists."""
    pycurl = BENCH / ".envs" / "pycurl" / "bin" / "python"
    peer = (
        "import os, sys; sys.path.insert(0, sys.argv[1]); from sync_clients import CLIENTS, Config\n"
        "c = CLIENTS['pycurl'](Config(ca='')); url, n = sys.argv[2], int(sys.argv[3])\n"
        "for _ in range(200): c.get(url)\n"
        "os.getpgrp()\nfor _ in range(n): c.get(url)\nos.getppid()\nprint('[\"real: pycurl\"]')\n"
    )
    runs = {kind: [sys.executable, __file__, "--count", kind, url, str(n)] for kind in ("sync", "async")}
    if pycurl.exists():
        runs["pycurl"] = [str(pycurl), "-c", peer, str(BENCH / "workloads"), url, str(n)]
    out: dict[str, dict[str, float]] = {}
    for kind, cmd in runs.items():
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={keep}/{kind}.out"]
        valgrind += ["--zero-before=os_getpgrp*", "--dump-before=os_getppid*"]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(valgrind + cmd, capture_output=True, text=True, env=env, check=True)
        names = json.loads(done.stdout.strip().splitlines()[-1])
        out[kind] = {}
        for i, name in enumerate(names, 1):
            text = (keep / f"{kind}.out.{i}").read_text(errors="replace")
            total = next(line for line in text.splitlines() if line.startswith("summary:"))
            out[kind][name] = int(total.split()[1]) / n
    return out


# -- the report ---------------------------------------------------------------------------------------------

LAYERS = {
    "session": "get/request: _prepare, _settings, _transport_for, checks",
    "flow": "request_flow + run_sync/run_async: generators, effects",
    "pool": "_acquire + _finish: lock, PoolState, liveness poll()",
    "serialise": "request_line_and_headers + encode_request_head",
    "parse": "ResponseParser: head end, llhttp validation, framing",
    "Response": "_from_transport + .content (async: aread())",
    "transport": "the rest of handle_request/_exchange: Timings, I/O calls",
}


Row = tuple[str, float, str]  # label, value, the real loop it is (for its wall time) or ""


def breakdown(values: dict[str, float], shared: dict[str, float] | None = None) -> list[Row]:
    """Table rows from per-operation values (CPU us or instructions)."""
    own = {k: v - values.get("nothing", 0.0) for k, v in values.items() if k != "nothing"}
    for name, value in (shared or {}).items():  # serialise and parse: the same code in both worlds
        if name.startswith(("serialise", "parse")):
            own.setdefault(name, value)
    layer = {
        "session": own["session+flow+stub"] - own["flow+stub"],
        "flow": own["flow+stub"] - own["stub"],
        **{name: own[name] for name in ("pool", "serialise", "parse", "Response")},
    }
    layer["transport"] = own["transport"] - sum(layer[k] for k in ("pool", "serialise", "parse", "Response"))
    rows = []
    for name, what in LAYERS.items():
        rows.append((f"{name:10s} {what}", layer[name], ""))
        rows += [(f"{'':12s}{k.split('/', 1)[1]}", v, "") for k, v in own.items() if k.startswith(f"{name}/")]
    python = sum(layer.values())
    rows.append(("= Python work: the layers added up (each alone, in memory)", python, ""))
    rows.append(("+ footprint: the whole get() in memory minus the sum", own["whole"] - python, ""))
    rows.append(("= the whole get() in memory, timed as one", own["whole"], ""))
    floor = "real: bare socket" if "real: bare socket" in own else "real: bare asyncio"
    if floor in own:
        rows.append((f"+ socket: the {floor[6:]} loop against nginx", own[floor], floor))
        for name, value in own.items():
            if name.startswith("real: ") and "bare" not in name:
                extra = value - own["whole"] - own[floor]
                rows.append((f"+ in-loop, {name[6:]}: real - whole - socket", extra, ""))
                rows.append((f"= {name[6:]} against nginx", value, name))
    if "minimal" in own:
        rows.append(("  reference: seq_profile.minimal_client, in memory", own["minimal"], ""))
    return rows


def print_table(title: str, cpu: list[Row], wall: dict[str, float], instr: list[Row]) -> None:
    """The rows; with instructions, also each layer's share of the whole get()'s (its share in place)."""
    counts = {label: value for label, value, _ in instr}
    whole = counts.get("= the whole get() in memory, timed as one", 0.0)
    print(f"\n{title}\n{'':72s} {'CPU us':>7s} {'wall us':>8s} {'instr':>9s} {'share':>6s}")
    for label, value, real in cpu:
        walls = f"{wall[real]:8.1f}" if real else ""
        count = f"{counts[label]:9,.0f}" if label in counts else ""
        share = f"{counts[label] / whole:6.1%}" if whole and label in counts and label[0] not in "=+ " else ""
        print(f"{label[:72]:72s} {value:7.2f} {walls:>8s} {count:>9s} {share:>6s}")


def peers(server: nginx.Server) -> None:
    """The bench's own worker, against the same nginx: CPU per request and rate of each peer, best of 3."""
    import run
    import suite

    env = {k: v for k, v in os.environ.items() if k not in run.SCRUBBED and not k.lower().endswith("_proxy")}
    ctx = run.Context(server, 0, False, 1.0, env)
    by_name = {w.name: w for w in suite.WORKLOADS}
    plan = {
        "seq_get": (suite.BRISK, suite.PYCURL, suite.BARE, suite.BARE_POLL),
        "seq_get_async": (suite.BRISK_ASYNC, suite.AIOHTTP),
    }
    print("\nPeers through bench/workloads/worker.py, same nginx, best of 3 (the worker's CPU, not nginx's)")
    for workload, clients in plan.items():
        results: dict[str, list[dict[str, Any]]] = {c.row: [] for c in clients}
        for _ in range(3):
            for client in clients:
                results[client.row].append(run.run_worker(by_name[workload], client, ctx))
        for row, got in results.items():
            ok = [r for r in got if "error" not in r]
            if not ok:
                print(f"  {workload:14s} {row:13s} failed: {got[0]['error']}")
                continue
            cpu, rate = min(r["cpu_us"] for r in ok), max(r["value"] for r in ok)
            print(f"  {workload:14s} {row:13s} {cpu:6.1f} us CPU/request {rate:9,.0f} req/s")


class Sampler:
    """A CPU-time sampling profiler: ``ITIMER_PROF`` signals come as this process uses CPU time (not while it
    sleeps in recv(); system calls count), and each records the Python stack. Self time goes to the function
    running (C calls included: sendall's CPU shows in ``_write``), cumulative time to every function on the
    stack; the CPU time of the loop is shared out by samples. Unlike cProfile it adds nothing to each call,
    so small functions are not inflated. The kernel fires the timer on its ticks (1-4 ms): run long loops.
    The handler runs at Python's next function call or loop turn, so self time can skid onto a later one.
    """

    def __init__(self) -> None:
        self.own: dict[str, int] = {}
        self.total: dict[str, int] = {}
        self.samples = 0
        self.cpu = 0.0

    def _sample(self, signum: int, frame: Any) -> None:
        self.samples += 1
        seen = set()
        while frame is not None:
            code = frame.f_code
            if code.co_filename != __file__:
                name = f"{code.co_qualname} ({code.co_filename.split('/')[-1]}:{code.co_firstlineno})"
                if not seen:
                    self.own[name] = self.own.get(name, 0) + 1
                if name not in seen:
                    seen.add(name)
                    self.total[name] = self.total.get(name, 0) + 1
            frame = frame.f_back

    def __enter__(self) -> Sampler:
        signal.signal(signal.SIGPROF, self._sample)
        signal.setitimer(signal.ITIMER_PROF, 0.0001, 0.0001)
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)

    def report(self, title: str, requests: int, k: int) -> None:
        """Shares of the samples (steady whatever the machine's load) and us per request (this loop's)."""
        samples = max(self.samples, 1)
        per_request = self.cpu * 1e6 / requests
        print(f"\n{title}: {per_request:.1f} us CPU per request in this loop, {self.samples} samples")
        for label, counts in (("self", self.own), ("cumulative", self.total)):
            print(f"top {k} functions by {label} CPU time: share, us per request")
            for name, count in sorted(counts.items(), key=lambda item: -item[1])[:k]:
                print(f"  {count / samples:6.1%} {count / samples * per_request:6.2f}  {name}")


def top_functions(url: str, k: int, n: int = 50 * N) -> None:
    """The sampler over real loops against nginx: Session.get with busy polling off, AsyncSession.get."""
    session = brisk.Session(limits=brisk.Limits(busy_poll=0))
    for _ in range(500):
        session.get(url).content  # noqa: B018
    with Sampler() as sync:
        for _ in range(n):
            session.get(url).content  # noqa: B018
    sync.report("sync, busy_poll=0", n, k)

    async def loop() -> Sampler:
        async with brisk.AsyncSession() as s:
            for _ in range(500):
                (await s.get(url)).content  # noqa: B018
            with Sampler() as sampler:
                for _ in range(n):
                    (await s.get(url)).content  # noqa: B018
        return sampler

    asyncio.run(loop()).report("async", n, k)


async def _async_ops(url: str, canned: bytes) -> Ops:
    return {**await async_ops(url, canned), **await real_async_ops(url)}


async def _atimed(url: str, canned: bytes) -> dict[str, tuple[float, float]]:
    return await atimed(await _async_ops(url, canned))


async def _acounted(url: str, canned: bytes, n: int) -> list[str]:
    return await acounted(await _async_ops(url, canned), n)


def source() -> str:
    """The commit brisk's source is at, and whether src/ has changes on top of it (figures move with them)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(BENCH.parent), *args], capture_output=True, text=True, check=False
        ).stdout

    commit, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "src")
    return f"{commit.strip() or '?'}{' + changes in src/' if dirty.strip() else ''}"


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--callgrind", action="store_true", help="also count instructions (valgrind)")
    parser.add_argument("--keep", type=Path, help="keep callgrind's dumps in this directory")
    parser.add_argument("--top", type=int, default=0, help="also print the top functions (sampled)")
    parser.add_argument("--no-peers", action="store_true", help="skip the peers (pycurl, aiohttp, ...)")
    parser.add_argument("--count", nargs=3, metavar=("KIND", "URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count:  # the child under callgrind
        kind, url, n = args.count[0], args.count[1], int(args.count[2])
        canned = canned_response(int(url.split(":")[2].split("/")[0]))
        if kind == "sync":
            names = counted({**sync_ops(url, canned), **real_sync_ops(url)}, n)
        else:
            names = asyncio.run(_acounted(url, canned, n))
        print(json.dumps(names))
        return 0
    with nginx.running() as server:
        if server is None:
            return 1
        url = server.url("http", "/small.json")
        canned = canned_response(server.http_port)
        print(
            f"Python {sys.version.split()[0]}, brisk {brisk.__version__} ({source()}), nginx {server.version}"
        )
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
        sync = timed({**sync_ops(url, canned), **real_sync_ops(url)})
        asynchronous = asyncio.run(_atimed(url, canned))
        instr: dict[str, dict[str, float]] = {}
        if args.callgrind:
            keep = args.keep or Path(tempfile.mkdtemp(prefix="profile-layers-"))
            keep.mkdir(parents=True, exist_ok=True)
            instr = callgrind(url, keep)
            if args.keep is None:
                shutil.rmtree(keep)
        cpu = {k: c for k, (c, _) in sync.items()}
        wall = {k: w for k, (_, w) in {**sync, **asynchronous}.items() if k.startswith("real: ")}
        print_table(
            "sync: Session.get(url).content, keep-alive, per request",
            breakdown(cpu),
            wall,
            breakdown(instr["sync"]) if instr else [],
        )
        print_table(
            "async: (await AsyncSession.get(url)).content, one request in flight, per request",
            breakdown({k: c for k, (c, _) in asynchronous.items()}, cpu),
            wall,
            breakdown(instr["async"], instr["sync"]) if instr else [],
        )
        if "pycurl" in instr:
            count = instr["pycurl"]["real: pycurl"]
            print(f"\npycurl's get() against nginx: {count:,.0f} instructions per request")
        if not args.no_peers:
            peers(server)
        if args.top:
            top_functions(url, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
