"""Choosing a job's threshold: labels from truth for Splink's accuracy charts, the errors at a
threshold, and writing the chosen threshold back into the job's config."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from matching.evaluate.labels import source_dataset
from matching.evaluate.session import JobSession
from matching.jobs.config import load_job, load_job_file


def _known_pairs(session: JobSession, pairs: pa.Table) -> None:
    session.con.register("threshold_pairs_arrow", pairs)
    session.con.execute("CREATE OR REPLACE TEMP TABLE threshold_pairs AS SELECT DISTINCT * FROM threshold_pairs_arrow")
    session.con.unregister("threshold_pairs_arrow")


def _orient(pred: str) -> str:
    """The predictions oriented as the known pairs are (left input first)."""
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
            WITH p AS ({_orient(pred)})
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
    con.execute(f"CREATE OR REPLACE TEMP TABLE threshold_scored AS {_orient(pred)}")
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
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(new, encoding="utf-8")
        try:
            if load_job_file(tmp).threshold != float(value):
                raise ValueError(f"{path}: the threshold could not be set in place; edit it by hand")
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return diff
