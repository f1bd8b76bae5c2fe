"""``standardise_value``: the standardisers' SQL applied to one value, for tests and notebooks.

It runs exactly the expressions ``standardise`` runs (``fields.clean_field``), on a cached
in-memory DuckDB connection, so what it returns is what a submission would get.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from matching.ingest.standardise.fields import clean_field
from matching.specs import FieldSpec

_lock = threading.Lock()
_con: duckdb.DuckDBPyConnection | None = None
_sql_cache: dict[FieldSpec, str] = {}


def _connection() -> duckdb.DuckDBPyConnection:
    global _con
    if _con is None:
        _con = duckdb.connect()
    return _con


def _sql(field: FieldSpec) -> str:
    if field not in _sql_cache:
        value, defect = clean_field(field, "raw")
        _sql_cache[field] = (
            f"SELECT v, CASE WHEN v IS NULL AND raw IS NOT NULL THEN {defect} END "
            f"FROM (SELECT raw, {value} AS v FROM (SELECT NULLIF(trim(CAST(? AS VARCHAR)), '') AS raw))"
        )
    return _sql_cache[field]


def standardise_value(
    ftype: str,
    value: str | None,
    part: str | None = None,
    name: str = "value",
    *,
    values: tuple[str, ...] = (),
    max_length: int | None = None,
    address_line: int | None = None,
) -> tuple[Any, str | None]:
    """(standardised value, defect or None) for one raw value of a field of type ``ftype``.

    ``name`` matters for dates (``dob`` or a name with 'birth' gets the date-of-birth
    checks); ``values``, ``max_length`` and ``address_line`` are the spec settings of the
    same names. The value is trimmed and blank means NULL, as in a submission.
    """
    field = FieldSpec(
        name=name,
        type=ftype,
        part=part,
        values=tuple(v.upper() for v in values),
        max_length=max_length,
        address_line=address_line,
    )
    sql = _sql(field)
    with _lock:
        row = _connection().execute(sql, [value]).fetchall()[0]
    return row[0], row[1]
