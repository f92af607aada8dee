"""Memory stays flat: 1 GiB down and up grows a process by less than 50 MB, and 10 000 small requests on
one session leave its object count and resident size where they were.

Each test runs a fresh Python process that warms up (imports, one small transfer of the same kind), reads
its memory (``ru_maxrss``, and ``VmHWM``/``VmRSS`` from /proc), moves 1 GiB through brisk against the test
app, and reads the peaks again: the difference is what the transfer cost. One GiB takes 3-10 s per test on
a 2-core machine; the names say 1gb so they are easy to deselect (``-k "not 1gb"``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(90)

GIB = 1 << 30
LIMIT_MB = 50

CHILD = r"""
import asyncio, json, os, resource, sys, time
import brisk

mode, kind, base_url, path = sys.argv[1:5]
size = int(sys.argv[5])


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def snapshot():
    return {"maxrss": maxrss_mb(), "hwm": status_mb("VmHWM"), "rss": status_mb("VmRSS")}


def transfer_sync(s, n):
    if kind == "download":
        return s.download(f"{base_url}/bytes/{n}", path).total
    if kind == "stream":
        with s.get(f"{base_url}/stream-bytes/{n}?chunk_size=65536", stream=True) as r:
            return sum(len(chunk) for chunk in r.iter_content(65536))
    with open(path if n == size else small, "rb") as f:
        return s.post(f"{base_url}/upload", data=f).json()["bytes"]


async def transfer_async(s, n):
    if kind == "download":
        return (await s.download(f"{base_url}/bytes/{n}", path)).total
    if kind == "stream":
        r = await s.get(f"{base_url}/stream-bytes/{n}?chunk_size=65536", stream=True)
        return sum([len(chunk) async for chunk in r.aiter_content(65536)])
    with open(path if n == size else small, "rb") as f:
        return (await s.post(f"{base_url}/upload", data=f)).json()["bytes"]


def run_sync():
    with brisk.Session(trust_env=False, timeout=60) as s:
        transfer_sync(s, 1 << 20)  # warm-up: every module and buffer of the path is in place
        base = snapshot()
        start = time.perf_counter()
        moved = transfer_sync(s, size)
        return base, moved, time.perf_counter() - start


async def run_async():
    async with brisk.AsyncSession(trust_env=False, timeout=60) as s:
        await transfer_async(s, 1 << 20)
        base = snapshot()
        start = time.perf_counter()
        moved = await transfer_async(s, size)
        return base, moved, time.perf_counter() - start


small = path + ".small"
if kind == "upload":
    with open(path, "wb") as f:
        f.truncate(size)  # sparse: reading it costs no disk
    with open(small, "wb") as f:
        f.truncate(1 << 20)
base, moved, seconds = run_sync() if mode == "sync" else asyncio.run(run_async())
print(json.dumps({"before": base, "after": snapshot(), "bytes": moved, "seconds": seconds}))
"""


def measure(tmp_path: Path, app_server: Any, mode: str, kind: str) -> dict[str, Any]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    target = tmp_path / "transfer.bin"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    try:
        done = subprocess.run(
            [sys.executable, str(script), mode, kind, app_server.url, str(target), str(GIB)],
            capture_output=True,
            text=True,
            timeout=80,
            env=env,
            check=False,
        )
    finally:
        target.unlink(missing_ok=True)  # 1 GiB must not linger in pytest's kept temporary directories
        target.with_name(target.name + ".small").unlink(missing_ok=True)
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    before, after = figures["before"], figures["after"]
    # ru_maxrss: the peak as getrusage reports it. After fork + exec Linux starts it at the forking process's
    # RSS (pytest's), so it can hide growth below that; VmHWM is this process image's own peak, and
    # "VmHWM after - VmRSS before" is the most the transfer added to what was resident when it started.
    figures["growth_maxrss_mb"] = after["maxrss"] - before["maxrss"]
    figures["growth_hwm_mb"] = after["hwm"] - before["hwm"]
    figures["growth_over_rss_mb"] = after["hwm"] - before["rss"]
    print(f"{kind} 1 GiB ({mode}): {figures}")
    return figures


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["download", "stream", "upload"])
def test_transfer_1gb_peak_rss(tmp_path: Path, app_server: Any, mode: str, kind: str) -> None:
    figures = measure(tmp_path, app_server, mode, kind)
    assert figures["bytes"] == GIB
    assert figures["growth_maxrss_mb"] < LIMIT_MB, figures
    assert figures["growth_over_rss_mb"] < LIMIT_MB, figures


MANY_CHILD = r"""
import asyncio, gc, json, socket, sys, threading
import brisk

mode, count = sys.argv[1], int(sys.argv[2])
BODY = b'{"ok": true}'
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
ANSWER = HEAD % len(BODY) + BODY


def serve(listener):
    # A keep-alive server on a real socket that answers every request head with the same small JSON body.
    while True:
        conn, _ = listener.accept()
        with conn:
            pending = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                pending += data
                while b"\r\n\r\n" in pending:
                    _, pending = pending.split(b"\r\n\r\n", 1)
                    conn.sendall(ANSWER)


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise LookupError("VmRSS")


def state():
    gc.collect()
    return {"rss_kib": rss_kib(), "objects": len(gc.get_objects())}


listener = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=serve, args=(listener,), daemon=True).start()
url = f"http://127.0.0.1:{listener.getsockname()[1]}/item?id=7"


def run_sync():
    with brisk.Session(trust_env=False) as s:
        for _ in range(2000):  # warm-up: caches, pools and allocator arenas reach their steady size
            s.get(url).json()
        before = state()
        for _ in range(count):
            assert s.get(url).json() == {"ok": True}
        return before, state()


async def run_async():
    async with brisk.AsyncSession(trust_env=False) as s:
        for _ in range(2000):
            (await s.get(url)).json()
        before = state()
        for _ in range(count):
            assert (await s.get(url)).json() == {"ok": True}
        return before, state()


before, after = run_sync() if mode == "sync" else asyncio.run(run_async())
print(json.dumps({"before": before, "after": after}))
"""


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_ten_thousand_requests_do_not_grow_the_process(tmp_path: Path, mode: str) -> None:
    """Per-request state is released: after a warm-up, 10 000 more requests on one session leave the number
    of live objects and the resident memory where they were (a leak of 100 bytes or one object per request
    would show as 1 MB or 10 000 objects)."""
    script = tmp_path / "many.py"
    script.write_text(MANY_CHILD)
    done = subprocess.run(
        [sys.executable, str(script), mode, "10000"], capture_output=True, text=True, timeout=80, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"10 000 requests ({mode}): {figures}")
    before, after = figures["before"], figures["after"]
    assert after["objects"] - before["objects"] < 200, figures
    assert after["rss_kib"] - before["rss_kib"] < 1024, figures
