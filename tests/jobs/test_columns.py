"""The engine's idea of each dataset's columns matches what ingest really writes."""

from __future__ import annotations

import duckdb
import pytest

from matching.ingest import standardise as std
from matching.rules.compile import dataset_column_types
from matching.specs import list_kinds, load_spec


@pytest.mark.parametrize("kind", list_kinds())
def test_column_types_match_the_standardised_output(kind: str) -> None:
    spec = load_spec(kind)
    con = duckdb.connect()
    cols = ", ".join(f'CAST(NULL AS VARCHAR) AS "{f.name}"' for f in spec.fields)
    con.execute(f"CREATE TABLE src AS SELECT CAST(NULL AS BIGINT) AS _row, {cols} WHERE false")
    std.register(con)
    std.standardise(con, "src", spec, "std")
    real = {n: t for n, t in con.execute("SELECT column_name, column_type FROM (DESCRIBE std)").fetchall() if n != "_defects"}
    declared = {n: t for n, t in dataset_column_types(spec).items() if n not in ("record_id", "household_surnames", "submission_id", "body", "kind")}
    assert declared == real
