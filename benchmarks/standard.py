"""Standard jobs at scale on the synthetic exercise, measured as person-link is.

Two jobs: ``hb-to-deceased``, the classic match of benefit claims to death registrations
(tens of thousands of records a side in a million-person exercise), and
``spd-to-electoral-register``, the standard job with the most records (council tax accounts
and electors: about 42,000 x 63,000 in a 100,000-person exercise, 420,000 x 634,000 in a
million-person one, the nearest the exercises come to 100,000 and 1,000,000 records a side).

At each size in ``BENCH_SIZES`` (people in the exercise) it uses the exercise the synth suite
kept in ``benchmarks/data/synth-<people>`` (generating it, untimed, if absent), ingests the
jobs' datasets into a fresh workspace, then times each job's `train` and `run` (median of
five, or seven where short) against a bare Splink script on the same Parquet and model and
DuckDB's plain scan of the inputs. Accuracy, blocking recall and comparisons per true match
come from `matching evaluate`'s own code against the exercise's truth.

    BENCH_SIZES=100000 python -m benchmarks standard
    BENCH_STANDARD_JOBS=hb-to-deceased BENCH_SIZES=100000 python -m benchmarks standard
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import Any

from benchmarks.common import CHILD_PRELUDE, DATA, run_isolated, run_sizes, sizes
from benchmarks.linkage import job_figures, job_rows, size_figures
from benchmarks.synth import exercise

SIZES = sizes()
# BENCH_STANDARD_JOBS chooses others (bench-large keeps to hb-to-deceased: at ten million
# people spd-to-electoral-register links 4.2 million accounts to 6.3 million electors).
JOBS = tuple(os.environ.get("BENCH_STANDARD_JOBS", "hb-to-deceased,spd-to-electoral-register").split(","))


def prepare(people: int) -> tuple[Path, Path]:
    """A fresh workspace holding the exercise's files for the jobs' dataset kinds."""
    from matching.jobs.config import load_job

    kinds = sorted({kind for name in JOBS for kind in load_job(name).kinds})
    out = exercise(people)
    ws = DATA / f"standard-{people}" / "workspace"
    shutil.rmtree(ws.parent, ignore_errors=True)
    code = CHILD_PRELUDE + f"""
from pathlib import Path
from matching.ingest import ingest_file
from matching.ingest.manifest import read_manifest
out = Path({str(out)!r})
t = time.perf_counter()
n = 0
for e in read_manifest(out):
    if e.kind in {kinds!r}:
        f = e.file if Path(e.file).is_absolute() else out / e.file
        ingest_file(e.kind, f, body=e.body, workspace={str(ws)!r}, mapping_file=e.mapping, extract_date=e.extract_date)
        n += 1
done(seconds=time.perf_counter() - t, files=n)
"""
    run_isolated(code)
    return ws, out


def run_size(people: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    ws, out = prepare(people)
    size: dict[str, Any] = {"people": people}
    rows: list[dict[str, Any]] = []
    for i, name in enumerate(JOBS):
        size[name], measured = _job(ws, out, people, name)
        rows += [{**r, "order": r["order"] + 2 * i} for r in measured]  # each job's run, then its train
    return size, rows


def _job(ws: Path, out: Path, people: int, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import duckdb

    from matching.evaluate.truth import evaluate_run
    from matching.jobs.config import load_job

    job = load_job(name)
    left = sorted(glob.glob(f"{ws}/datasets/{job.left.kind}/*/*.parquet"))
    right = sorted(glob.glob(f"{ws}/datasets/{job.right.kind}/*/*.parquet"))
    con = duckdb.connect()
    n_left, n_right = (int(con.execute(f"SELECT count(*) FROM read_parquet({p!r})").fetchall()[0][0]) for p in (left, right))
    con.close()
    f = job_figures(ws, name, left, right, max(n_left, n_right))
    mid = f["run"]
    ev = evaluate_run(Path(mid["run_dir"]), out)
    link, blocking, inc = ev.get("linkage") or {}, ev.get("blocking") or {}, ev["inconsistencies"]
    true_pairs = int(link.get("actual") or 0)
    figures = {
        "left_records": n_left,
        "right_records": n_right,
        **size_figures(f),
        "linkage": link,
        "blocking": {k: v for k, v in blocking.items() if k != "by_rule"},
        "inconsistencies": inc,
    }
    note = (f"{n_left:,} x {n_right:,} records; pairs P {link.get('precision')}, R {link.get('recall')}, F1 {link.get('f1')}; "
            f"inconsistencies F1 {inc.get('f1')}")
    return figures, job_rows(name, f"{people:,} people", people, f, true_pairs, blocking.get("recall"), note)


def run_suite() -> dict[str, Any]:
    return run_sizes("standard", run_size, SIZES, merge_by="people", jobs=list(JOBS))
