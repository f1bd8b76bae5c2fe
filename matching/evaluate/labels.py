"""Investigators' labels (``matching labels export``) in a job's Splink session: measure
accuracy with them, and estimate m probabilities from the pairs they found to be the same.

    labels = load_labels("labels.parquet", job="hb-to-deceased")
    table = register_labels(session, labels)
    session.linker.evaluation.accuracy_analysis_from_labels_table(table, output_type="table")

Labels are a biased sample: investigators see only the pairs a run put above its threshold,
so they measure precision well and recall only among pairs that were reviewed. A "not sure"
label (0.5, exported with ``--include-unsure``) says neither "same" nor "not the same": it is
left out of what ``register_labels`` registers, since Splink would count it as a match.
"""

from __future__ import annotations

import os
from itertools import count
from pathlib import Path
from typing import Any

import pyarrow as pa

from matching.errors import UserError

# A label says "the same" (person, or property for a property job) at this score; "not
# sure" is 0.5 and says neither.
SAME = 1.0
UNSURE = 0.5
SPLINK_COLUMNS = ["source_dataset_l", "unique_id_l", "source_dataset_r", "unique_id_r", "clerical_match_score"]
_names = count(1)


def source_dataset(job: Any, side: str, body: str) -> str:
    """The name a record's input table is registered under with Splink, as
    ``matching.linkage.inputs.linkage_tables`` registers it: one table "all" within a body
    (dedupe_only, where Splink ignores it), a table per body across bodies, else "left" and
    "right"."""
    if job.within_body:
        return "all"
    if job.across_bodies:
        return body
    return side


def load_labels(path: str | os.PathLike[str], *, job: str | None = None) -> pa.Table:
    """A labels file (CSV or Parquet, as ``matching labels export`` writes it), optionally one job's."""
    import duckdb

    file = Path(path)
    if not file.is_file():
        raise UserError(f"{file}: no such labels file.\n  Fix: matching labels export JOB --out {file}")
    reader = "read_parquet" if file.suffix.lower() == ".parquet" else "read_csv"
    options = "" if reader == "read_parquet" else ", all_varchar = true"
    con = duckdb.connect()
    table = con.sql(f"SELECT * FROM {reader}(?{options})", params=[str(file)]).to_arrow_table()
    missing = [c for c in SPLINK_COLUMNS if c not in table.column_names]
    if missing:
        raise UserError(f"{file}: not a labels file: no column {', '.join(missing)}.\n"
                        "  Fix: write it with 'matching labels export'.")
    con.register("labels", table)
    where = "WHERE job = ?" if job and "job" in table.column_names else ""
    others = [c for c in table.column_names if c not in SPLINK_COLUMNS]
    typed = con.sql(
        f"""SELECT CAST(source_dataset_l AS VARCHAR) AS source_dataset_l, CAST(unique_id_l AS VARCHAR) AS unique_id_l,
                   CAST(source_dataset_r AS VARCHAR) AS source_dataset_r, CAST(unique_id_r AS VARCHAR) AS unique_id_r,
                   CAST(clerical_match_score AS DOUBLE) AS clerical_match_score
                   {''.join(f', "{c}"' for c in others)}
            FROM labels {where}""",
        params=[job] if where else None,
    ).to_arrow_table()
    return typed


def register_labels(session: Any, labels: pa.Table, *, same_only: bool = False) -> Any:
    """Register labels with the session's linker (a SplinkDataFrame for its evaluation and
    training methods). Only labels of the session's job are kept, and "not sure" labels (0.5)
    are left out: Splink counts a score of 0.5 or more as a match, so each would count as a
    pair found to be the same. ``same_only`` keeps the pairs found to be the same, which is
    what ``estimate_m_from_pairwise_labels`` wants. Refuses labels none of which names a
    record of the job's inputs."""
    import duckdb

    con = duckdb.connect()
    con.register("labels", labels)
    conditions = [f"clerical_match_score IS NOT NULL AND clerical_match_score <> {UNSURE}"]
    if "job" in labels.column_names:
        conditions.append(f"job = '{session.job.job}'")
    if same_only:
        conditions.append(f"clerical_match_score >= {SAME}")
    where = f"WHERE {' AND '.join(conditions)}"
    kept = con.sql(f"SELECT {', '.join(SPLINK_COLUMNS)} FROM labels {where}").to_arrow_table()
    name = f"labels_{session.job.job.replace('-', '_')}_{next(_names)}"
    session.con.register(f"{name}_arrow", kept)
    session.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    session.con.unregister(f"{name}_arrow")
    found = labels_found(session, name)
    if kept.num_rows and not found:
        raise UserError(
            f"None of the {kept.num_rows} labels of {session.job.job} names a record of its inputs in "
            f"{session.workspace.root}.\n  Fix: export the labels from the case store that reviewed "
            "this workspace's runs (matching labels export JOB)."
        )
    sdf = session.db_api.register(name, dataset_display_name=name)
    return session.linker.table_management.register_labels_table(sdf)


def labels_found(session: Any, table: str) -> int:
    """How many labels name records present on both sides of the session's inputs."""
    ids = " UNION ALL ".join(f"SELECT unique_id FROM {t.physical_name}" for t in session.tables)
    return int(session.con.execute(
        f"""SELECT count(*) FROM {table}
            WHERE unique_id_l IN ({ids}) AND unique_id_r IN ({ids})"""
    ).fetchall()[0][0])


def retrain_from_labels(session: Any, labels: pa.Table) -> dict[str, Any]:
    """Estimate m from the pairs investigators found to be the same (u and the prior stay as
    trained); returns the new model, which the session's linker now uses. Nothing is written:
    ``session.save_model()`` does that, into the session's workspace."""
    same = register_labels(session, labels, same_only=True)
    if int(session.con.execute(f"SELECT count(*) FROM {same.physical_name}").fetchall()[0][0]) == 0:
        raise UserError(f"No label of {session.job.job} says 'same': m cannot be estimated from labels.")
    from matching.linkage.duckdb_backend import splink_log

    with splink_log():
        session.linker.training.estimate_m_from_pairwise_labels(same)
        model: dict[str, Any] = session.linker.misc.save_model_to_json(None)
    session.model = model
    return model


def accuracy_table(session: Any, labels_table: Any, threshold: float) -> dict[str, Any]:
    """Precision and recall among the labelled pairs at one match probability ("not sure"
    labels are not among them: see ``register_labels``)."""
    from matching.evaluate.thresholds import accuracy_rows, figures_at

    rows = accuracy_rows(session, labels_table)
    if not rows:
        return {"threshold": threshold, "labels": 0}
    at = figures_at(rows, threshold)
    return {"threshold": threshold, "labels": int(rows[0]["p"] + rows[0]["n"]),
            **{k: at[k] for k in ("tp", "fp", "fn")},
            **{k: None if at[k] is None else round(at[k], 4) for k in ("precision", "recall", "f1")}}
