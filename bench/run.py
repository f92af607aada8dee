"""brisk's benchmark suite: brisk and its peers, side by side in one run, compared as ratios.

    make bench                                   # everything, 5 repeats (about 10 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick        # a smoke run (about 1 minute)
    .venv/bin/python bench/run.py --workloads seq_get,content_100mb --clients brisk,requests --repeat 3
    .venv/bin/python bench/run.py --from bench/results/latest.json --targets   # re-read a saved run

See bench/README.md for what each workload does and how to read the output.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import signal
import ssl
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import envs
import nginx
import procs
import report
import sink
from suite import BIG, WORKLOADS, Client, Workload

BENCH = Path(__file__).resolve().parent
WORKER = BENCH / "workloads" / "worker.py"
RESULTS = BENCH / "results" / "latest.json"
# Variables that would change what a client does (requests lets REQUESTS_CA_BUNDLE override session.verify;
# a proxy would sit in the middle); workers and commands run without them.
SCRUBBED = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
# Facts about a run shown in the notes column: how concurrency was done, the HTTP version used, the bare
# interpreter's start-up time, and how many connections the client opened (counted by nginx).
NOTES = ("via", "proto", "python_ms", "conns")


@dataclass(frozen=True)
class Context:
    server: nginx.Server | None
    sink_port: int
    quick: bool
    max_s: float
    env: dict[str, str]

    def url(self, w: Workload) -> str:
        if w.server == "sink":
            return f"http://127.0.0.1:{self.sink_port}{w.path}"
        return self.server.url(w.server, w.path) if self.server and w.server else ""


def parse_args() -> argparse.Namespace:
    names = [w.name for w in WORKLOADS]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", help=f"comma-separated subset of: {', '.join(names)}")
    p.add_argument("--clients", help="comma-separated rows (e.g. brisk,requests,aiohttp); ratios need brisk")
    p.add_argument("--repeat", type=int, help="measurements per client, round-robin (default 5, quick 1)")
    p.add_argument("--quick", action="store_true", help="small counts and one repeat: a smoke run")
    p.add_argument("--max-seconds", type=float, help="time box of one timed loop (default 1.0, quick 0.25)")
    p.add_argument("--json", type=Path, default=RESULTS, help=f"where to save results (default {RESULTS})")
    p.add_argument("--targets", action="store_true", help="also print the project's targets, met or not")
    p.add_argument("--from", dest="from_file", type=Path, help="print the report of a saved results file")
    args = p.parse_args()
    unknown = set((args.workloads or "").split(",")) - set(names) - {""}
    if unknown:
        p.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    args.repeat = args.repeat or (1 if args.quick else 5)
    args.max_seconds = args.max_seconds or (0.25 if args.quick else 1.0)
    return args


def selected(args: argparse.Namespace) -> list[Workload]:
    wanted = set(args.workloads.split(",")) if args.workloads else None
    rows = set(args.clients.split(",")) if args.clients else None
    out = []
    for w in WORKLOADS:
        if wanted is not None and w.name not in wanted:
            continue
        clients = tuple(c for c in w.clients if rows is None or c.row in rows)
        if clients:
            out.append(dataclasses.replace(w, clients=clients))
    return out


def expected_body(w: Workload) -> int:
    if w.op == "upload":
        return len(b"ok")
    if w.path == "/post":
        return len(b'{"ok":true}')
    return BIG if w.path == "/100mb.bin" else (nginx.WWW / "small.json").stat().st_size


def run_worker(w: Workload, client: Client, ctx: Context) -> dict[str, Any]:
    spec = {
        "mode": client.mode,
        "adapter": client.adapter,
        "loop": w.loop,
        "op": w.op,
        "url": ctx.url(w),
        "unit": w.unit,
        "n": w.quick_n if ctx.quick else w.n,
        "max_s": ctx.max_s,
        "warmup": min(w.warmup, 10) if ctx.quick else w.warmup,
        "concurrency": w.concurrency,
        "http2": w.http2,
        "ca": str(ctx.server.ca) if ctx.server else "",
        "chunk": 65536,
        "file": str(nginx.WWW / "100mb.bin"),
        "bytes_per_op": BIG,
        "expect": expected_body(w),
    }
    python = str(envs.env_python(client.env))
    counting = ctx.server is not None and w.server in ("http", "https", "h2")
    before = ctx.server.accepted() if counting and ctx.server else None
    try:
        proc = subprocess.run(
            [python, str(WORKER), json.dumps(spec)],
            capture_output=True,
            text=True,
            env=ctx.env,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 120 s"}
    lines = proc.stdout.strip().splitlines()
    try:
        result = dict(json.loads(lines[-1]))
        if before is not None and ctx.server and "error" not in result:
            conns = (ctx.server.accepted() or 0) - before - 1  # connections the client opened (ours is 1)
            requests = result["count"] + spec["warmup"]
            result["conns"] = f"{conns / requests:.2f}/request" if w.loop == "cold" else conns
        return result
    except (IndexError, ValueError):
        err = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}, no output"])[-1]
        return {"error": err[:300]}


def measure(w: Workload, client: Client, ctx: Context) -> dict[str, Any]:
    if client.mode != "proc":
        return run_worker(w, client, ctx)
    job = procs.Job(
        url=ctx.url(w),
        n=w.quick_n if ctx.quick else w.n,
        max_s=ctx.max_s * 2,
        env=ctx.env,
        ca=str(ctx.server.ca) if ctx.server else "",
        upload_file=str(nginx.WWW / "100mb.bin"),
        bytes_per_op=BIG,
    )
    return procs.measure(w, client, job)


def run_workload(w: Workload, repeat: int, ctx: Context) -> dict[str, Any]:
    """Round-robin: every client once per repeat, in turn, so drift in the machine's load hits all alike."""
    rows: dict[str, dict[str, Any]] = {
        c.row: {"samples": [], "errors": [], "extra": {}, "cpu_us": []} for c in w.clients
    }
    for i in range(repeat):
        for client in w.clients:
            row = rows[client.row]
            if row["errors"] and not row["samples"]:
                continue  # failed on its first try: the same error again would only cost time
            result = measure(w, client, ctx)
            if "error" in result:
                row["errors"].append(result["error"])
                shown = f"failed: {result['error']}"
            else:
                row["samples"].append(result["value"])
                if "cpu_us" in result:  # the worker's own CPU time per operation (not the server's)
                    row["cpu_us"].append(result["cpu_us"])
                row["extra"].update({k: v for k, v in result.items() if k in NOTES})
                shown = f"{report.fmt_value(result['value'], w.unit)} {w.unit}"
            line = f"  [{i + 1}/{repeat}] {w.name:<22} {client.row:<12} {shown}"
            print(line[:160], file=sys.stderr, flush=True)
    return {
        "name": w.name,
        "what": w.what,
        "unit": w.unit,
        "higher_is_better": w.higher_is_better,
        "rows": rows,
    }


def machine_facts(server: nginx.Server | None, workloads: list[Workload]) -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "?",
    )  # fmt: skip
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True, check=False).stdout.split()
    versions = {"brisk": importlib.metadata.version("brisk")}
    for env in sorted({c.env for w in workloads for c in w.clients} - {"project"}):
        versions.update(envs.versions(env))
    return {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({ssl.OPENSSL_VERSION})",
        "nginx": server.version if server else "not available",
        "curl": " ".join(curl[:2]) if curl else "not available",
        "versions": versions,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    workloads = selected(args)
    for env in sorted({c.env for w in workloads for c in w.clients} - {"project"}):
        envs.ensure(env)
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.lower().endswith("_proxy")}
    started = time.perf_counter()
    now = datetime.datetime.now().isoformat(timespec="seconds")
    out: dict[str, Any] = {"created": now, "argv": sys.argv[1:]}
    with ExitStack() as stack:
        needs_server = any(w.server for w in workloads)
        server = stack.enter_context(nginx.running()) if needs_server else None
        sink_port = stack.enter_context(sink.running()) if any(w.server == "sink" for w in workloads) else 0
        out["facts"] = machine_facts(server, workloads)
        out["config"] = {"repeat": args.repeat, "quick": args.quick, "max_seconds": args.max_seconds}
        print(report.facts(out), end="\n\n", flush=True)
        ctx = Context(server, sink_port, args.quick, args.max_seconds, env)
        out["workloads"] = []
        for w in workloads:
            if w.server and w.server != "sink" and server is None:
                print(f"{w.name}: skipped, nginx is not available\n", flush=True)
                continue
            out["workloads"].append(run_workload(w, args.repeat, ctx))
            print(report.table(out["workloads"][-1]), end="\n\n", flush=True)
    out["facts"]["load average after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out["facts"]["duration"] = f"{time.perf_counter() - started:.0f} s"
    return out


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds the with-blocks: nginx and sink stop
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C works even when started with `&`
    if args.from_file:
        results = json.loads(args.from_file.read_text())
        print(report.facts(results), end="\n\n")
        for w in results["workloads"]:
            print(report.table(w), end="\n\n")
    else:
        results = run(args)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))
    print(report.summary(results))
    if args.targets:
        print("\n" + report.targets(results))
    if not args.from_file:
        print(f"\n{results['facts']['duration']}; results saved to {args.json} (chart: bench/chart.py)")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted: nginx and the upload sink were stopped", file=sys.stderr)
        sys.exit(130)
