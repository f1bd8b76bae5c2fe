"""Running a job end to end, atomically: link, apply the rule, explain, prioritise, write the bundle.

The bundle ``workspace/runs/<run-id>/`` holds ``pairs.parquet``, ``inconsistencies.parquet``
and ``manifest.json``. It is written under ``runs/.partial-<run-id>/`` and renamed into
place when complete, so a run killed at any moment leaves nothing that looks finished.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from matching.errors import NotAnOwnerError, UserError
from matching.ingest.pipeline import check_memory_limit, connect
from matching.ingest.readers import count_rows
from matching.ingest.standardise.sql import ident, literal
from matching.ingest.submissions import Submission, check_body, sha256_file
from matching.jobs.config import JobConfig, load_job
from matching.linkage.inputs import (
    JobInputs,
    damaged_inputs_named,
    load_records,
    lookup_notes,
    select_inputs,
    stale_ingest_notes,
    unreadable,
)
from matching.linkage.recipe import counted
from matching.rules.check import referenced_columns
from matching.rules.compile import CompiledJob, check_types, pounds_sql
from matching.specs import DatasetSpec, configs_dir
from matching.workspace import OWNER_FILE, Workspace, claim, signals_held, write_json_atomic

Progress = Callable[[str], None]
BACKENDS = ("duckdb", "spark")
# Each side's identity in the bundle, in column order: carried through scoring (CARRIED_COLUMNS).
PAIR_IDENTITY = ("kind", "body", "submission_id", "record_id")


@dataclass
class RunResult:
    run_id: str
    job: str
    path: Path
    counts: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the officer should know (stale ingests)
    review: bool = True  # False: an analysts' link (person-link), whose pairs are not inconsistencies

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "job": self.job, "path": str(self.path), "counts": self.counts, "notes": self.notes,
                "review": self.review}


def model_path(ws: Workspace, job: str) -> Path:
    """The workspace's trained model if there is one, else the model shipped in configs/models."""
    for path in (ws.models / f"{job}.json", configs_dir() / "models" / f"{job}.json"):
        if path.exists():
            return path
    raise UserError(
        f"Job '{job}' has no trained model (looked in {ws.models} and {configs_dir() / 'models'}).\n"
        f"  Fix: matching train {job}"
    )


def _mask_sql(col: str, ftype: str) -> str:
    """Matching-only values as reviewers see them: all but the last characters hidden."""
    keep = {"ni_number": 3, "account_number": 4, "sort_code": 2}.get(ftype, 2)
    return (
        f"CASE WHEN {col} IS NULL THEN NULL ELSE repeat('•', greatest(length(CAST({col} AS VARCHAR)) - {keep}, 0)) "
        f"|| right(CAST({col} AS VARCHAR), {keep}) END"
    )


def _display_sql(alias: str, spec: DatasetSpec) -> str:
    """A JSON object of the record's fields as a reviewer may see them, in spec order: money
    in pounds ("£1,234.56", never pence a reader might take for pounds), matching-only
    values masked."""
    parts = []
    for f in spec.fields:
        col = f"{alias}.{ident(f.name)}"
        if f.matching_only:
            value = _mask_sql(col, f.type)
        elif f.type == "money_pence":
            value = pounds_sql(col)
        else:
            value = f"CAST({col} AS VARCHAR)"
        parts.append(f"'{f.name}', {value}")
    return f"CAST(json_object({', '.join(parts)}) AS VARCHAR)"


def _level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """gamma value -> level label, per comparison (null level -1, then n-1 down to 0)."""
    labels: dict[str, dict[int, str]] = {}
    for comp in model["comparisons"]:
        levels = comp["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        mapping = {-1: "not held on one record or both"}  # Splink's null level: either side
        for i, lv in enumerate(non_null):
            mapping[len(non_null) - 1 - i] = lv.get("label_for_charts", "")
        labels[comp["output_column_name"]] = mapping
    return labels


def _contributions_sql(job: JobConfig, labels: dict[str, dict[int, str]]) -> str:
    """A JSON list of every comparison's level and match weight, strongest evidence first.

    match_weight leads each struct so that sorting the list sorts by weight.
    """
    items = []
    for c in job.comparisons:
        cases = " ".join(f"WHEN {g} THEN {literal(label)}" for g, label in labels[c.name].items())
        items.append(
            f"struct_pack(match_weight := round(p.{ident('mw_' + c.name)}, 3), comparison := '{c.name}', "
            f"level := CASE p.{ident('gamma_' + c.name)} {cases} END)"
        )
    return f"CAST(to_json(list_reverse(list_sort([{', '.join(items)}]))) AS VARCHAR)"


def _owner_sql(job: JobConfig) -> str:
    if job.owning_body == "left":
        return "l.body"
    if job.owning_body == "right":
        return "r.body"
    if job.owning_body == "each":  # one inconsistency for each body, joined with EACH_OWNER
        return "CASE o.side WHEN 'l' THEN l.body ELSE r.body END"
    return literal(job.owning_body)


# owning_body = "each": every pair of two bodies' records is an inconsistency for each of
# them (an employee of two councils, a tenant of two landlords: each investigates its own).
EACH_OWNER = "CROSS JOIN (VALUES ('l'), ('r')) o(side)"


def _extract_date(sub: Any) -> dt.date:
    return dt.date.fromisoformat(sub.extract_date or sub.received_at[:10])


def _latest_extract(inputs: JobInputs) -> dt.date:
    """The newest extract date of the two sides' inputs: 'now' as far as the data knows (a
    looked-up kind extracted later does not move it)."""
    return max(_extract_date(s) for s in inputs.left + inputs.right)


def _check_as_at(as_at: dt.date, inputs: JobInputs) -> None:
    """``--as-at`` is a day the data speaks for: not before the first of the inputs was
    extracted (days after a death would count backwards), nor after today (or the newest
    extract date, which ingest allows to be tomorrow)."""
    first = min(inputs.left + inputs.right, key=_extract_date)
    since = _extract_date(first)
    newest = _latest_extract(inputs)
    last = max(dt.date.today(), newest)
    fix = (f"  Fix: leave out --as-at (the run then judges as at the newest extract date, {newest:%-d %B %Y}), "
           f"or give a date from {since:%-d %B %Y} to {last:%-d %B %Y}.")
    if as_at < since:
        raise UserError(
            f"--as-at {as_at.isoformat()}: is before any of the job's data was extracted (the first, {first.kind} from "
            f"{first.body}, on {since:%-d %B %Y}); the rules would judge the data as at a day it says nothing about.\n{fix}"
            " If the files were extracted earlier than they were ingested, ingest them again with "
            "--extract-date YYYY-MM-DD --force."
        )
    if as_at > last:
        raise UserError(f"--as-at {as_at.isoformat()}: is in the future; the data speaks for no later day than today.\n{fix}")


APART_DAYS = 31  # inputs extracted further apart than this are of different exercises, likely by mistake


def extract_date_notes(inputs: JobInputs, as_at: dt.date) -> list[str]:
    """A note when the inputs were extracted far apart (a file ingested without its
    exercise's --extract-date takes today's): the run judges them all as at the latest, and its
    matches join the case store's exercise of that date, apart from the others'."""
    dates = sorted((_extract_date(s), s.kind, s.body) for s in inputs.submissions)
    apart = (dates[-1][0] - dates[0][0]).days
    if apart <= APART_DAYS:
        return []
    listed = "; ".join(f"{kind} from {body} on {d:%-d %B %Y}" for d, kind, body in dates)
    return [f"The inputs were extracted on dates {apart} days apart ({listed}). "
            f"The run judges them as at {as_at:%-d %B %Y}, and publishing puts its matches in that exercise. Fix: ingest "
            "each file with its exercise's date (matching ingest ... --extract-date YYYY-MM-DD --force), or give run --as-at."]


def named_owner_notes(ws: Workspace, job: JobConfig) -> list[str]:
    """A note when the job's named owner is no body whose data the workspace holds: publishing
    would queue its matches for a body of that name, which a misspelt name (or "rigth") makes
    a body nobody reviews for. A body that reviews without submitting (a shared counter-fraud
    team) is legitimate, so it is said, not refused."""
    if job.owning_body in ("left", "right", "each"):
        return []
    from matching.ingest.submissions import load_all

    bodies = sorted({s.body for s in load_all(ws)})
    if job.owning_body in bodies:
        return []
    close = difflib.get_close_matches(job.owning_body, ["left", "right", *bodies], n=1, cutoff=0.6)
    return [f"{job.path.name}: owning_body '{job.owning_body}' is no body whose data is in this workspace "
            f"(bodies: {', '.join(bodies) or 'none yet'}); publishing queues its inconsistencies for a body of that name"
            + (f". Did you mean '{close[0]}'?" if close else ".")
            + " Fix: correct owning_body if it is misspelt."]


def _check_owner(job: JobConfig, inputs: JobInputs, body: str) -> None:
    """``--body`` names a body that can own this job's inconsistencies: one whose data the
    owning side holds (or the job's named owner), else a message listing those that can."""
    check_body(body)
    if job.owning_body in ("left", "right", "each"):
        subs = {"left": inputs.left, "right": inputs.right, "each": inputs.left + inputs.right}[job.owning_body]
        owners = sorted({s.body for s in subs})
    else:
        owners = [job.owning_body]
    if body not in owners:
        raise NotAnOwnerError(
            f"--body {body}: {job.job}'s inconsistencies are owned by {', '.join(owners)}, whose data it links; "
            f"{body} owns none.\n  Fix: name one of them, or leave out --body."
        )


def _run_id(job: str, fingerprint: str, now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{job}-{fingerprint[:8]}"


def run_job(
    job_name: str,
    *,
    workspace: str | os.PathLike[str] | Workspace | None = None,
    threshold: float | None = None,
    body: str | None = None,
    as_at: dt.date | None = None,
    memory_limit: str | None = None,
    max_comparisons: int | None = None,
    progress: Progress | None = None,
    backend: str = "duckdb",
    spark_master: str | None = None,
    chunks: tuple[int, int] | None = None,
) -> RunResult:
    """Link the latest submissions for a job and write its run bundle.

    ``backend="spark"`` scores the pairs with Splink on Spark (``spark_master``, default
    ``local[2]``, or spark-submit's); the rule stage runs on DuckDB either way, so the bundle
    has the same shape. ``chunks`` (left, right) splits scoring on DuckDB into that many
    chunks; by default a prediction too big for one pass is chunked automatically.
    """
    from matching.linkage.duckdb_backend import DEFAULT_MAX_COMPARISONS

    if backend not in BACKENDS:
        raise UserError(f"--backend {backend}: not a backend.\n  Fix: use one of {', '.join(BACKENDS)}.")
    if backend == "spark":
        from matching.linkage import spark_backend

        if chunks:
            raise UserError("--chunks splits scoring on DuckDB; Spark partitions the work itself.\n  Fix: drop --chunks with --backend spark.")
        spark_backend.preflight(spark_master)
    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    say = progress or (lambda _msg: None)
    if max_comparisons is None:
        max_comparisons = DEFAULT_MAX_COMPARISONS
    elif max_comparisons < 1:
        raise UserError(f"--max-comparisons {max_comparisons}: a run needs at least one comparison.\n  Fix: give a whole number of 1 or more.")
    if memory_limit:
        check_memory_limit(memory_limit)
    job = load_job(job_name)
    compiled = job.compiled
    inputs = select_inputs(ws, job)
    if body is not None:
        _check_owner(job, inputs, body)
    mpath = model_path(ws, job.job)
    from matching.linkage.settings import read_model

    model = read_model(mpath)
    if as_at is not None:
        _check_as_at(as_at, inputs)
    as_at_date = (as_at or _latest_extract(inputs)).isoformat()
    cut = threshold if threshold is not None else job.threshold
    if not 0 < cut < 1:
        raise UserError(f"--threshold {cut}: a match probability must be between 0 and 1.")
    spark = None
    timings: dict[str, float] = {}
    if backend == "spark":
        t_start = time.perf_counter()
        spark = spark_backend.session(ws, spark_master)
        timings["start_spark"] = time.perf_counter() - t_start  # ~0 when the session is running
    identity: list[Any] = [job.config_hash, sha256_file(mpath), [s.sha256 for s in inputs.submissions], cut, as_at_date, body]
    if backend != "duckdb":
        identity.append(backend)
    fingerprint = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    run_id = _run_id(job.job, fingerprint, now)
    ws.runs.mkdir(parents=True, exist_ok=True)
    n = 2
    made: Path | None = None  # this run's folder, once made: removed if the run does not finish
    try:
        while made is None:
            partial, final = ws.runs / f".partial-{run_id}", ws.runs / run_id
            if not final.exists():
                with signals_held():  # a stop between making it and knowing it would leave it
                    try:
                        partial.mkdir()  # this run's alone: a second run of the same inputs in the same
                        made = partial   # second (another user, a retry) takes the next name, never this
                    except FileExistsError:
                        pass
            if made is None:
                run_id = f"{_run_id(job.job, fingerprint, now)}-{n}"
                n += 1
        (partial / OWNER_FILE).write_text(claim(ws), encoding="utf-8")  # whose it is, if it is left
        with damaged_inputs_named(job, inputs), connect(ws, memory_limit) as con:
            check_types(job, as_at_date, con)  # before any pair is scored
            t0 = time.perf_counter()
            say(f"{job.job}: loading {len(inputs.left)} + {len(inputs.right)} submissions")
            load_records(con, inputs)
            notes = (stale_ingest_notes(con, job, inputs) + lookup_notes(job, inputs)
                     + extract_date_notes(inputs, dt.date.fromisoformat(as_at_date)) + named_owner_notes(ws, job))
            counts: dict[str, Any] = {
                "left_records": count_rows(con, "left_records"),
                "right_records": count_rows(con, "right_records"),
            }
            timings["load"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            if spark is None:
                say(f"{job.job}: scoring pairs with Splink")
                from matching.linkage.duckdb_backend import predict

                pairs_table, comparisons, grid = predict(
                    con, job, inputs, mpath, cut, chunks=chunks, max_comparisons=max_comparisons,
                    spill_dir=partial / ".scored", progress=say, timings=timings,
                )
                counts["scoring_chunks"] = list(grid)
                proportion = 1.0
            else:
                say(f"{job.job}: scoring pairs with Splink on Spark ({spark.sparkContext.master})")
                pairs_table, comparisons, proportion = _predict_on_spark(con, spark, ws, job, inputs, mpath, cut, max_comparisons)
            counts["comparisons"] = sum(n for _, n in comparisons)
            counts["comparisons_by_rule"] = dict(comparisons)
            counts["comparisons_counted"] = counted(proportion)
            timings["predict"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            say(f"{job.job}: applying the rule")
            try:
                counts |= write_bundle_tables(con, job, compiled, model, pairs_table, partial, as_at_date, body, inputs)
            except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.BinderException, duckdb.OutOfRangeException) as exc:
                # The config's SQL was checked on load (names, functions, shape), but a value
                # of the wrong type (a surname read as a date) shows only on the data; unless
                # a workspace file is damaged, which damaged_inputs_named then names.
                if unreadable(inputs):
                    raise
                raise UserError(
                    f"{job.path}: the job's rule could not be applied to the data: {str(exc).splitlines()[0]}\n"
                    "  Fix: check rule.where, rule.values, rule.explanation and priority (since, money_pence) "
                    "compare and convert columns of the right types (matching kinds KIND lists each column's type)."
                ) from None
            timings["rule_and_write"] = time.perf_counter() - t2
            timings["total"] = time.perf_counter() - t0
        shutil.rmtree(partial / ".scored", ignore_errors=True)  # chunks' scored pairs: now in the bundle
        manifest = _manifest(job, mpath, inputs, run_id, cut, as_at_date, body, counts, timings, now, backend, spark) | {"notes": notes}
        write_json_atomic(partial / "manifest.json", manifest)
        (partial / OWNER_FILE).unlink()
        os.replace(partial, final)
    except BaseException:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
    return RunResult(run_id=run_id, job=job.job, path=final, counts=counts, timings=timings, notes=notes, review=job.review)


def _predict_on_spark(
    con: duckdb.DuckDBPyConnection,
    spark: Any,
    ws: Workspace,
    job: JobConfig,
    inputs: JobInputs,
    mpath: Path,
    cut: float,
    max_comparisons: int,
) -> tuple[str, list[tuple[str, int]], float]:
    """Score on Spark, then bring the scored pairs (above the threshold) into DuckDB for the rule."""
    from matching.linkage import spark_backend

    with spark_backend.job_scratch(ws, spark) as scratch:
        files, comparisons, proportion = spark_backend.predict(
            spark, job, inputs, mpath, cut, scratch.path / "pairs", max_comparisons=max_comparisons
        )
        # A table, not a view: the scratch folder goes when Spark's part of the job is done.
        con.execute(f"CREATE OR REPLACE TEMP TABLE spark_pairs AS SELECT * FROM read_parquet({literal(str(files))})")
    return "spark_pairs", comparisons, proportion


# A pair's records, for the SQL of the rule stage (``p``: the pair, with its identity columns).
RECORD_JOINS = {
    "l": "JOIN left_records l ON l.body = p.left_body AND l.record_id = p.left_record_id",
    "r": "JOIN right_records r ON r.body = p.right_body AND r.record_id = p.right_record_id",
}

# zstd's fastest level: at a million pairs a fifth faster to write than its default, for files
# about 5% bigger (a bundle is written once, in every run, and read when it is published).
BUNDLE_PARQUET = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"


def write_bundle_tables(
    con: duckdb.DuckDBPyConnection,
    job: JobConfig,
    compiled: CompiledJob,
    model: dict[str, Any],
    pairs_table: str,
    out: Path,
    as_at: str,
    body: str | None,
    inputs: JobInputs,
) -> dict[str, Any]:
    """pairs.parquet and inconsistencies.parquet from the scored pairs (and, for a job with
    ``rule.not_if_also_linked``, set_aside.parquet); returns stage counts.

    Runs on DuckDB whichever backend scored the pairs, so rules behave the same everywhere.
    Scoring carries each record's body and record id (``CARRIED_COLUMNS``), and its side and
    body give its kind and submission, so the pairs are written without touching the records;
    the rule, the explanation and the displayed records read whole records, joined once and
    streamed straight to Parquet.
    """
    columns = [c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {pairs_table})").fetchall()]
    mw_cols = [c for c in columns if c.startswith(("mw_", "gamma_"))]
    # Orient every pair as (left dataset, right dataset); across bodies, l is the first body.
    swap = "source_dataset_l = 'right'" if "source_dataset_l" in columns else "false"

    def carried(col: str, side: str) -> str:
        own, swapped = ("l", "r") if side == "left" else ("r", "l")
        return f"CASE WHEN {swap} THEN {col}_{swapped} ELSE {col}_{own} END"

    def submission(side: str) -> str:
        subs = inputs.left if side == "left" else inputs.right
        return "CASE " + carried("body", side) + " " + " ".join(
            f"WHEN {literal(s.body)} THEN {literal(s.submission_id)}" for s in subs
        ) + " END"

    def identity(side: str, col: str) -> str:
        if col == "kind":
            return literal((job.left if side == "left" else job.right).kind)
        return submission(side) if col == "submission_id" else carried(col, side)

    identity_sql = [f"{identity(side, col)} AS {side}_{col}" for side in ("left", "right") for col in PAIR_IDENTITY]
    identity_cols = [f"{side}_{col}" for side in ("left", "right") for col in PAIR_IDENTITY]
    pair_cols = [*identity_cols, "match_probability", "match_weight", *mw_cols]
    order = "left_body, left_record_id, right_body, right_record_id"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE linked AS
        SELECT {", ".join(identity_sql)}, match_probability, match_weight, {", ".join(ident(c) for c in mw_cols)}
        FROM {pairs_table}
        """
    )
    con.execute(
        f"COPY (SELECT {', '.join(ident(c) for c in pair_cols)} FROM linked ORDER BY {order}) "
        f"TO {literal(str(out / 'pairs.parquet'))} ({BUNDLE_PARQUET})"
    )
    score_sql, band_sql = compiled.priority_sql(as_at)
    labels = _level_labels(model)
    # A comparison's weight follows from its level, so a pair's contributions follow from its
    # levels and weights: build each distinct combination's list once (a hundred or so at a
    # million pairs) and join it on, matching every key, so no pair can gain or lose a row.
    keys = [ident(f"{prefix}_{c.name}") for c in job.comparisons for prefix in ("gamma", "mw")]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE contributions AS
        SELECT {", ".join(f"{k} AS key_{i}" for i, k in enumerate(keys))}, {_contributions_sql(job, labels)} AS contributions
        FROM (SELECT DISTINCT {", ".join(keys)} FROM linked) p
        """
    )
    contributions_join = " AND ".join(f"c.key_{i} IS NOT DISTINCT FROM p.{k}" for i, k in enumerate(keys))
    owner = _owner_sql(job)
    body_filter = f"AND {owner} = {literal(body)}" if body else ""
    set_aside = _set_aside(con, job, as_at)
    # rule.set_aside_unless: an inconsistency where it holds is never set aside (for council tax,
    # the same email or phone on both records: the parent is liable at both addresses).
    kept = f"coalesce(({compiled.sql('set_aside_unless', as_at)}), false)" if compiled.set_aside_unless is not None else "false"
    rule = f"({compiled.rule_sql(as_at)}) {body_filter}"
    # Which job, owner, records and probability: the first columns of every inconsistency.
    which = f"'{job.job}' AS job, {owner} AS owning_body, " + ", ".join(f"p.{c}" for c in identity_cols) + ", p.match_probability"
    inconsistencies = out / "inconsistencies.parquet"
    # The rule as a bare WHERE (a NULL drops the pair, as false does): DuckDB then filters on
    # its cheap conjuncts first (a discount type, a body) and evaluates the costly ones (name
    # similarities) only on the pairs left; wrapped in coalesce(), it evaluated all of them on
    # every pair: 1.04 s against 0.29 s for spd-to-electoral-register's 631,640 pairs.
    con.execute(
        f"""
        COPY (
            SELECT {which}, p.match_weight,
                   {compiled.explanation_sql(as_at)} AS explanation,
                   {score_sql} AS priority_score,
                   {band_sql} AS priority_band,
                   c.contributions,
                   {_display_sql("l", job.left)} AS left_record,
                   {_display_sql("r", job.right)} AS right_record,
                   DATE '{as_at}' AS as_at
            FROM linked p
            JOIN contributions c ON {contributions_join}
            {RECORD_JOINS["l"]}
            {RECORD_JOINS["r"]}
            {EACH_OWNER if job.owning_body == "each" else ""}
            WHERE {rule} {f"AND ({kept} OR NOT EXISTS (SELECT 1 FROM also_linked a WHERE {SETS_ASIDE}))" if set_aside else ""}
            ORDER BY priority_score DESC, {order}, owning_body
        ) TO {literal(str(inconsistencies))} ({BUNDLE_PARQUET})
        """
    )
    bands = dict(con.execute(f"SELECT priority_band, count(*) FROM read_parquet({literal(str(inconsistencies))}) GROUP BY 1").fetchall())
    counts: dict[str, Any] = {
        "pairs": count_rows(con, "linked"),
        "inconsistencies": sum(int(n) for n in bands.values()),
        "by_band": {b: int(bands.get(b, 0)) for b in ("high", "medium", "low")},
    }
    if set_aside:
        # What was set aside, and by which link, for auditors: an inconsistency is never lost unseen.
        con.execute(
            f"""
            COPY (
                SELECT {which}, {compiled.explanation_sql(as_at)} AS explanation,
                       a.also_right_body AS also_linked_right_body, a.also_right_submission_id AS also_linked_right_submission_id,
                       a.also_right_record_id AS also_linked_right_record_id,
                       a.also_probability AS also_linked_match_probability
                FROM linked p {RECORD_JOINS["l"]} {RECORD_JOINS["r"]}
                JOIN also_linked a ON {SETS_ASIDE}
                WHERE {rule} AND NOT {kept}
                QUALIFY row_number() OVER (PARTITION BY {", ".join("p." + c for c in order.split(", "))}
                                           ORDER BY a.also_probability DESC, a.also_right_body, a.also_right_record_id) = 1
                ORDER BY {order}
            ) TO {literal(str(out / "set_aside.parquet"))} ({BUNDLE_PARQUET})
            """
        )
        counts["inconsistencies_set_aside"] = int(con.execute(f"SELECT count(*) FROM read_parquet({literal(str(out / 'set_aside.parquet'))})").fetchall()[0][0])
    return counts


# An inconsistency p is set aside by a link a of the same left record to another right record,
# at least as strong (the set-aside condition holds of a: ``also_linked``).
SETS_ASIDE = (
    "a.left_body = p.left_body AND a.left_record_id = p.left_record_id "
    "AND NOT (a.also_right_body = p.right_body AND a.also_right_record_id = p.right_record_id) "
    "AND a.also_probability >= p.match_probability"
)


def _set_aside(con: duckdb.DuckDBPyConnection, job: JobConfig, as_at: str) -> bool:
    """Table ``also_linked``: the linked pairs where ``rule.not_if_also_linked`` holds (for the
    admissions jobs, a parent linked at the very address the application gives). An
    inconsistency of the same left record to another right record, no stronger, is set aside
    (``SETS_ASIDE``): the parent lives at the address given, and the other link is a
    namesake's. False when the job has no such rule. The condition joins the records only
    when it reads them."""
    tree = job.compiled.also_linked
    if tree is None:
        return False
    joins = " ".join(RECORD_JOINS[side] for side in sorted({t for t, _ in referenced_columns(tree) if t}))
    # Named apart from the pair columns the rule, explanation and priority read unqualified.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE also_linked AS
        SELECT p.left_body, p.left_record_id, p.right_body AS also_right_body, p.right_submission_id AS also_right_submission_id,
               p.right_record_id AS also_right_record_id,
               p.match_probability AS also_probability
        FROM linked p {joins} WHERE {job.compiled.sql('also_linked', as_at)}
        """
    )
    return True


def _input(s: Submission) -> dict[str, Any]:
    """A submission as the manifest lists a run's inputs."""
    return {"submission_id": s.submission_id, "kind": s.kind, "body": s.body, "file_name": s.file_name,
            "sha256": s.sha256, "rows_loaded": s.rows_loaded, "dataset_path": s.dataset_path}


def _manifest(
    job: JobConfig,
    mpath: Path,
    inputs: JobInputs,
    run_id: str,
    threshold: float,
    as_at: str,
    body: str | None,
    counts: dict[str, Any],
    timings: dict[str, float],
    now: dt.datetime,
    backend: str = "duckdb",
    spark: Any = None,
) -> dict[str, Any]:
    import splink

    from matching import __version__

    versions = {
        "matching": __version__,
        "splink": splink.__version__,
        "duckdb": duckdb.__version__,
        "python": platform.python_version(),
    }
    extra: dict[str, Any] = {}
    if spark is not None:
        versions |= {"pyspark": spark.version}
        extra["spark"] = {"master": spark.sparkContext.master}
    return {
        "run_id": run_id,
        "job": job.job,
        "title": job.title,
        "review": job.review,
        "created_at": now.isoformat(),
        "as_at": as_at,
        "threshold": threshold,
        "body": body,
        "backend": backend,
        "money_shown_as": "pounds",  # the records' money fields (bundles before 30 Nov 2026: pence)
        "owning_body": job.owning_body,  # "each": an inconsistency per body, keyed by its owner too
        **extra,
        "config": {"path": str(job.path), "sha256": job.config_hash},
        "model": {"path": str(mpath), "sha256": sha256_file(mpath)},
        "seed": job.training.seed,
        "inputs": [{"side": side, **_input(s)} for side, subs in (("left", inputs.left), ("right", inputs.right)) for s in subs]
        # A lookup's records: read for the columns it adds to a side's (side "lookup", so that
        # readers of the sides' records pass them by).
        + [{"side": "lookup", "for_side": lookup.side, "prefix": lookup.prefix, **_input(s)}
           for lookup, subs in inputs.lookups for s in subs],
        "counts": counts,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "versions": versions,
    }
