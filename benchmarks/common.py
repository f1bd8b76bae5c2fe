"""Shared benchmark plumbing: timing, peak memory, results files and the one row format.

Every suite returns ``{"rows": [row(...), ...], ...details}``. A row is one line of
``benchmarks/results/SUMMARY.md``: wall time (the median where repeated), peak RSS,
comparisons scored per second, comparisons per true match, blocking recall and ratios
against the baselines measured in the same run. ``SUMMARY.md`` is rebuilt from every
``results/<name>.json`` present, so ``make bench-large`` adds its ten-million rows without
removing ``make bench``'s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# BENCH_RESULTS: another folder for the results (the test suite's smoke runs write there).
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).resolve().parent / "results")
DATA = Path(__file__).resolve().parent / "data"

def peak_rss_mib() -> float:
    """This process's peak RSS: its own memory's high-water mark (VmHWM). getrusage's
    ru_maxrss keeps the parent's RSS at the fork across the exec, so a small run started by a
    suite that had grown to 446 MiB reported 446 MiB (its own peak: 176 MiB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)


# Run in a fresh interpreter by run_isolated (from the repository, as `python -m benchmarks`
# is): `done(**figures)` prints them with the child's peak RSS.
CHILD_PRELUDE = """
import json, time, sys
from benchmarks.common import peak_rss_mib
def done(**kw):
    kw["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(kw, default=str))
"""


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def sizes(var: str = "BENCH_SIZES", default: str = "100000") -> list[int]:
    return [int(s) for s in os.environ.get(var, default).split(",") if s.strip()]


def median_time(fn: Callable[[], Any], repeats: int = 3) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def run_isolated(code: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; it must print one JSON line (CHILD_PRELUDE's done)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def median_run(fn: Callable[[], dict[str, Any]], repeats: int) -> tuple[dict[str, Any], list[float]]:
    """Call ``fn`` (an isolated child returning ``seconds``) ``repeats`` times: the median run."""
    return median_runs([fn], repeats)[0]


# A round of runs (one of each) shorter than this is repeated SHORT_REPEATS times at least:
# at three repeats, the ratio of a job's sub-second run to the bare script's swung between
# 0.71x and 1.35x from one suite run to the next, while seven rounds cost a few seconds.
SHORT_ROUND_SECONDS = 5.0
SHORT_REPEATS = 7


def median_runs(fns: list[Callable[[], dict[str, Any]]], repeats: int) -> list[tuple[dict[str, Any], list[float]]]:
    """Each of ``fns`` called ``repeats`` times (``SHORT_REPEATS`` if a round of them takes
    less than ``SHORT_ROUND_SECONDS``), interleaved (a, b, a, b...), so a ratio of their
    medians is not skewed by the machine's load drifting between one's repeats and the
    other's: each one's median run and all its times."""
    results: list[list[dict[str, Any]]] = [[] for _ in fns]
    rounds = 0
    while rounds < repeats:
        for fn, runs in zip(fns, results, strict=True):
            runs.append(fn())
        rounds += 1
        if rounds == 1 and sum(runs_of_one[0]["seconds"] for runs_of_one in results) < SHORT_ROUND_SECONDS:
            repeats = max(repeats, SHORT_REPEATS)
    out = []
    for runs in results:
        runs.sort(key=lambda r: r["seconds"])
        out.append((runs[len(runs) // 2], [round(r["seconds"], 2) for r in runs]))
    return out


def repeats_for(records: int) -> int:
    """Five repeats up to a million records a side, one beyond (``median_runs`` still repeats
    a round shorter than ``SHORT_ROUND_SECONDS`` seven times). A ratio of single runs moves
    by a tenth with the machine's load, and a median of three by as much: at a million people
    spd-to-electoral-register's three runs took 14.6, 17.9 and 19.1 s against the bare
    script's 15.0 s (1.19x), twenty minutes after a run of the suite at 1.08x."""
    return 5 if records <= 1_000_000 else 1


def duckdb_memory_settings(tmp: Path) -> dict[str, Any]:
    """DuckDB config for the benchmark's own queries: spill into ``tmp`` beyond the engine's limit."""
    from matching.ingest.pipeline import default_memory_limit

    tmp.mkdir(parents=True, exist_ok=True)
    return {"temp_directory": str(tmp), "memory_limit": os.environ.get("BENCH_MEMORY_LIMIT") or default_memory_limit()}


def row(
    benchmark: str,
    seconds: float,
    *,
    size: str = "",
    all_seconds: Iterable[float] | None = None,
    peak_rss_mib: float | None = None,
    comparisons: int | None = None,
    scoring_seconds: float | None = None,
    true_matches: int | None = None,
    blocking_recall: float | None = None,
    ratios: dict[str, float] | None = None,
    notes: str = "",
    key: int | None = None,
    order: int = 0,
) -> dict[str, Any]:
    """One summary row. ``comparisons / scoring_seconds`` is comparisons scored per second."""
    per_second = round(comparisons / scoring_seconds) if comparisons and scoring_seconds else None
    per_match = round(comparisons / true_matches, 2) if comparisons is not None and true_matches else None
    return {
        "benchmark": benchmark,
        "size": size,
        "seconds": round(seconds, 3),
        "all_seconds": [round(s, 3) for s in all_seconds] if all_seconds else [round(seconds, 3)],
        "peak_rss_mib": round(peak_rss_mib) if peak_rss_mib is not None else None,
        "comparisons": comparisons,
        "comparisons_per_second": per_second,
        "comparisons_per_true_match": per_match,
        "blocking_recall": blocking_recall,
        "ratios": {k: round(v, 3) for k, v in (ratios or {}).items()},
        "notes": notes,
        "key": key,
        "order": order,
    }


def _fmt_seconds(s: float) -> str:
    if s >= 120:
        return f"{int(s // 60)} min {s % 60:.0f} s"
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def format_row(r: dict[str, Any], measured: str = "") -> str:
    n = len(r.get("all_seconds") or [])
    wall = _fmt_seconds(r["seconds"]) + (f" (median of {n})" if n > 1 else "")
    rss = f"{r['peak_rss_mib'] / 1024:.2f} GiB" if r.get("peak_rss_mib") is not None else "—"

    def num(x: Any, fmt: str = "{:,}") -> str:
        return "—" if x is None else fmt.format(x)

    ratios = "; ".join(f"{v:.3g}x {k}" for k, v in (r.get("ratios") or {}).items()) or "—"
    name = r["benchmark"] + (f", {r['size']}" if r.get("size") else "")
    notes = r.get("notes") or ""
    if measured:
        notes = f"{notes} ({measured})" if notes else f"({measured})"
    return (
        f"| {name} | {wall} | {rss} | {num(r.get('comparisons_per_second'))} | "
        f"{num(r.get('comparisons_per_true_match'), '{:g}')} | {num(r.get('blocking_recall'), '{:g}')} | {ratios} | {notes} |"
    )


TABLE_HEAD = (
    "| benchmark | wall time | peak RSS | comparisons scored/s | comparisons per true match | blocking recall | ratios | notes |\n"
    "|---|---|---|---|---|---|---|---|"
)


def summary_table(order: list[str]) -> str:
    """The SUMMARY.md table: every row of every results file present, suites in ``order``."""
    lines = [TABLE_HEAD]
    for name in order:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data.get("rows")
        for r in rows if isinstance(rows, list) else []:
            lines.append(format_row(r, r.get("measured_at", "")))
    return "\n".join(lines)


def _stamp(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0]
    return [{**r, "measured_at": r.get("measured_at") or f"{now}, load {load:.1f}"} for r in rows]


def run_sizes(name: str, run_size: Callable[[int], tuple[dict[str, Any], list[dict[str, Any]]]], sizes: list[int],
              merge_by: str, **extra: Any) -> dict[str, Any]:
    """A suite measured at several sizes: each size's figures and rows, written as ``name``
    (merged by ``merge_by`` with sizes measured earlier)."""
    out: dict[str, Any] = {**extra, "sizes": [], "rows": []}
    for n in sizes:
        size, rows = run_size(n)
        out["sizes"].append(size)
        out["rows"] += rows
    write_result(name, out, merge_by=merge_by)
    return out


def write_result(name: str, data: dict[str, Any], merge_by: str | None = None) -> Path:
    """Write ``results/<name>.json``. With ``merge_by``, keep earlier ``sizes`` entries (and
    their rows) whose ``merge_by`` value this run did not measure: a ten-million run adds to
    the hundred-thousand and million figures instead of replacing them."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {**data, "rows": _stamp(data.get("rows", []))}
    if merge_by and path.exists():
        old = json.loads(path.read_text(encoding="utf-8"))
        measured = {s[merge_by] for s in data.get("sizes", [])}
        kept = [s for s in old.get("sizes", []) if s.get(merge_by) not in measured]
        kept_keys = {str(s[merge_by]) for s in kept}
        old_rows = old.get("rows") if isinstance(old.get("rows"), list) else []
        kept_rows = [r for r in old_rows if str(r.get("key")) in kept_keys]
        data["sizes"] = sorted(kept + data.get("sizes", []), key=lambda s: s[merge_by])
        data["rows"] = sorted(kept_rows + data["rows"], key=lambda r: (r.get("key") or 0, r.get("order", 0)))
    data = {"name": name, "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def print_ratios(result: dict[str, Any]) -> None:
    rows = result.get("rows")
    for r in rows if isinstance(rows, list) else []:
        for k, v in (r.get("ratios") or {}).items():
            name = r["benchmark"] + (f", {r['size']}" if r.get("size") else "")
            print(f"ratio  {name}: {v:.3g}x {k}")
