"""WebSocket echo benchmark: brisk against the websockets client and aiohttp's ws_connect, sync and async.

    .venv/bin/python bench/ws_bench.py --repeat 1            # about half a minute
    .venv/bin/python bench/ws_bench.py --repeat 3 --small 5000 --big 50

The echo server is bench/ws_echo_server.py, a lean asyncio echo loop in a process of its own (the websockets
library's own server set the pace at about 8,000 round trips a second, hiding the clients' differences);
every client runs in its own process (aiohttp and websockets in their bench venvs, brisk in the
project venv) with compression off. Two workloads over one connection: round trips of a 32-byte text
message, and of a 1 MiB binary message. Figures: round trips per second (best of the repeats) and the
client process's CPU per round trip; the ratio is brisk's rate over the peer's in the same mode.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import envs

BENCH = Path(__file__).resolve().parent
WORKER = BENCH / "workloads" / "ws_worker.py"


#: (client, mode, venv)
CLIENTS = [
    ("brisk", "sync", "project"),
    ("websockets", "sync", "websockets"),
    ("brisk", "async", "project"),
    ("websockets", "async", "websockets"),
    ("aiohttp", "async", "aiohttp"),
]


def measure(python: Path, spec: dict[str, object], venv: str) -> dict[str, float]:
    env = dict(os.environ)
    if venv == "project":  # this checkout's brisk, whichever the project venv has installed
        env["PYTHONPATH"] = str(BENCH.parent / "src")
    out = subprocess.run(
        [str(python), str(WORKER), json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    lines = out.stdout.strip().splitlines()
    if not lines:
        return {"error": out.stderr[-500:]}  # type: ignore[dict-item]
    result: dict[str, float] = json.loads(lines[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small", type=int, default=3000, help="round trips of the small message")
    parser.add_argument("--big", type=int, default=40, help="round trips of the 1 MiB message")
    parser.add_argument("--max-s", type=float, default=8.0)
    args = parser.parse_args()

    server = subprocess.Popen(
        [envs.env_python("project"), str(BENCH / "ws_echo_server.py")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = f"ws://127.0.0.1:{server.stdout.readline().strip()}"
        workloads = [("text_32b", 32, False, args.small), ("binary_1mib", 1 << 20, True, args.big)]
        rows = []
        for name, size, binary, n in workloads:
            for client, mode, venv in CLIENTS:
                python = envs.env_python(venv)
                spec = {"client": client, "mode": mode, "url": url + "/", "size": size, "binary": binary}
                spec.update(n=n, max_s=args.max_s)
                runs = [measure(python, spec, venv) for _ in range(args.repeat)]
                good = [r for r in runs if "error" not in r]
                best = max(good, key=lambda r: r["msgs_per_s"]) if good else runs[0]
                rows.append((name, client, mode, best))
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(10)
    print(
        f"{'workload':<12} {'client':<11} {'mode':<6} {'round trips/s':>14} {'CPU us/msg':>11} {'brisk x':>8}"
    )
    for name, client, mode, result in rows:
        if "error" in result:
            print(f"{name:<12} {client:<11} {mode:<6} error: {result['error']}")
            continue
        brisk_row = next(r for w, c, m, r in rows if w == name and c == "brisk" and m == mode)
        ratio = brisk_row.get("msgs_per_s", 0) / result["msgs_per_s"] if client != "brisk" else 1.0
        print(
            f"{name:<12} {client:<11} {mode:<6} {result['msgs_per_s']:>14.0f} {result['cpu_us']:>11.1f} "
            f"{ratio:>7.2f}x"
        )


if __name__ == "__main__":
    main()
