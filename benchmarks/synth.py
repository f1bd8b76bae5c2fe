"""Synthetic exercise generation: time and peak memory.

Goals (synthetic exercise issue): 1,000,000 people in a few minutes; 10,000,000 without
running out of memory (generated in chunks; `make bench-large`).

    BENCH_SYNTH_PEOPLE=100000,1000000 python -m benchmarks synth
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from benchmarks.common import DATA, run_isolated, write_result

PEOPLE = [int(s) for s in os.environ.get("BENCH_SYNTH_PEOPLE", "100000,1000000").split(",")]


def one(people: int) -> dict[str, Any]:
    out = DATA / f"synth-{people}"
    shutil.rmtree(out, ignore_errors=True)
    code = f"""
import json, resource, time
from matching.synth.exercise import generate
t = time.perf_counter()
s = generate(people={people}, seed=4242, out={str(out)!r}, fmt="parquet")
print(json.dumps({{"seconds": time.perf_counter() - t,
  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    r = run_isolated(code)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    records = 0
    import duckdb

    for p in out.rglob("*.parquet"):
        records += int(duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{p}')").fetchall()[0][0])
    shutil.rmtree(out, ignore_errors=True)
    return {"people": people, "seconds": round(r["seconds"], 1), "peak_rss_mib": round(r["peak_rss_mib"]),
            "records": records, "output_mib": round(size / 2**20, 1)}


def run_suite() -> dict[str, Any]:
    out = {"sizes": [one(n) for n in PEOPLE]}
    write_result("synth", out)
    return out


def summary(r: dict[str, Any]) -> str:
    return "\n".join(
        f"| synth {s['people']:,} people (Parquet) | {s['seconds']} s | {s['records']:,} records, "
        f"{s['output_mib']} MiB | — | {s['peak_rss_mib']} MiB |"
        for s in r["sizes"]
    )


if __name__ == "__main__":
    res = run_suite()
    print(json.dumps(res, indent=2))
    print(summary(res))
