"""Accuracy of a run against the truth of a synthetic exercise.

- inconsistencies: precision, recall and F1 against ``truth/inconsistencies.csv``;
- linkage: pair-level precision and recall against ``truth/entities.csv`` (records of the
  same person, or at the same property for property jobs);
- blocking recall: the share of true pairs that at least one blocking rule produces;
- a threshold table: the same figures at stricter match probabilities.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from matching.errors import ConfigError, UserError
from matching.ingest.standardise.sql import literal
from matching.ingest.submissions import sha256_file
from matching.jobs.config import JobConfig, load_job
from matching.linkage.inputs import records_sql
from matching.rules.check import Columns, check_expression, to_sql
from matching.workspace import Workspace, load_run_manifest, read_run_manifest

THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)


@dataclass
class Metrics:
    true_positives: int
    predicted: int
    actual: int

    @property
    def precision(self) -> float | None:
        # With no truth at all for a job there is nothing to be precise about.
        return self.true_positives / self.predicted if self.predicted and self.actual else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.actual if self.actual else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "true_positives": self.true_positives, "predicted": self.predicted, "actual": self.actual,
            "precision": _round(self.precision), "recall": _round(self.recall), "f1": _round(self.f1),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _check_truth(truth: Path) -> None:
    for name in ("inconsistencies.csv", "entities.csv"):
        if not (truth / "truth" / name).exists() and not (truth / name).exists():
            raise UserError(f"{truth}: no truth/{name}.\n  Fix: point --truth at a folder made by 'matching synth'.")


BUNDLE_FIX = "the run bundle is damaged: run the job again (matching run JOB)."
TRUTH_FIX = "point --truth at the folder of the exercise the run was made from, as matching synth wrote it."


@contextmanager
def _reading(path: Path | str, fix: str) -> Iterator[None]:
    """A file DuckDB cannot read (damaged, truncated, missing, not the expected columns) is a
    message naming it and what to do."""
    try:
        yield
    except (duckdb.InterruptException, duckdb.OutOfMemoryException):
        raise  # not the file's fault: the CLI says what happened
    except duckdb.Error as exc:
        raise UserError(f"{path}: cannot be read ({str(exc).splitlines()[0]}).\n  Fix: {fix}") from None


def _sha256_of(path: Path) -> str:
    """The file's SHA-256, read once per process for each version of it: evaluate --latest
    checks every job's inputs, and most jobs share an exercise's files."""
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256_cached(path: str, _size: int, _mtime_ns: int) -> str:
    return sha256_file(Path(path))


def _same_exercise(truth: Path, inputs: list[dict[str, Any]], linked: str, fix: str = TRUTH_FIX) -> None:
    """Refuse an exercise folder none of whose files is one of the ``inputs`` (a run manifest's,
    or a session's submissions: body, file name and SHA-256), which are ``linked`` ("run X
    linked"): another exercise's truth (with record ids of the same pattern) would give every
    figure as nought, and look like a result. An exercise folder (with the manifest.toml
    ingest-dir reads) holding none of them by name is another exercise's too; a folder of
    truth alone (copied without the files) is not checked."""
    checked = present = 0
    for item in inputs:
        name, sha = item.get("file_name"), item.get("sha256")
        candidate = truth / str(item["body"]) / str(name)
        present += bool(name) and candidate.is_file()
        if not name or not sha or not candidate.is_file() or candidate.suffix.lower() == ".xlsx":
            continue  # (an XLSX written again from the same seed differs in its bytes)
        checked += 1
        if _sha256_of(candidate) == sha:
            return
    if checked:
        raise UserError(
            f"{truth}: none of its files is one {linked} (their SHA-256 differ), so its truth is another exercise's.\n"
            f"  Fix: {fix}"
        )
    if not present and (truth / "manifest.toml").is_file():  # an exercise's folder, listing its files
        named = ", ".join(f"{i['body']}/{i['file_name']}" for i in inputs[:3] if i.get("file_name"))
        raise UserError(
            f"{truth}: holds none of the files {linked} ({named}), so its truth is another exercise's.\n  Fix: {fix}"
        )


def _truth_file(truth: Path, name: str) -> str:
    path = truth / "truth" / name
    return str(path if path.exists() else truth / name)


def latest_runs(ws: Workspace) -> list[Path]:
    """The newest finished run of each job."""
    newest: dict[str, Path] = {}
    for run in ws.run_folders():
        manifest = read_run_manifest(run)
        if manifest is not None:  # a damaged bundle is no job's latest run (matching runs names it)
            newest[manifest["job"]] = run
    return [newest[j] for j in sorted(newest)]


def _pair_key(a_body: str, a_id: str, b_body: str, b_id: str, symmetric: bool) -> str:
    if symmetric and (b_body, b_id) < (a_body, a_id):
        a_body, a_id, b_body, b_id = b_body, b_id, a_body, a_id
    return f"{a_body}\x1f{a_id}\x1f{b_body}\x1f{b_id}"


def evaluate_run(run_dir: str | os.PathLike[str], truth: str | os.PathLike[str]) -> dict[str, Any]:
    """Every accuracy figure for one run bundle (its folder) against a synthetic exercise's
    folder of truth."""
    run_dir, truth = Path(run_dir), Path(truth)
    _check_truth(truth)
    manifest = load_run_manifest(run_dir)
    config = manifest.get("config")
    path = Path(config["path"]) if isinstance(config, dict) and isinstance(config.get("path"), str) else None
    try:
        job = load_job(str(path) if path and path.exists() else manifest["job"])
    except ConfigError as exc:
        was = f" (its config was {path}, no longer there)" if path and not path.exists() else ""
        raise UserError(
            f"Run {manifest.get('run_id', run_dir.name)}: its job {manifest['job']!r}{was} cannot be loaded: "
            f"{str(exc).splitlines()[0]}\n  Fix: put the job's config back, or evaluate the other runs by id."
        ) from None
    # The run's blocking recall is worked out again from the job's rules: from today's config,
    # which must be the one the run used.
    ran_with = config.get("sha256") if isinstance(config, dict) else None
    changed = bool(ran_with) and ran_with != job.config_hash
    symmetric = job.left.kind == job.right.kind
    con = duckdb.connect()
    con.create_function("pair_key", lambda a, b, c, d: _pair_key(a, b, c, d, symmetric), return_type="VARCHAR")
    for name_in_sql, name in (("pairs", "pairs.parquet"), ("found", "inconsistencies.parquet")):
        with _reading(run_dir / name, BUNDLE_FIX):
            con.execute(f"CREATE TABLE {name_in_sql} AS SELECT *, pair_key(left_body, left_record_id, right_body, right_record_id) AS k "
                        f"FROM read_parquet({literal(str(run_dir / name))})")
    truth_incs = _truth_file(truth, "inconsistencies.csv")
    # A run for one body (run --body) is judged by the inconsistencies that body owns.
    owner = {"left": "left_body = ?", "right": "right_body = ?", "each": "? IN (left_body, right_body)"}.get(
        job.owning_body, f"{literal(job.owning_body)} = ?")
    body = manifest.get("body")
    with _reading(truth_incs, TRUTH_FIX):
        con.execute(
            f"""CREATE TABLE truth_inc AS SELECT DISTINCT pair_key(left_body, CAST(left_record_id AS VARCHAR), right_body, CAST(right_record_id AS VARCHAR)) AS k
                FROM read_csv({literal(truth_incs)}, all_varchar = true) WHERE job = ? {"AND " + owner if body else ""}""",
            [job.job, body] if body else [job.job],
        )
    _same_exercise(truth, manifest["inputs"], f"run {run_dir.name} linked")
    threshold = float(manifest["threshold"])
    table = []
    for t in sorted({threshold, *[x for x in THRESHOLDS if x >= threshold]}):
        inc = _metrics(con, "found", "truth_inc", t)
        table.append({"threshold": t, **{f"inconsistencies_{k}": v for k, v in inc.to_json().items() if k in ("precision", "recall", "f1", "predicted")}})
    result: dict[str, Any] = {
        "run_id": manifest["run_id"],
        "job": job.job,
        "threshold": threshold,
        "inconsistencies": _metrics(con, "found", "truth_inc", threshold).to_json(),
        "threshold_table": table,
    }
    aside = run_dir / "set_aside.parquet"
    if aside.exists():
        # What rule.not_if_also_linked cost: the true inconsistencies it kept from the queue.
        with _reading(aside, BUNDLE_FIX):
            n, true = con.execute(
            f"""SELECT count(*), count(t.k) FROM (SELECT pair_key(left_body, left_record_id, right_body, right_record_id) AS k
                FROM read_parquet({literal(str(aside))})) a LEFT JOIN truth_inc t USING (k)"""
        ).fetchall()[0]
        result["set_aside"] = {"set_aside": int(n), "true_inconsistencies": int(true)}
    if job.subject in ("person", "property"):
        true_pairs = _true_pairs(con, job, manifest, truth)
        result["linkage"] = _metrics(con, "pairs", "true_pairs", threshold).to_json()
        if changed:
            result["blocking"] = {"true_pairs": true_pairs, "recall": None}
            result["note"] = (f"{job.job}: its config ({job.path}) has changed since run {manifest['run_id']}: blocking "
                              "recall would describe today's rules, not the run's, so it is not given. Run the job "
                              "again to measure it.")
        else:
            result["blocking"] = _blocking_recall(con, job, run_dir, manifest, true_pairs)
    return result


def _metrics(con: duckdb.DuckDBPyConnection, predicted: str, actual: str, threshold: float) -> Metrics:
    row = con.execute(
        f"""
        WITH p AS (SELECT DISTINCT k FROM {predicted} WHERE match_probability >= ?)
        SELECT (SELECT count(*) FROM p JOIN {actual} USING (k)), (SELECT count(*) FROM p), (SELECT count(*) FROM {actual})
        """,
        [threshold],
    ).fetchall()[0]
    return Metrics(int(row[0]), int(row[1]), int(row[2]))


def _true_pairs(con: duckdb.DuckDBPyConnection, job: JobConfig, manifest: dict[str, Any], truth: Path) -> int:
    """Pairs of input records that truly describe the same person (or property)."""
    entity = "property_id" if job.subject == "property" else "person_id"
    subs = {(i["side"], i["kind"], i["body"]) for i in manifest["inputs"]}
    left_bodies = sorted({b for s, _k, b in subs if s == "left"})
    right_bodies = sorted({b for s, _k, b in subs if s == "right"})
    entities = _truth_file(truth, "entities.csv")
    with _reading(entities, TRUTH_FIX):
        con.execute(
            f"""CREATE TABLE entities AS SELECT kind, body, record_id, {entity} AS entity
                FROM read_csv({literal(entities)}, all_varchar = true)
                WHERE {entity} IS NOT NULL AND {entity} <> ''"""
        )
    body_rule = "l.body <> r.body" if job.across_bodies else ("l.body = r.body AND l.record_id <> r.record_id" if job.within_body else "true")
    con.execute(
        f"""
        CREATE TABLE true_pairs AS
        SELECT pair_key(l.body, l.record_id, r.body, r.record_id) AS k,
               l.body AS lb, l.record_id AS lid, r.body AS rb, r.record_id AS rid
        FROM entities l JOIN entities r USING (entity)
        WHERE l.kind = ? AND r.kind = ? AND list_contains(?, l.body) AND list_contains(?, r.body) AND {body_rule}
        QUALIFY row_number() OVER (PARTITION BY k ORDER BY lb, lid) = 1
        """,
        [job.left.kind, job.right.kind, left_bodies, right_bodies],
    )
    return int(con.execute("SELECT count(*) FROM true_pairs").fetchall()[0][0])


def blocking_sql(con: duckdb.DuckDBPyConnection, job: JobConfig, left: str, right: str) -> list[str]:
    """The job's blocking rules as checked SQL over tables ``left`` (as l) and ``right`` (as r)."""

    def names(table: str) -> frozenset[str]:
        return frozenset(c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall())

    cols = Columns(left=names(left), right=names(right), pair=frozenset())
    return [to_sql(check_expression(r, cols, where=f"{job.path}: linkage.blocking_rules")) for r in job.blocking_rules]


def _blocking_recall(con: duckdb.DuckDBPyConnection, job: JobConfig, run_dir: Path, manifest: dict[str, Any], n_true: int) -> dict[str, Any]:
    """Share of true pairs that at least one of the job's blocking rules would produce."""
    paths = {side: [i for i in manifest["inputs"] if i["side"] == side] for side in ("left", "right")}
    # The inputs are in the run's own workspace, wherever it has been copied or moved to.
    ws = Workspace(run_dir.parent.parent)
    looked_up = [i for i in manifest["inputs"] if i["side"] == "lookup"]

    def files_of(inputs: list[dict[str, Any]]) -> list[str]:
        files = [str(ws.dataset_path(i["kind"], i["body"], i["submission_id"])) for i in inputs]
        missing = [f for f in files if not Path(f).exists()]
        if missing:
            raise UserError(f"The run's input {missing[0]} is no longer in the workspace (purged?): blocking recall needs it.")
        return files

    for side, inputs in paths.items():
        files = files_of(inputs)
        lookups = [(lookup, files_of([i for i in looked_up if i["prefix"] == lookup.prefix and i["kind"] == lookup.kind]))
                   for lookup in job.lookups if lookup.applies_to(side)]
        with _reading(files[0] if len(files) == 1 and not lookups else ws.datasets, "ingest the run's inputs again, then run the job again."):
            con.execute(f"CREATE TABLE {side}_recs AS {records_sql(con, files, lookups)}")
    rules = blocking_sql(con, job, "left_recs", "right_recs")
    any_rule = " OR ".join(f"coalesce(({r}), false)" for r in rules) or "false"
    per_rule = ", ".join(f"count(*) FILTER (WHERE coalesce(({r}), false))" for r in rules)
    row = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE {any_rule}), {per_rule}
        FROM true_pairs t JOIN left_recs l ON l.body = t.lb AND l.record_id = t.lid
                          JOIN right_recs r ON r.body = t.rb AND r.record_id = t.rid
        """
    ).fetchall()[0]
    blocked = int(row[0])
    return {
        "true_pairs": n_true,
        "blocked": blocked,
        "recall": _round(blocked / n_true) if n_true else None,
        "by_rule": {rule: int(n) for rule, n in zip(job.blocking_rules, row[1:], strict=True)},
    }
