"""person-link at scale: train and run against a bare Splink script on the same Parquet and model.

Goals (match engine issue): at 1,000,000 x 1,000,000 on 2 cores, `run` <= 2 minutes and
<= 4 GiB peak RSS, within 1.15x of the bare Splink script; `train` <= 90 s. Also prints
comparisons scored per second, comparisons per true match and blocking recall.

    python -m benchmarks linkage            # 100,000 a side (set BENCH_SIZES=1000000 for 1M)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks.common import DATA, run_isolated, write_result
from benchmarks.people import make_person_files

SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "100000").split(",")]

_CHILD_PRELUDE = """
import json, resource, time, sys
def done(**kw):
    kw["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(kw))
"""


def _workspace(n: int) -> Path:
    return DATA / f"linkage-{n}" / "workspace"


def prepare(n: int) -> tuple[Path, int]:
    folder = DATA / f"linkage-{n}"
    left, right, shared = make_person_files(folder / "files", n)
    ws = _workspace(n)
    if not (ws / "submissions").exists():
        shutil.rmtree(ws, ignore_errors=True)
        code = _CHILD_PRELUDE + f"""
from matching.ingest import ingest_file
t = time.perf_counter()
ingest_file("person", {str(left)!r}, body="left-body", workspace={str(ws)!r})
ingest_file("person", {str(right)!r}, body="right-body", workspace={str(ws)!r})
done(seconds=time.perf_counter() - t)
"""
        run_isolated(code)
    return ws, shared


def train(ws: Path) -> dict[str, Any]:
    code = _CHILD_PRELUDE + f"""
from matching.jobs.train import train_job
t = time.perf_counter()
r = train_job("person-link", workspace={str(ws)!r})
done(seconds=time.perf_counter() - t, converged=[s.converged for s in r.em_sessions])
"""
    return run_isolated(code)


def run(ws: Path) -> dict[str, Any]:
    code = _CHILD_PRELUDE + f"""
from matching.jobs.run import run_job
t = time.perf_counter()
r = run_job("person-link", workspace={str(ws)!r})
done(seconds=time.perf_counter() - t, pairs=r.counts["pairs"], run_dir=str(r.path), timings=r.timings)
"""
    return run_isolated(code)


def bare_splink(ws: Path) -> dict[str, Any]:
    """What an analyst would write by hand: Splink on the same Parquet with the same model."""
    code = _CHILD_PRELUDE + f"""
import glob, duckdb
from splink import DuckDBAPI, Linker
ws = {str(ws)!r}
t = time.perf_counter()
con = duckdb.connect()
for side, body in (("l", "left-body"), ("r", "right-body")):
    path = glob.glob(f"{{ws}}/datasets/person/{{body}}/*.parquet")[0]
    con.execute(f"CREATE TABLE {{side}} AS SELECT body || '/' || record_id AS unique_id, * FROM read_parquet('{{path}}')")
db = DuckDBAPI(connection=con)
linker = Linker([db.register("l", dataset_display_name="left"), db.register("r", dataset_display_name="right")],
                f"{{ws}}/models/person-link.json")
df = linker.inference.predict(threshold_match_probability=0.95, warning_mode="never")
# Any real script keeps its results: write the scored pairs, as the engine does.
con.execute(f"COPY {{df.physical_name}} TO '{{ws}}/bare-pairs.parquet' (FORMAT parquet, COMPRESSION zstd)")
pairs = con.execute(f"SELECT count(*) FROM {{df.physical_name}}").fetchall()[0][0]
done(seconds=time.perf_counter() - t, pairs=pairs)
"""
    return run_isolated(code)


def plain_scan(ws: Path) -> float:
    import time

    import duckdb

    t = time.perf_counter()
    duckdb.connect().execute(f"SELECT count(*), count(DISTINCT surname) FROM read_parquet('{ws}/datasets/person/*/*.parquet')").fetchall()
    return time.perf_counter() - t


def accuracy(run_dir: str, ws: Path, true_pairs: int) -> dict[str, Any]:
    """Pair precision and recall (L123 = R123), blocking recall and comparisons per true match."""
    import duckdb

    from matching.jobs.config import load_job
    from matching.rules.check import Columns, check_expression, to_sql

    con = duckdb.connect()
    row = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE substr(left_record_id, 2) = substr(right_record_id, 2))
            FROM read_parquet('{run_dir}/pairs.parquet')"""
    ).fetchall()[0]
    found, correct = int(row[0]), int(row[1])
    job = load_job("person-link")
    con.execute(f"CREATE TABLE l AS SELECT * FROM read_parquet('{ws}/datasets/person/left-body/*.parquet')")
    con.execute(f"CREATE TABLE r AS SELECT * FROM read_parquet('{ws}/datasets/person/right-body/*.parquet')")
    cols = Columns(frozenset(c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE l)").fetchall()),
                   frozenset(c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE r)").fetchall()), frozenset())
    rules = [to_sql(check_expression(x, cols, where="blocking")) for x in job.blocking_rules]
    blocked = con.execute(
        "SELECT count(*) FROM l JOIN r ON substr(l.record_id, 2) = substr(r.record_id, 2) WHERE "
        + " OR ".join(f"coalesce(({x}), false)" for x in rules)
    ).fetchall()[0][0]
    # Comparisons blocking generates: each rule's pairs not already generated by an earlier rule.
    total = 0
    for i, rule in enumerate(rules):
        earlier = " OR ".join(f"coalesce(({x}), false)" for x in rules[:i]) or "false"
        total += con.execute(f"SELECT count(*) FROM l JOIN r ON ({rule}) WHERE NOT ({earlier})").fetchall()[0][0]
    return {
        "pairs_found": found,
        "precision": round(correct / found, 4) if found else None,
        "recall": round(correct / true_pairs, 4),
        "blocking_recall": round(blocked / true_pairs, 4),
        "comparisons": total,
        "comparisons_per_true_match": round(total / true_pairs, 1),
    }


def run_size(n: int) -> dict[str, Any]:
    ws, true_pairs = prepare(n)
    tr = train(ws)
    runs = sorted((run(ws) for _ in range(3 if n <= 100_000 else 1)), key=lambda r: r["seconds"])
    mid = runs[len(runs) // 2]
    bares = sorted((bare_splink(ws) for _ in range(3 if n <= 100_000 else 1)), key=lambda r: r["seconds"])
    bare = bares[len(bares) // 2]
    acc = accuracy(mid["run_dir"], ws, true_pairs)
    scan = plain_scan(ws)
    return {
        "records_per_side": n,
        "true_pairs": true_pairs,
        "train_seconds": round(tr["seconds"], 2),
        "train_peak_rss_mib": round(tr["peak_rss_mib"]),
        "run_seconds_median": round(mid["seconds"], 2),
        "run_seconds_all": [round(r["seconds"], 2) for r in runs],
        "run_peak_rss_mib": round(mid["peak_rss_mib"]),
        "run_stage_seconds": mid["timings"],
        "bare_splink_seconds_median": round(bare["seconds"], 2),
        "ratio_to_bare_splink": round(mid["seconds"] / bare["seconds"], 3),
        "plain_scan_seconds": round(scan, 3),
        "ratio_to_plain_scan": round(mid["seconds"] / scan, 1),
        "comparisons_per_second": round(acc["comparisons"] / mid["timings"]["predict"]),
        **acc,
        "goals": {"run_seconds_at_1m": 120, "run_peak_rss_mib_at_1m": 4096, "ratio_to_bare_splink": 1.15, "train_seconds_at_1m": 90},
    }


def run_suite() -> dict[str, Any]:
    results = [run_size(n) for n in SIZES]
    out = {"sizes": results}
    write_result("linkage", out)
    return out


def summary(r: dict[str, Any]) -> str:
    lines = []
    for s in r["sizes"]:
        lines.append(
            f"| person-link run {s['records_per_side']:,} a side | {s['run_seconds_median']} s | "
            f"{s['comparisons_per_second']:,} comparisons/s; recall {s['recall']}, precision {s['precision']}, blocking recall {s['blocking_recall']}, "
            f"{s['comparisons_per_true_match']} comparisons per true match | {s['ratio_to_bare_splink']}x bare Splink "
            f"({s['bare_splink_seconds_median']} s); train {s['train_seconds']} s | {s['run_peak_rss_mib']} MiB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    res = run_suite()
    print(json.dumps(res, indent=2))
    print(summary(res))
