"""Cost against size: person-link `run` and `train`, log-log, from results/linkage.json.

Left: wall time against records a side; middle: comparisons scored against records a side;
right: run time against comparisons scored. Each has a slope-1 guide (linear growth): cost
should grow close to linearly with comparisons, whatever the blocking makes of the records.
Every size in linkage.json is drawn, so the ten-million point appears once `make
bench-large` has written it.

    python -m benchmarks plot             # benchmarks/results/cost_vs_size.png
    python -m benchmarks plot --readme    # ... and docs/bench/cost_vs_size.png (the README's)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from benchmarks.common import RESULTS

README_PNG = Path(__file__).resolve().parents[1] / "docs" / "bench" / "cost_vs_size.png"
PNG = RESULTS / "cost_vs_size.png"


def plot(readme: bool = False) -> Path | None:
    path = RESULTS / "linkage.json"
    if not path.exists():
        print("plot: no results/linkage.json yet (run the linkage suite first)")
        return None
    sizes = sorted(json.loads(path.read_text(encoding="utf-8"))["sizes"], key=lambda s: s["records_per_side"])
    sizes = [s for s in sizes if "comparisons" in s]
    if not sizes:
        return None
    try:
        import matplotlib
    except ImportError:
        print("plot: matplotlib is not installed, so no plot was drawn (the results are written).\n"
              "  Fix: pip install '.[bench]', then python -m benchmarks plot")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [s["records_per_side"] for s in sizes]
    run = [s["run_seconds_median"] for s in sizes]
    train = [s["train_seconds"] for s in sizes]
    comps = [s["comparisons"] for s in sizes]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4.4), dpi=100)
    ax1.plot(n, run, "o-", label="person-link run")
    ax1.plot(n, train, "s--", label="person-link train")
    ax1.plot(n, [run[0] * x / n[0] for x in n], ":", color="grey", label="linear in records (from smallest run)")
    for x, y in zip(n, run, strict=True):
        ax1.annotate(f"{y:.0f} s" if y >= 10 else f"{y:.1f} s", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax1.set(xscale="log", yscale="log", xlabel="records a side", ylabel="wall time (s)", title="Wall time")
    ax2.plot(n, comps, "o-", color="tab:green", label="comparisons scored")
    ax2.plot(n, [comps[0] * x / n[0] for x in n], ":", color="grey", label="linear in records")
    ax2.set(xscale="log", yscale="log", xlabel="records a side", ylabel="comparisons", title="Comparisons")
    # Scoring time against comparisons: fixed costs dominate small runs, so the guide starts
    # from the largest run and is drawn back to the smaller ones.
    stages = [s["run_stage_seconds"] for s in sizes]
    scoring = [t.get("scoring") or t.get("predict") or s["run_seconds_median"] for t, s in zip(stages, sizes, strict=True)]
    ax3.plot(comps, run, "o-", label="person-link run")
    ax3.plot(comps, scoring, "^-", label="blocking and scoring within the run")
    ax3.plot(comps, [scoring[-1] * c / comps[-1] for c in comps], ":", color="grey", label="linear in comparisons (from largest run)")
    for x, y in zip(comps, run, strict=True):
        ax3.annotate(f"{y:.0f} s" if y >= 10 else f"{y:.1f} s", (x, y), textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax3.set(xscale="log", yscale="log", xlabel="comparisons scored", ylabel="wall time (s)", title="Cost against comparisons")
    from matplotlib.ticker import FuncFormatter

    def compact(v: float, _pos: int) -> str:
        for size, unit in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
            if v >= size:
                return f"{v / size:g}{unit}"
        return f"{v:g}"

    plain = FuncFormatter(compact)
    for ax in (ax1, ax2, ax3):
        ax.xaxis.set_major_formatter(plain)
        ax.yaxis.set_major_formatter(plain)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("person-link cost against size (2 cores, 24 GiB)", fontsize=11)
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(PNG, metadata={"Software": None})
    plt.close(fig)
    print(f"plot: {PNG}")
    if readme:
        README_PNG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PNG, README_PNG)
        print(f"plot: {README_PNG}")
    return PNG


if __name__ == "__main__":
    plot(readme="--readme" in sys.argv[1:])
