"""A submission as an analyst first looks at it: completeness, invalid values, common values."""

from __future__ import annotations

import os
from typing import Any

from matching.errors import UserError
from matching.ingest.standardise.sql import literal
from matching.ingest.submissions import Submission, load_all
from matching.workspace import Workspace


def _ws(workspace: str | os.PathLike[str] | Workspace | None) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)


def submissions(workspace: str | os.PathLike[str] | Workspace | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Every submission in the workspace (of one kind): rows read, loaded and rejected."""
    return [
        {"submission_id": s.submission_id, "kind": s.kind, "body": s.body, "file": s.file_name,
         "rows_read": s.rows_read, "rows_loaded": s.rows_loaded, "rows_rejected": s.rows_rejected}
        for s in load_all(_ws(workspace)) if kind is None or s.kind == kind
    ]


def find_submission(workspace: str | os.PathLike[str] | Workspace | None, submission: str) -> Submission:
    """A submission by id, or the latest of a kind (``"payroll"``) or of a kind and body
    (``"payroll/kingston"``)."""
    subs = load_all(_ws(workspace))
    kind, _, body = submission.partition("/")
    chosen = [s for s in subs if s.submission_id == submission] or [
        s for s in subs if s.kind == kind and (not body or s.body == body)]
    if not chosen:
        raise UserError(f"No submission '{submission}' in {_ws(workspace).root}.\n"
                        "  Fix: give a submission id, a kind (payroll) or kind/body (payroll/kingston).")
    return chosen[-1]


def completeness(sub: Submission) -> list[dict[str, Any]]:
    """One row per field: supplied in the file, share filled, values nulled at ingest as invalid."""
    rows = []
    for name, q in sub.quality.items():
        defects = q.get("defects") or {}
        rows.append({
            "field": name, "supplied": bool(q.get("supplied")), "filled": int(q.get("filled", 0)),
            "completeness": round(int(q.get("filled", 0)) / sub.rows_loaded, 4) if sub.rows_loaded else None,
            "invalid_nulled": sum(int(n) for n in defects.values()),
            "invalid_reasons": "; ".join(f"{reason}: {n}" for reason, n in defects.items()),
        })
    return rows


def rejects(sub: Submission) -> list[dict[str, Any]]:
    """Rows rejected at ingest, by reason (the rows themselves are in the rejects file)."""
    return [{"reason": r, "rows": n, "rejects_file": sub.rejects_path} for r, n in sub.rejects_by_reason.items()]


def value_frequencies(sub: Submission, columns: list[str], top: int = 10) -> list[dict[str, Any]]:
    """The most common values of each column (long, skewed blocks start here)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet({literal(sub.dataset_path)})")
    known = {c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE records)").fetchall()}
    rows: list[dict[str, Any]] = []
    for col in columns:
        if col not in known:
            raise UserError(f"{sub.kind} has no column '{col}'.\n  Columns: {', '.join(sorted(known))}")
        for value, n, share in con.execute(
            f"""SELECT CAST("{col}" AS VARCHAR), count(*), round(count(*) / (SELECT count(*) FROM records), 4)
                FROM records WHERE "{col}" IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}"""
        ).fetchall():
            rows.append({"column": col, "value": value, "rows": int(n), "share": float(share)})
    return rows


def profile_chart(sub: Submission, columns: list[str], top: int = 10) -> Any:
    """Splink's value-frequency chart (top and bottom values, distribution) for columns."""
    import duckdb
    from splink import DuckDBAPI
    from splink.exploratory import profile_columns

    con = duckdb.connect()
    con.execute(f"CREATE TABLE records AS SELECT * FROM read_parquet({literal(sub.dataset_path)})")
    sdf = DuckDBAPI(connection=con).register("records")
    return profile_columns(sdf, column_expressions=list[Any](columns), top_n=top, bottom_n=5)


def completeness_chart(sub: Submission, columns: list[str] | None = None) -> Any:
    """Splink's completeness chart for a submission's columns."""
    import duckdb
    from splink import DuckDBAPI
    from splink.exploratory import completeness_chart as splink_completeness

    con = duckdb.connect()
    con.execute(f"CREATE TABLE records AS SELECT * FROM read_parquet({literal(sub.dataset_path)})")
    sdf = DuckDBAPI(connection=con).register("records")
    return splink_completeness(sdf, cols=columns)
