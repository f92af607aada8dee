"""Run the fuzz targets one after another for a bounded time each and summarise what happened.

    python fuzz/run.py [--seconds N] [target ...]      (``make fuzz`` runs this; FUZZ_SECONDS sets N)

Each target starts from its committed seeds (``fuzz/corpus/<target>/``) plus the corpus earlier runs grew
(``fuzz/.work/<target>/corpus/``, not committed), and writes its full libFuzzer log next to that corpus. A
crashing input is saved as ``fuzz/crashes/<target>/crash-<sha1>`` (libFuzzer stops the target at its first
crash); rerun it with ``python fuzz/fuzz_<target>.py fuzz/crashes/<target>/crash-<sha1>``.

The summary gives per target the wall time, the executions, the coverage reached (libFuzzer's ``cov``: edges
of instrumented Python code (brisk's); ``ft``: finer features), the corpus
size, the peak memory and the crashes. The exit status is 1 if any target crashed or failed to run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = ("http11", "url", "h2", "decoders", "cookies", "sse", "framing")
# Per-input time limit (a slower input is reported as a hang) and memory limit (the decoders target must
# stay far below it: a bomb that got through would show up here).
LIBFUZZER_FLAGS = ("-timeout=20", "-rss_limit_mb=1536", "-print_final_stats=1")
STAT_RE = re.compile(r"^stat::(\w+):\s*(\d+)", re.MULTILINE)
PROGRESS_RE = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", re.MULTILINE)
ARTIFACT_RE = re.compile(r"Test unit written to (\S+)")


@dataclass
class Result:
    target: str
    seconds: float = 0.0
    executions: int = 0
    coverage: int = 0
    features: int = 0
    corpus: int = 0
    rss_mb: int = 0
    crashes: list[str] = field(default_factory=list)
    returncode: int = 0


def run_target(name: str, seconds: int, python: str) -> Result:
    work = HERE / ".work" / name
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes = HERE / "crashes" / name
    crashes.mkdir(parents=True, exist_ok=True)
    log_path = work / "fuzz.log"
    command = [
        python,
        str(HERE / f"fuzz_{name}.py"),
        f"-max_total_time={seconds}",
        f"-artifact_prefix={crashes}/",
        *LIBFUZZER_FLAGS,
        str(corpus),
        str(HERE / "corpus" / name),
    ]
    print(f"== {name}: fuzzing for {seconds} s (log: {log_path.relative_to(HERE.parent)})", flush=True)
    start = time.monotonic()
    with log_path.open("w") as log:
        completed = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=HERE.parent, check=False
        )
    result = Result(name, seconds=time.monotonic() - start, returncode=completed.returncode)
    output = log_path.read_text(errors="replace")
    stats = dict(STAT_RE.findall(output))
    result.executions = int(stats.get("number_of_executed_units", 0))
    result.rss_mb = int(stats.get("peak_rss_mb", 0))
    progress = PROGRESS_RE.findall(output)
    if progress:
        last = progress[-1]
        result.executions = result.executions or int(last[0])
        result.coverage, result.features, result.corpus = int(last[1]), int(last[2]), int(last[3])
    result.crashes = ARTIFACT_RE.findall(output)
    if result.crashes:
        tail = output[output.rfind("=== Uncaught Python exception") :] if "Uncaught" in output else ""
        print(tail[-3000:] or output[-3000:], flush=True)
    elif completed.returncode != 0:
        print(output[-3000:], flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "60")))
    parser.add_argument(
        "targets", nargs="*", metavar="target", help=f"any of {', '.join(TARGETS)} (default: all)"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed in this Python: run `make fuzz`, which installs it", file=sys.stderr)
        return 2
    results = [run_target(name, args.seconds, sys.executable) for name in args.targets or TARGETS]
    header = ("target", "time (s)", "executions", "exec/s", "cov", "ft", "corpus", "rss MB", "crashes")
    rows = [
        (
            r.target,
            f"{r.seconds:.0f}",
            f"{r.executions:,}",
            f"{r.executions / max(r.seconds, 1e-9):,.0f}",
            str(r.coverage),
            str(r.features),
            str(r.corpus),
            str(r.rss_mb),
            ", ".join(os.path.relpath(c) for c in r.crashes)
            or ("none" if r.returncode == 0 else f"exit {r.returncode}"),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    failed = [r.target for r in results if r.crashes or r.returncode != 0]
    if failed:
        print(f"\nfailed: {', '.join(failed)} (inputs under fuzz/crashes/, logs under fuzz/.work/)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
