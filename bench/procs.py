"""Whole-process measurements: import time, command-line clients, and the curl binary as a reference.

Each returns the same result shape as a worker.py run: {"value": ...} or {"error": "..."}.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envs import PROJECT_PYTHON, ensure
from suite import Client, Workload

BIN = PROJECT_PYTHON.parent  # the project venv's bin/ (brisk's console script lives there)


class ProcError(Exception):
    pass


def _run(cmd: list[str], env: dict[str, str]) -> float:
    """Run `cmd` once; return its wall time in seconds (raises ProcError on a non-zero exit)."""
    # Python processes keep their .pyc files, as on users' machines: without this, an environment that sets
    # PYTHONDONTWRITEBYTECODE=1 would make every run compile the modules changed since the last .pyc.
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    out = subprocess.DEVNULL
    proc = subprocess.run(cmd, stdin=out, stdout=out, stderr=subprocess.PIPE, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines() or [""]
        raise ProcError(f"{Path(cmd[0]).name} exited {proc.returncode}: {lines[-1][:200]}")
    return elapsed


def _python(client: Client) -> str:
    return str(PROJECT_PYTHON if client.env == "project" else ensure(client.env).python)


def import_time(client: Client, runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Median of `python -c "import X"` minus median of `python -c pass`, alternating, same interpreter."""
    python = _python(client)
    _run([python, "-c", f"import {client.adapter}"], env)  # writes .pyc files if missing
    bare, full = [], []
    for _ in range(runs):
        bare.append(_run([python, "-c", "pass"], env))
        full.append(_run([python, "-c", f"import {client.adapter}"], env))
    total, base = statistics.median(full) * 1000, statistics.median(bare) * 1000
    return {"value": total - base, "total_ms": round(total, 1), "python_ms": round(base, 1)}


@dataclass(frozen=True)
class Job:
    """Where and how long: the URL, at most `n` runs, a time box, the environment, the files."""

    url: str
    n: int
    max_s: float
    env: dict[str, str]
    ca: str
    upload_file: str
    bytes_per_op: int


def _command(workload: Workload, client: Client, job: Job) -> list[str]:
    curl = ["curl", "--silent", "--show-error", "--fail", "--cacert", job.ca, "-o", os.devnull]
    if client.adapter == "brisk-cli":
        return [str(BIN / "brisk"), job.url]
    if client.adapter == "httpie":
        return [str(ensure("httpie").path / "bin" / "http"), "--ignore-stdin", "--verify", job.ca, job.url]
    if workload.op == "upload":  # -T streams the file; "Expect:" skips the 100-continue round trip
        return [*curl, "-X", "POST", "-H", "Expect:", "-T", job.upload_file, job.url]
    return [*curl, job.url]


def timed_command(workload: Workload, client: Client, job: Job) -> dict[str, Any]:
    """Run a command n times (at least twice) within the time box: median ms, or MB/s over all runs."""
    cmd = _command(workload, client, job)
    _run(cmd, job.env)  # warm-up: page cache, .pyc files
    times: list[float] = []
    deadline = time.perf_counter() + job.max_s
    while len(times) < job.n and (len(times) < 2 or time.perf_counter() < deadline):
        times.append(_run(cmd, job.env))
    if workload.unit == "ms":
        return {"value": statistics.median(times) * 1000, "count": len(times)}
    return {"value": len(times) * job.bytes_per_op / sum(times) / 1e6, "count": len(times)}


def measure(workload: Workload, client: Client, job: Job) -> dict[str, Any]:
    try:
        if workload.op == "import":
            return import_time(client, job.n, job.env)
        return timed_command(workload, client, job)
    except (ProcError, OSError) as exc:
        return {"error": str(exc)}
