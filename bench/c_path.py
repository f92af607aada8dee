"""CPU time per sequential keep-alive GET on the C accelerator's path, built up layer by layer in real loops
against nginx (issue 26).

    .venv/bin/python bench/c_path.py            # about a minute
    .venv/bin/python bench/c_path.py --busy-poll 0.0001

``bench/profile_layers.py`` times each layer alone, in memory, where the C accelerator's exchange cannot run
(it makes its system calls on a real socket). This script times the same request in real loops instead,
each row adding one layer to the one above it, so the differences are what each layer costs where it
matters: between two waits on the network, with the CPU's caches cold. The rows:

1. the bare socket loop (``sendall`` and one ``recv``), for reference;
2. ``_speedups.exchange`` alone: the head sent, the answer read and its head parsed, in C;
3. + building the Response from what C returned (Timings, ResponseHead, ByteStream, Response);
4. + reading ``.content``;
5. ``h1.exchange`` + ``.content``: the transport's exchange, timeouts and the pool's release included;
6. + the pool's acquire (lock, PoolState, the liveness ``poll()``);
7. ``SyncTransport.handle_request`` + ``.content``: + serialising the head;
8. the flow over the transport (``send_sync``: the direct path of a call with nothing around its send),
   the request prepared once;
9. ``Session.get(url).content``: + the session layer.

Rows run interleaved, ``--rounds`` times ``--requests`` each; medians of ``time.process_time()``.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import brisk
import nginx
from brisk._core.streams import ByteStream
from brisk._flows.request import send_sync
from brisk._protocol.accelerator import speedups
from brisk._protocol.http11 import ResponseHead
from brisk._transport.base import Timings
from brisk._transport.sync import h1
from brisk._transport.wire import request_head
from brisk.models import Response


def rows(url: str, busy_poll: float) -> dict[str, Callable[[], object]]:
    if speedups is None or getattr(speedups, "exchange", None) is None:
        raise SystemExit("the C accelerator is not in use here (BRISK_NO_EXTENSIONS, or not built)")
    exchange = speedups.exchange
    session = brisk.Session(limits=brisk.Limits(busy_poll=busy_poll))
    session.get(url).content  # noqa: B018  (opens the pooled connection)
    p, settings = session._prepare_plain("GET", url)
    transport = session._transport_for()
    options = settings.options
    u = p._url
    assert u is not None
    key = (u.scheme, u.host, u.effective_port, options.config)
    head = request_head(p, u, options)
    (conn,) = [c for conns in transport._state._idle.values() for c in conns]
    fd = conn.sock.fileno()
    limits = options.limits
    args = (65536, busy_poll, limits.max_head_size, limits.max_header_line, limits.max_header_count)

    host, port = url.split("/")[2].split(":")
    bare_sock = socket.create_connection((host, int(port)))
    bare_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def bare() -> None:
        bare_sock.sendall(head)
        bare_sock.recv(65536)

    def c_alone() -> None:
        exchange(fd, head, *args)

    def c_response() -> Response:
        _, _, _, _, data, found = exchange(fd, head, *args)
        end, status, reason, block, _, close, missing = found
        timings = Timings(time.monotonic())
        response_head = ResponseHead(status, reason, "HTTP/1.1", block, not close, missing)
        return Response._from_transport(
            status, reason, "HTTP/1.1", response_head, ByteStream(data[end:]), p, timings, conn.info
        )

    def h1_exchange() -> None:
        transport._state._idle[key].pop()  # the connection, as _acquire would hand it out
        h1.exchange(transport, key, conn, p, head, options, Timings(time.monotonic())).content  # noqa: B018

    def acquired() -> None:
        timings = Timings(time.monotonic())
        got = transport._acquire(key, u, options, timings)
        h1.exchange(transport, key, got, p, head, options, timings).content  # noqa: B018

    return {
        "bare socket loop": bare,
        "C exchange alone": c_alone,
        "+ Response built": c_response,
        "+ .content": lambda: c_response().content,
        "h1.exchange + .content": h1_exchange,
        "+ pool acquire": acquired,
        "handle_request + .content": lambda: transport.handle_request(p, options).content,
        "flow over the transport": lambda: send_sync(p, settings, transport).content,
        "Session.get(url).content": lambda: session.get(url).content,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy-poll", type=float, default=0.0, help="Limits.busy_poll (default 0: off)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with nginx.running() as server:
        if server is None:
            raise SystemExit("nginx is not available")
        ops = rows(server.url("http", "/small.json"), args.busy_poll)
        times: dict[str, list[float]] = {name: [] for name in ops}
        walls: dict[str, list[float]] = {name: [] for name in ops}
        for _ in range(args.rounds):
            for name, op in ops.items():
                started, wall = time.process_time(), time.perf_counter()
                for _ in range(args.requests):
                    op()
                walls[name].append((time.perf_counter() - wall) / args.requests * 1e6)
                times[name].append((time.process_time() - started) / args.requests * 1e6)
    print(f"Per request, busy_poll={args.busy_poll}, medians of {args.rounds} rounds")
    print(f"  {'':28} {'CPU':>7}     {'step':>7}  {'wall':>7}")
    previous = None
    for name, values in times.items():
        value = statistics.median(values)
        step = "" if previous is None or name == "C exchange alone" else f"{value - previous:+7.1f}"
        print(f"  {name:28} {value:7.1f} µs  {step:>7}  {statistics.median(walls[name]):7.1f} µs")
        previous = value
    return 0


if __name__ == "__main__":
    sys.exit(main())
