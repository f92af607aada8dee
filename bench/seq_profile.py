"""Where the time of one sequential keep-alive GET goes: brisk against the floor of any Python client.

    .venv/bin/python bench/seq_profile.py            # about 1 minute; starts and stops its own nginx

It answers two questions the `seq_get` ratios raise, in one process and one run, against the bench's nginx:

1. **Layers, in wall time and CPU time per request** (rounds alternate, best of the rounds is shown):
   - `bare socket`: fixed request bytes, read the known response length (the bench's bare row);
   - `bare polling`: the same, waiting as brisk waits by default: poll the socket for up to 100 us before
     sleeping in recv() (`Limits.busy_poll`);
   - `minimal client`: the least any HTTP client written in Python must do: build a request head from a
     header list, send, receive, let llhttp check the head, read Content-Length. No pool, no validation, no
     policy, no response object worth the name;
   - `brisk transport`: brisk's pool, serialisation with validation, parsing and Response, without sessions;
   - `brisk Session.get`: everything, as a user calls it (then once more with busy polling off).
2. **Why Python costs more here than a profile of a warm loop says.** brisk's Python work is timed with the
   socket replaced by an in-memory one: once back to back (warm caches), and once right after a round trip
   through a pipe to another process, which makes this core sleep the way it does while nginx answers. The
   difference is the price of reloading brisk's code and data into the CPU caches on every request; a plain
   arithmetic loop of the same length is timed the same way for comparison.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httptools

sys.path.insert(0, str(Path(__file__).resolve().parent))

import brisk
import nginx

ROUNDS = 5
N = 5000


def best_of(body: Callable[[], object], n: int = N) -> tuple[float, float]:
    """(wall, cpu) microseconds per call of ``body``, each the best of ROUNDS rounds."""
    walls, cpus = [], []
    for _ in range(ROUNDS):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            body()
        walls.append((time.perf_counter() - wall) / n * 1e6)
        cpus.append((time.process_time() - cpu) / n * 1e6)
    return min(walls), min(cpus)


class _NoCallbacks:
    """llhttp calls back only for the methods an object has."""


def minimal_client(sock: socket.socket, host: str, path: str, headers: list[tuple[str, str]]) -> bytes:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{lines}\r\n".encode("latin-1"))
    data = sock.recv(65536)
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    end = data.index(b"\r\n\r\n") + 4
    httptools.HttpResponseParser(_NoCallbacks()).feed_data(data[:end])
    lower = data[:end].lower()
    start = lower.index(b"\r\ncontent-length:") + 17
    length = int(lower[start : lower.index(b"\r\n", start)])
    body = data[end:]
    while len(body) < length:
        body += sock.recv(65536)
    return body


def layers(url: str, host: str, port: int) -> None:
    path = "/small.json"
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fixed = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    sock.sendall(fixed)
    size = len(sock.recv(65536))

    def bare() -> None:
        sock.sendall(fixed)
        got = 0
        while got < size:
            got += len(sock.recv(65536))

    poller = select.poll()
    poller.register(sock, select.POLLIN)

    def bare_polling() -> None:  # brisk's way of waiting (Limits.busy_poll): poll up to 100 us, then sleep
        sock.sendall(fixed)
        got = 0
        while got < size:
            give_up = time.monotonic() + 0.0001
            while not poller.poll(0) and time.monotonic() < give_up:
                pass
            got += len(sock.recv(65536))

    session = brisk.Session()
    headers = list(session.headers.items())
    session.get(url).content  # noqa: B018  (opens the pooled connection)
    prepared = session._prepare("GET", url, None, None, None, None, None, None, None)
    options = session._settings(prepared).options
    transport = session._transport_for()
    sleeper = brisk.Session(limits=brisk.Limits(busy_poll=0))
    sleeper.get(url).content  # noqa: B018

    runs: dict[str, Callable[[], object]] = {
        "bare socket": bare,
        "bare polling": bare_polling,
        "minimal client": lambda: minimal_client(sock, f"{host}:{port}", path, headers),
        "brisk transport": lambda: transport.handle_request(prepared, options).content,
        "brisk Session.get": lambda: session.get(url).content,
        "  without busy_poll": lambda: sleeper.get(url).content,
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(3):  # alternate, so that a change in the machine's load hits every row alike
        for name, run in runs.items():
            results[name].append(best_of(run))
    base_wall = min(wall for wall, _ in results["bare socket"])
    print(f"{'per request':22s} {'wall us':>8s} {'cpu us':>8s} {'req/s':>8s} {'vs bare':>8s}")
    for name, found in results.items():
        wall = min(w for w, _ in found)
        cpu = min(c for _, c in found)
        print(f"{name:22s} {wall:8.1f} {cpu:8.1f} {1e6 / wall:8,.0f} {base_wall / wall:7.2f}x")
    session.close()
    sleeper.close()
    sock.close()


def cache_cost(url: str, port: int) -> None:
    """brisk's Python work on warm caches and after this core slept; a plain loop for comparison."""
    session = brisk.Session(limits=brisk.Limits(busy_poll=0))  # nothing to wait for: the socket is in memory
    session.get(url).content  # noqa: B018
    response = socket.create_connection(("127.0.0.1", port))
    response.sendall(b"GET /small.json HTTP/1.1\r\nHost: bench\r\n\r\n")
    canned = response.recv(65536)
    response.close()

    class InMemory(socket.socket):
        def sendall(self, data: object, flags: int = 0) -> None:
            return None

        def recv(self, size: int, flags: int = 0) -> bytes:
            return canned

    transport = session._transport
    idle = [conn for conns in transport._state._idle.values() for conn in conns]  # type: ignore[union-attr]
    (conn,) = idle
    real = conn.sock  # kept open: the pool's liveness check polls its descriptor
    conn.sock = InMemory(socket.AF_INET, socket.SOCK_STREAM)

    child_reads, parent_writes = os.pipe()
    parent_reads, child_writes = os.pipe()
    pid = os.fork()
    if pid == 0:  # the partner: answer each byte, exit at end of file
        os.close(parent_writes)
        while os.read(child_reads, 1):
            os.write(child_writes, b"x")
        os._exit(0)
    os.close(child_reads)
    os.close(child_writes)

    def sleep_and_wake() -> None:
        os.write(parent_writes, b"x")
        os.read(parent_reads, 1)

    def arithmetic() -> int:
        total = 0
        for i in range(300):
            total += i
        return total

    rows: list[tuple[str, Callable[[], object]]] = [
        ("brisk Session.get, socket in memory", lambda: session.get(url).content),
        ("a plain Python loop", arithmetic),
    ]
    _, ping = best_of(sleep_and_wake)
    print(f"\n{'cpu us per call':38s} {'warm':>7s} {'after sleep':>12s} {'ratio':>6s}")
    for name, run in rows:
        _, warm = best_of(run)
        _, both = best_of(lambda run=run: (sleep_and_wake(), run()))  # type: ignore[misc]
        cold = both - ping
        print(f"{name:38s} {warm:7.1f} {cold:12.1f} {cold / warm:5.2f}x")
    os.close(parent_writes)
    os.waitpid(pid, 0)
    os.close(parent_reads)
    conn.sock = real
    session.close()


def main() -> int:
    with nginx.running() as server:
        if server is None:
            return 1
        url = server.url("http", "/small.json")
        print(f"Python {sys.version.split()[0]}, brisk {brisk.__version__}, nginx {server.version}, {url}\n")
        layers(url, "127.0.0.1", server.http_port)
        cache_cost(url, server.http_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
