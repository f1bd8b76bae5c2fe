"""Choosing a job's threshold: labels from truth for Splink's accuracy charts, the errors at a
threshold, and writing the chosen threshold back into the job's config."""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

import pyarrow as pa

from matching.evaluate.labels import source_dataset
from matching.evaluate.session import JobSession
from matching.jobs.config import load_job, load_job_file
from matching.workspace import replaced_atomically


def _known_pairs(session: JobSession, pairs: pa.Table) -> None:
    session.con.register("threshold_pairs_arrow", pairs)
    session.con.execute("CREATE OR REPLACE TEMP TABLE threshold_pairs AS SELECT DISTINCT * FROM threshold_pairs_arrow")
    session.con.unregister("threshold_pairs_arrow")


def _orient(con: Any, pred: str) -> str:
    """The predictions oriented as the known pairs are (left input first). A job within one
    body (Splink's dedupe_only) has no sides, and its predictions no source_dataset: either
    order is the pair, as ``_same`` compares them."""
    columns = {c for (c,) in con.execute(f"SELECT column_name FROM (DESCRIBE {pred})").fetchall()}
    if "source_dataset_l" not in columns:
        return f"SELECT unique_id_l AS a, unique_id_r AS b, match_probability, match_weight FROM {pred}"
    return f"""SELECT CASE WHEN source_dataset_l = 'right' THEN unique_id_r ELSE unique_id_l END AS a,
                      CASE WHEN source_dataset_l = 'right' THEN unique_id_l ELSE unique_id_r END AS b,
                      match_probability, match_weight FROM {pred}"""


def _same(a: str, b: str) -> str:
    return f"((k.unique_id_l = {a} AND k.unique_id_r = {b}) OR (k.unique_id_l = {b} AND k.unique_id_r = {a}))"


def labels_from_truth(session: JobSession, true_pairs: pa.Table) -> Any:
    """Every pair the job's blocking scores, labelled 1 when it is a true pair and 0 when not,
    plus the true pairs blocking misses: a labels table for Splink's accuracy charts."""
    pred = session.predict().physical_name
    _known_pairs(session, true_pairs)
    job = session.job

    def sd(side: str, uid: str) -> str:
        if job.within_body:
            return "'all'"
        if job.across_bodies:
            return f"split_part({uid}, '/', 1)"
        return f"'{source_dataset(job, side, '')}'"

    name = f"truth_labels_{job.job.replace('-', '_')}"
    session.con.execute(
        f"""CREATE OR REPLACE TABLE {name} AS
            WITH p AS ({_orient(session.con, pred)})
            SELECT {sd('left', 'a')} AS source_dataset_l, a AS unique_id_l, {sd('right', 'b')} AS source_dataset_r,
                   b AS unique_id_r,
                   CASE WHEN EXISTS (SELECT 1 FROM threshold_pairs k WHERE {_same('a', 'b')}) THEN 1.0 ELSE 0.0 END
                     AS clerical_match_score
            FROM p
            UNION ALL
            SELECT {sd('left', 'k.unique_id_l')}, k.unique_id_l, {sd('right', 'k.unique_id_r')}, k.unique_id_r, 1.0
            FROM threshold_pairs k WHERE NOT EXISTS (SELECT 1 FROM p WHERE {_same('p.a', 'p.b')})"""
    )
    sdf = session.db_api.register(name, table_name=f"{name}_{id(true_pairs)}")
    return session.linker.table_management.register_labels_table(sdf)


def errors_at(session: JobSession, true_pairs: pa.Table, threshold: float, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
    """At ``threshold``: pairs linked that are not true pairs, and true pairs not linked
    (scored below it, or never compared), with their scores."""
    pred = session.predict().physical_name
    _known_pairs(session, true_pairs)
    con = session.con
    con.execute(f"CREATE OR REPLACE TEMP TABLE threshold_scored AS {_orient(con, pred)}")
    false_links = con.sql(
        f"""SELECT a AS unique_id_l, b AS unique_id_r, match_probability, match_weight FROM threshold_scored p
            WHERE match_probability >= {float(threshold)} AND NOT EXISTS (SELECT 1 FROM threshold_pairs k WHERE {_same('p.a', 'p.b')})
            ORDER BY match_probability DESC LIMIT {int(limit)}"""
    ).to_arrow_table().to_pylist()
    missed = con.sql(
        f"""SELECT k.unique_id_l, k.unique_id_r, max(p.match_probability) AS match_probability,
                   max(p.match_weight) AS match_weight
            FROM threshold_pairs k LEFT JOIN threshold_scored p ON {_same('p.a', 'p.b')}
            GROUP BY ALL HAVING coalesce(max(p.match_probability), 0) < {float(threshold)}
            ORDER BY match_probability DESC NULLS LAST LIMIT {int(limit)}"""
    ).to_arrow_table().to_pylist()
    return {"false_links": false_links, "missed": missed}


def accuracy_rows(session: JobSession, labels_table: Any) -> list[dict[str, Any]]:
    """Splink's accuracy table of ``labels_table`` with F1, a row per score a labelled pair
    has. Splink's default rounds each score's match weight to the nearest tenth first, which
    gives rows at scores no pair has: at tenants-to-tenants' best, a pair scored 0.8296 was
    counted as linked at 0.831, where a run links nothing below 0.831."""
    from matching.linkage.duckdb_backend import splink_log

    with splink_log():
        return list(session.linker.evaluation.accuracy_analysis_from_labels_table(
            labels_table, output_type="table", add_metrics=["f1"], match_weight_round_to_nearest=None,
        ).as_record_list())


# The thresholds a job may use: below 0.5 a pair is likelier not the same than the same.
LOWEST_THRESHOLD, HIGHEST_THRESHOLD = 0.5, 0.999


def choose_threshold(probability: float) -> float:
    """A job threshold for the best score found (``best_f1``'s): within the thresholds a job
    may use, and rounded down to three decimals, so that every pair scored at the best is
    still linked (0.82962 rounded to 0.83 would leave its pair out)."""
    from decimal import ROUND_FLOOR, Decimal

    floored = float(Decimal(repr(float(probability))).quantize(Decimal("0.001"), rounding=ROUND_FLOOR))
    return min(max(floored, LOWEST_THRESHOLD), HIGHEST_THRESHOLD)


def figures_at(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any]:
    """From Splink's accuracy table (``accuracy_rows``): the figures of linking at
    ``threshold``, a match probability. Rows are per score; pairs scored at or above the
    threshold are linked, so its figures are those of the lowest score at or above it (above
    every score nothing is linked)."""
    if not rows:
        raise ValueError("no rows: the labels table is empty")
    eligible = [r for r in rows if r["match_probability"] >= threshold]
    if eligible:
        r = min(eligible, key=lambda r: r["match_probability"])
        tp, fp, fn = int(r["tp"]), int(r["fp"]), int(r["fn"])
    else:
        top = max(rows, key=lambda r: r["match_probability"])
        tp, fp, fn = 0, 0, int(top["p"])
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {"threshold": threshold, "tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def best_f1(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The row of Splink's accuracy table with the highest F1 (the higher score of a tie)."""
    if not rows:
        raise ValueError("no rows: the labels table is empty")
    return max(rows, key=lambda r: (r["f1"] if isinstance(r["f1"], float | int) and math.isfinite(r["f1"]) else -1.0,
                                    r["match_probability"]))


_TABLE = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"]+)\s*\]\]?\s*(#.*)?$")
_THRESHOLD = re.compile(r"^(\s*threshold\s*=\s*)([0-9.eE+\-]+)(.*)$")


def set_threshold(job: str, threshold: float, *, write: bool = False) -> str:
    """Set ``[linkage] threshold`` in the job's own config file, keeping every other line (and
    comment) as it is; returns the change as a diff. Writes only when ``write``; the new file
    is checked as a job config before it replaces the old one."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold {threshold}: a match probability is between 0 and 1")
    path = load_job(job).path
    old = path.read_text(encoding="utf-8")
    lines = old.splitlines(keepends=True)
    value = f"{threshold:.6g}"
    section, header_at, done = None, None, False
    for i, line in enumerate(lines):
        table = _TABLE.match(line)
        if table:
            section = table.group(1)
            if section == "linkage":
                header_at = i
            continue
        m = _THRESHOLD.match(line)
        if section == "linkage" and m:
            lines[i] = f"{m.group(1)}{value}{m.group(3)}\n"
            done = True
            break
    if not done:
        if header_at is None:
            lines.append(f"\n[linkage]\nthreshold = {value}\n")
        else:
            lines.insert(header_at + 1, f"threshold = {value}\n")
    new = "".join(lines)
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        str(path), str(path)))
    if write and new != old:
        with replaced_atomically(path) as tmp:
            tmp.write_text(new, encoding="utf-8")
            if load_job_file(tmp).threshold != float(value):
                raise ValueError(f"{path}: the threshold could not be set in place; edit it by hand")
    return diff
