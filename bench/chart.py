"""Draw brisk's ratio to each peer, per workload, from the suite's JSON.

    .venv/bin/python bench/chart.py bench/results/latest.json ratios.png

matplotlib lives in a bench venv (bench/.envs/chart), not in the project's dependencies: when it cannot be
imported here, the script re-runs itself with that venv's interpreter (creating the venv on first use).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
from suite import TARGETS


def bars(results: dict[str, Any]) -> list[tuple[str, str, float, float | None]]:
    """(workload, peer, ratio, target ratio or None) for every pair with a figure on both sides."""
    out = []
    for w in results["workloads"]:
        wanted = {t.peer: t.ratio for t in TARGETS.get(w["name"], ()) if t.peer}
        for peer in w["rows"]:
            r = report.ratio(w, peer)
            if r is not None:
                out.append((w["name"], peer, r, wanted.get(peer)))
    return out


def draw(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = bars(results)
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.28 * max(len(data), 4)))
    if not data:
        ax.text(0.5, 0.5, "no ratios yet: brisk has no figures in this run", ha="center", va="center")
        ax.set_axis_off()
    else:
        labels = [f"{w}  vs {peer}" for w, peer, _, _ in data]
        ratios = [r for _, _, r, _ in data]
        y = list(range(len(data)))[::-1]
        colors = ["#2a9d5c" if r >= 1 else "#d1495b" for r in ratios]
        ax.barh(y, [r - 1 for r in ratios], left=1, color=colors, height=0.7)  # bars grow from 1x
        for yi, r in zip(y, ratios, strict=True):
            ax.text(r * (1.04 if r >= 1 else 0.96), yi, f"{r:.2f}x", va="center", fontsize=8,
                    ha="left" if r >= 1 else "right")  # fmt: skip
        targets = [(yi, t) for yi, (_, _, _, t) in zip(y, data, strict=True) if t]
        if targets:
            ty, tv = zip(*targets, strict=True)
            ax.scatter(tv, ty, marker="|", s=200, color="black", zorder=3, label="target")
            ax.legend(loc="lower right", fontsize=8)
        ax.axvline(1.0, color="grey", linewidth=1)
        for i in range(1, len(data)):  # a thin line between workloads
            if data[i][0] != data[i - 1][0]:
                ax.axhline(y[i] + 0.5, color="lightgrey", linewidth=0.8)
        ax.set_ylim(-0.6, len(data) - 0.4)
        ax.set_xscale("log")
        shown = ratios + [t for _, _, _, t in data if t]
        low, high = min(*shown, 1.0) / 1.6, max(*shown, 1.0) * 1.6
        ax.set_xlim(low, high)
        ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if low <= t <= high]
        ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
        ax.minorticks_off()
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xlabel("brisk vs peer (> 1: brisk is better; log scale)")
    created = results.get("created", "")
    ax.set_title(f"brisk benchmark ratios  {created}  ({results['facts'].get('cpu', '')})", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py results.json out.png")
    if importlib.util.find_spec("matplotlib") is None:
        import envs

        python = str(envs.ensure("chart").python)
        os.execv(python, [python, *sys.argv])
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))


if __name__ == "__main__":
    main()
