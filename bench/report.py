"""Turn the suite's results (the JSON that run.py writes) into tables, ratios and the target check.

Ratios read "brisk vs peer" and are oriented so that > 1 means brisk is better: brisk / peer for rates
(req/s, MB/s), peer / brisk for times (ms). Medians over the repeats are compared; min and max show spread.
Standard library only: chart.py imports it from another venv.
"""

from __future__ import annotations

import statistics
from typing import Any

from suite import TARGETS, WORKLOADS, Target

BRISK = "brisk"


def stats(row: dict[str, Any]) -> tuple[float, float, float] | None:
    samples = row["samples"]
    if not samples:
        return None
    return statistics.median(samples), min(samples), max(samples)


def ratio(workload: dict[str, Any], peer: str, mine_row: str = BRISK, cpu: bool = False) -> float | None:
    """brisk (or brisk's row `mine_row`) vs `peer` in this workload (> 1: brisk is better), None when either
    has no figure; with `cpu`, of the CPU time per operation (peer / brisk).

    brisk's other rows (brisk-async) are not peers: they have no ratio.
    """
    rows = workload["rows"]
    if mine_row not in rows or peer not in rows or peer.startswith(BRISK):
        return None
    if cpu:
        spent, theirs_spent = rows[mine_row].get("cpu_us"), rows[peer].get("cpu_us")
        if not spent or not theirs_spent:
            return None
        return statistics.median(theirs_spent) / statistics.median(spent)
    mine, theirs = stats(rows[mine_row]), stats(rows[peer])
    if mine is None or theirs is None or mine[0] <= 0 or theirs[0] <= 0:
        return None
    return mine[0] / theirs[0] if workload["higher_is_better"] else theirs[0] / mine[0]


def fmt_value(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def failure(name: str, row: dict[str, Any]) -> str:
    error = row["errors"][0] if row["errors"] else "not run"
    return f"n/a ({name}: {error})"


def table(workload: dict[str, Any]) -> str:
    unit = workload["unit"]
    better = "higher" if workload["higher_is_better"] else "lower"
    lines = [
        f"{workload['name']} — {workload['what']} [{unit}, {better} is better]",
        f"  {'client':<18}{'median':>11}{'min':>11}{'max':>11}{'brisk vs':>10}  notes",
    ]
    for name, row in workload["rows"].items():
        figures = stats(row)
        if figures is None:
            lines.append(f"  {name:<18}{failure(name, row)}"[:200])
            continue
        median, low, high = (fmt_value(v, unit) for v in figures)
        r = ratio(workload, name)
        notes = [f"{k}={v}" for k, v in row.get("extra", {}).items()]
        if row.get("cpu_us"):  # older result files have no CPU figures
            notes.insert(0, f"cpu {statistics.median(row['cpu_us']):,.0f} us/op")
        if row["errors"]:
            notes.append(f"{len(row['errors'])} failed runs: {row['errors'][0][:80]}")
        ratio_s = f"{r:.2f}x" if r is not None else "—"
        lines.append(f"  {name:<18}{median:>11}{low:>11}{high:>11}{ratio_s:>10}  {', '.join(notes)}".rstrip())
    return "\n".join(lines)


def summary(results: dict[str, Any]) -> str:
    """One line per workload: brisk's ratio to each peer."""
    lines = ["Summary — brisk vs each peer (median ratio; > 1 means brisk is better)"]
    for w in results["workloads"]:
        if BRISK not in w["rows"]:
            continue
        if stats(w["rows"][BRISK]) is None:
            lines.append(f"  {w['name']:<24}{failure(BRISK, w['rows'][BRISK])}"[:160])
            continue
        parts = []
        for peer in w["rows"]:
            r = ratio(w, peer)
            if r is not None:
                parts.append(f"{peer} {r:.2f}x")
        lines.append(f"  {w['name']:<24}{'  '.join(parts)}")
    return "\n".join(lines)


def check_target(workload: dict[str, Any], target: Target) -> tuple[str, bool | None]:
    """(brisk's figure for this target, met?) — met is None when there is nothing to judge."""
    if target.peer is None:
        figures = stats(workload["rows"].get(target.row, {"samples": []}))
        if figures is None:
            return "n/a", None
        return f"{fmt_value(figures[0], workload['unit'])} {workload['unit']}", figures[0] <= target.limit
    r = ratio(workload, target.peer, target.row, target.cpu)
    if r is None:
        return "n/a", None
    return f"{r:.2f}x", r >= target.ratio


def targets(results: dict[str, Any]) -> str:
    lines = ["Targets"]
    by_name = {w["name"]: w for w in results["workloads"]}
    for name, wanted in TARGETS.items():
        workload = by_name.get(name)
        for target in wanted:
            if workload is None:
                unit = next(w.unit for w in WORKLOADS if w.name == name)
                lines.append(f"  {name:<18}{target.describe(unit):<40}{'not run':>12}")
                continue
            got, met = check_target(workload, target)
            verdict = {True: "met", False: "NOT met", None: "unknown (no brisk figure)"}[met]
            lines.append(f"  {name:<18}{target.describe(workload['unit']):<40}{got:>12}  {verdict}")
    return "\n".join(lines)


def facts(results: dict[str, Any]) -> str:
    f = results["facts"]
    lines = ["Machine and versions"]
    for key, value in f.items():
        shown = ", ".join(f"{k} {v}" for k, v in value.items()) if isinstance(value, dict) else value
        lines.append(f"  {key:<14}{shown}")
    return "\n".join(lines)
