"""Synthetic exercise generation: time and peak memory.

Goals (synthetic exercise issue): 1,000,000 people in a few minutes; 10,000,000 without
running out of memory (generated in chunks; `make bench-large`).

    BENCH_SYNTH_PEOPLE=100000,1000000 python -m benchmarks synth

The exercise is kept in ``benchmarks/data/synth-<people>``: the standard-job suite links it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks.common import DATA, row, run_isolated, sizes, write_result

PEOPLE = sizes("BENCH_SYNTH_PEOPLE", os.environ.get("BENCH_SIZES", "100000,1000000"))
SEED = 4242


def _generate(people: int, out: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    code = f"""
import json, time
from benchmarks.common import peak_rss_mib
from matching.synth.exercise import generate
t = time.perf_counter()
s = generate(people={people}, seed={SEED}, out={str(out)!r}, fmt="parquet")
print(json.dumps({{"seconds": time.perf_counter() - t,
  "peak_rss_mib": peak_rss_mib()}}))
"""
    return run_isolated(code)


def exercise(people: int) -> Path:
    """The kept exercise of ``people`` (generated, untimed, when absent)."""
    out = DATA / f"synth-{people}"
    if not (out / "manifest.toml").exists():
        _generate(people, out)
    return out


def one(people: int) -> dict[str, Any]:
    out = DATA / f"synth-{people}"
    r = _generate(people, out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    import duckdb

    con = duckdb.connect()
    files = [str(p) for p in out.rglob("*.parquet") if "truth" not in p.parts]
    records = int(con.execute(f"SELECT count(*) FROM read_parquet({files!r}, union_by_name = true)").fetchall()[0][0]) if files else 0
    con.close()
    return {"people": people, "seconds": round(r["seconds"], 1), "peak_rss_mib": round(r["peak_rss_mib"]),
            "records": records, "output_mib": round(size / 2**20, 1)}


def run_suite() -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": [one(n) for n in PEOPLE]}
    out["rows"] = [
        row("synthetic exercise (Parquet)", s["seconds"], size=f"{s['people']:,} people", key=s["people"],
            peak_rss_mib=s["peak_rss_mib"],
            notes=f"{s['records']:,} records, {s['output_mib']} MiB, {round(s['records'] / s['seconds']):,} records/s")
        for s in out["sizes"]
    ]
    write_result("synth", out, merge_by="people")
    return out
