"""person-link at scale: train and run against a bare Splink script on the same Parquet and model.

Goals (match engine issue): at 1,000,000 x 1,000,000 on 2 cores, `run` <= 2 minutes and
<= 4 GiB peak RSS, within 1.15x of the bare Splink script; `train` <= 90 s. Also prints
comparisons scored per second, comparisons per true match and blocking recall.

    python -m benchmarks linkage            # 100,000 a side (set BENCH_SIZES=1000000 for 1M)

The helpers here (train, run, bare Splink, the plain DuckDB scan) take any job, so the
standard-job suite (benchmarks/standard.py) measures hb-to-deceased the same way.

Memory at ten million a side (`make bench-large`): the engine's train and run open DuckDB
through matching.ingest.pipeline.connect, which spills into ``<workspace>/tmp`` beyond its
memory limit (75% of RAM, or ``BENCH_MEMORY_LIMIT``). The bare Splink script and this
file's own checks do the same in the benchmark workspace; the bare script scores in chunks
when ``BENCH_PREDICT_CHUNKS`` (``left,right``) is set, which bench-large sets.
"""

from __future__ import annotations

import glob
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    CHILD_PRELUDE,
    DATA,
    duckdb_memory_settings,
    median_run,
    median_runs,
    repeats_for,
    row,
    run_isolated,
    run_sizes,
    sizes,
)
from benchmarks.people import make_person_files

SIZES = sizes()
JOB = "person-link"


def _memory_limit() -> str | None:
    return os.environ.get("BENCH_MEMORY_LIMIT") or None


def _workspace(n: int) -> Path:
    return DATA / f"linkage-{n}" / "workspace"


def person_files(ws: Path) -> tuple[list[str], list[str]]:
    return (sorted(glob.glob(f"{ws}/datasets/person/left-body/*.parquet")),
            sorted(glob.glob(f"{ws}/datasets/person/right-body/*.parquet")))


def prepare(n: int) -> tuple[Path, int]:
    folder = DATA / f"linkage-{n}"
    left, right, shared = make_person_files(folder / "files", n)
    ws = _workspace(n)
    ready = ws / ".ingested"  # written once both files are in: an interrupted ingest starts again
    if not ready.exists():
        shutil.rmtree(ws, ignore_errors=True)
        code = CHILD_PRELUDE + f"""
from matching.ingest import ingest_file
t = time.perf_counter()
ingest_file("person", {str(left)!r}, body="left-body", workspace={str(ws)!r}, memory_limit={_memory_limit()!r})
ingest_file("person", {str(right)!r}, body="right-body", workspace={str(ws)!r}, memory_limit={_memory_limit()!r})
done(seconds=time.perf_counter() - t)
"""
        run_isolated(code)
        ready.write_text("")
    return ws, shared


def train(ws: Path, job: str = JOB) -> dict[str, Any]:
    code = CHILD_PRELUDE + f"""
from matching.jobs.train import train_job
t = time.perf_counter()
r = train_job({job!r}, workspace={str(ws)!r}, memory_limit={_memory_limit()!r})
done(seconds=time.perf_counter() - t, converged=[s.converged for s in r.em_sessions])
"""
    return run_isolated(code)


def run(ws: Path, job: str = JOB) -> dict[str, Any]:
    code = CHILD_PRELUDE + f"""
from matching.jobs.run import run_job
import splink.blocking_analysis  # imported before the clock starts, as the bare script imports Splink
t = time.perf_counter()
r = run_job({job!r}, workspace={str(ws)!r}, memory_limit={_memory_limit()!r})
done(seconds=time.perf_counter() - t, pairs=r.counts["pairs"], comparisons=r.counts["comparisons"],
     counts=r.counts, run_dir=str(r.path), timings=r.timings)
"""
    return run_isolated(code)


def bare_splink(ws: Path, job: str, left: list[str], right: list[str], threshold: float) -> dict[str, Any]:
    """What an analyst would write by hand: Splink on the same Parquet with the same model,
    at the job's threshold, writing the scored pairs (as the engine does)."""
    chunks = os.environ.get("BENCH_PREDICT_CHUNKS")
    mem = duckdb_memory_settings(ws / "tmp" / "bench-bare")
    projections = _projections(job, left, right)
    code = CHILD_PRELUDE + f"""
import duckdb
from splink import DuckDBAPI, Linker
ws = {str(ws)!r}
t = time.perf_counter()
con = duckdb.connect(config={mem!r})
for side, paths, cols in (("l", {left!r}, {projections[0]!r}), ("r", {right!r}, {projections[1]!r})):
    con.execute(f"CREATE TABLE {{side}} AS SELECT body || '/' || record_id AS unique_id, {{cols}} FROM read_parquet({{paths!r}}, union_by_name = true)")
db = DuckDBAPI(connection=con)
linker = Linker([db.register("l", dataset_display_name="left"), db.register("r", dataset_display_name="right")],
                f"{{ws}}/models/{job}.json")
kwargs = dict(threshold_match_probability={threshold!r}, warning_mode="never")
chunks = {chunks!r}
if chunks:
    kwargs["num_chunks_left"], kwargs["num_chunks_right"] = (int(x) for x in chunks.split(","))
df = linker.inference.predict(**kwargs)
# Any real script keeps its results: write the scored pairs, as the engine does.
con.execute(f"COPY {{df.physical_name}} TO '{{ws}}/bare-pairs.parquet' (FORMAT parquet, COMPRESSION zstd)")
pairs = con.execute(f"SELECT count(*) FROM {{df.physical_name}}").fetchall()[0][0]
done(seconds=time.perf_counter() - t, pairs=pairs)
"""
    return run_isolated(code)


def _projections(job: str, left: list[str], right: list[str]) -> tuple[str, str]:
    """Both sides' SELECT lists over the columns the model compares, a side's missing ones
    NULL (typed as on the other side): what a hand-written script must do before Splink
    links two tables of different kinds, and what the engine does."""
    import duckdb

    from matching.jobs.config import load_job
    from matching.linkage.settings import columns_used

    needed = sorted(columns_used(load_job(job)) | {"body"})
    con = duckdb.connect()
    types = [{n: t for n, t, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet({p!r}, union_by_name = true)").fetchall()}
             for p in (left, right)]
    con.close()

    def cols(mine: dict[str, str], other: dict[str, str]) -> str:
        return ", ".join(f'"{c}"' if c in mine else f'CAST(NULL AS {other[c]}) AS "{c}"' for c in needed)

    return cols(types[0], types[1]), cols(types[1], types[0])


def plain_scan(paths: list[str], repeats: int = 3) -> tuple[float, list[float]]:
    """The floor: DuckDB reading every column of both inputs once (count and a distinct)."""
    import duckdb

    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        con = duckdb.connect()
        con.execute(
            f"SELECT count(*), count(DISTINCT surname), max(length(CAST(COLUMNS(*) AS VARCHAR))) "
            f"FROM read_parquet({paths!r}, union_by_name = true)"
        ).fetchall()
        con.close()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def accuracy(run_dir: str, ws: Path, true_pairs: int) -> dict[str, Any]:
    """Pair precision, recall and F1 (L123 = R123) and blocking recall."""
    import duckdb

    from matching.evaluate.truth import blocking_sql
    from matching.jobs.config import load_job

    con = duckdb.connect(config=duckdb_memory_settings(ws / "tmp" / "bench-accuracy"))
    row_ = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE substr(left_record_id, 2) = substr(right_record_id, 2))
            FROM read_parquet('{run_dir}/pairs.parquet')"""
    ).fetchall()[0]
    found, correct = int(row_[0]), int(row_[1])
    job = load_job(JOB)
    left, right = person_files(ws)
    # Views: at ten million a side the join reads only the columns the rules name.
    con.execute(f"CREATE VIEW l AS SELECT * FROM read_parquet({left!r})")
    con.execute(f"CREATE VIEW r AS SELECT * FROM read_parquet({right!r})")
    rules = blocking_sql(con, job, "l", "r")
    blocked = con.execute(
        "SELECT count(*) FROM l JOIN r ON substr(l.record_id, 2) = substr(r.record_id, 2) WHERE "
        + " OR ".join(f"coalesce(({x}), false)" for x in rules)
    ).fetchall()[0][0]
    con.close()
    precision = correct / found if found else None
    recall = correct / true_pairs
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "pairs_found": found,
        "precision": round(precision, 4) if precision is not None else None,
        "recall": round(recall, 4),
        "f1": round(f1, 4) if f1 is not None else None,
        "blocking_recall": round(blocked / true_pairs, 4),
    }


def job_figures(ws: Path, job: str, left: list[str], right: list[str], records: int, do_train: bool = True) -> dict[str, Any]:
    """Train once, run (median of repeats where short), bare Splink and the plain scan, side by side."""
    from matching.jobs.config import load_job

    tr = train(ws, job) if do_train else None
    reps = repeats_for(records)
    bare: dict[str, Any] | None = None
    bare_all: list[float] = []
    if os.environ.get("BENCH_SKIP_BARE"):  # at ten million a side the bare script alone takes half an hour
        mid, run_all = median_run(lambda: run(ws, job), reps)
    else:
        threshold = load_job(job).threshold
        (mid, run_all), (bare, bare_all) = median_runs(
            [lambda: run(ws, job), lambda: bare_splink(ws, job, left, right, threshold)], reps
        )
    scan, scan_all = plain_scan(left + right)
    return {
        "train": tr,
        "run": mid,
        "run_seconds_all": run_all,
        "bare": bare,
        "bare_seconds_all": bare_all,
        "plain_scan_seconds": round(scan, 3),
        "plain_scan_seconds_all": [round(t, 3) for t in scan_all],
    }


def scoring_seconds(timings: dict[str, float]) -> float:
    """The run's seconds finding and scoring its blocked pairs (its ``scoring`` timing), not
    the whole prediction stage, which also builds the tables, guards memory and writes chunks.
    A Spark run times only the whole stage."""
    return timings.get("scoring") or timings["predict"]


def job_rows(job: str, size: str, key: int, f: dict[str, Any], true_matches: int, blocking_recall: float | None,
             accuracy_note: str) -> list[dict[str, Any]]:
    """The shared rows for a job's run and train."""
    mid, bare = f["run"], f["bare"]
    ratios = {"DuckDB scan": mid["seconds"] / f["plain_scan_seconds"]}
    bare_note = "bare Splink not run"
    if bare:
        ratios = {"bare Splink": mid["seconds"] / bare["seconds"]} | ratios
        bare_note = f"bare Splink {bare['seconds']:.2f} s"
    chunks = mid["counts"].get("scoring_chunks") or [1, 1]
    chunk_note = f"; scored in {chunks[0]} x {chunks[1]} chunks" if chunks != [1, 1] else ""
    rows = [row(
        f"{job} run", mid["seconds"], size=size, key=key, order=0,
        all_seconds=f["run_seconds_all"], peak_rss_mib=mid["peak_rss_mib"],
        comparisons=mid["comparisons"], scoring_seconds=scoring_seconds(mid["timings"]),
        true_matches=true_matches, blocking_recall=blocking_recall,
        ratios=ratios,
        notes=f"{accuracy_note}; {bare_note}, scan {f['plain_scan_seconds']:.2f} s{chunk_note}",
    )]
    if f["train"]:
        tr = f["train"]
        converged = tr.get("converged") or []
        rows.append(row(
            f"{job} train", tr["seconds"], size=size, key=key, order=1, peak_rss_mib=tr["peak_rss_mib"],
            notes=f"EM sessions converged: {sum(converged)} of {len(converged)}",
        ))
    return rows


def size_figures(f: dict[str, Any]) -> dict[str, Any]:
    """A size's figures from ``job_figures``, as both job suites record them."""
    mid, bare = f["run"], f["bare"]
    return {
        "train_seconds": round(f["train"]["seconds"], 2),
        "train_peak_rss_mib": round(f["train"]["peak_rss_mib"]),
        "run_seconds_median": round(mid["seconds"], 2),
        "run_seconds_all": f["run_seconds_all"],
        "run_peak_rss_mib": round(mid["peak_rss_mib"]),
        "run_stage_seconds": mid["timings"],
        "bare_splink_seconds_median": round(bare["seconds"], 2) if bare else None,
        "bare_splink_seconds_all": f["bare_seconds_all"],
        "ratio_to_bare_splink": round(mid["seconds"] / bare["seconds"], 3) if bare else None,
        "scoring_chunks": mid["counts"].get("scoring_chunks"),
        "plain_scan_seconds": f["plain_scan_seconds"],
        "comparisons": mid["comparisons"],
    }


def run_size(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ws, true_pairs = prepare(n)
    left, right = person_files(ws)
    f = job_figures(ws, JOB, left, right, n)
    mid = f["run"]
    acc = accuracy(mid["run_dir"], ws, true_pairs)
    comparisons = mid["comparisons"]
    size = {
        "records_per_side": n,
        "true_pairs": true_pairs,
        **size_figures(f),
        "ratio_to_plain_scan": round(mid["seconds"] / f["plain_scan_seconds"], 1),
        "comparisons_per_second": round(comparisons / scoring_seconds(mid["timings"])),
        "comparisons_per_true_match": round(comparisons / true_pairs, 2),
        **acc,
        "goals": {"run_seconds_at_1m": 120, "run_peak_rss_mib_at_1m": 4096, "ratio_to_bare_splink": 1.15, "train_seconds_at_1m": 90},
    }
    note = f"pairs P {acc['precision']}, R {acc['recall']}, F1 {acc['f1']}"
    rows = job_rows(JOB, f"{n:,} a side", n, f, true_pairs, acc["blocking_recall"], note)
    return size, rows


def run_suite() -> dict[str, Any]:
    return run_sizes("linkage", run_size, SIZES, merge_by="records_per_side")
