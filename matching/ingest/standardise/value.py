"""``standardise_value``: the standardisers' SQL applied to one value, for tests and notebooks.

It runs exactly the expressions ``standardise`` runs (``fields.clean_field``, with shared
values bound the same way), on a cached in-memory DuckDB connection, so what it returns is
what a submission would get.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from matching.ingest.standardise.fields import clean_field
from matching.ingest.standardise.sql import bind, binding, literal
from matching.specs import FieldSpec

TRIM = " \t\r\n\u00a0"
_lock = threading.Lock()
_con: duckdb.DuckDBPyConnection | None = None
_sql_cache: dict[FieldSpec, str] = {}


def _connection() -> duckdb.DuckDBPyConnection:
    global _con
    if _con is None:
        _con = duckdb.connect()
    return _con


def _sql(field: FieldSpec) -> str:
    """One query over a list of raw values ($1), in list order: value, defect."""
    if field not in _sql_cache:
        with binding() as bindings:
            value = bind(clean_field(field, "raw")[0])
            defect = f"CASE WHEN {value} IS NULL AND raw IS NOT NULL THEN {clean_field(field, 'raw')[1]} END"
        # Trimmed as ingest trims a submitted value (spaces, tabs, line breaks, no-break spaces).
        source = f"(SELECT i AS _i, NULLIF(trim(CAST($1[i] AS VARCHAR), {literal(TRIM)}), '') AS raw FROM range(1, len($1) + 1) t(i))"
        _sql_cache[field] = f"SELECT {value}, {defect} FROM ({bindings.wrap(source)}) ORDER BY _i"
    return _sql_cache[field]


def _field(ftype: str, part: str | None, name: str, values: tuple[str, ...], max_length: int | None, address_line: int | None) -> FieldSpec:
    return FieldSpec(
        name=name,
        type=ftype,
        part=part,
        values=tuple(v.upper() for v in values),
        max_length=max_length,
        address_line=address_line,
    )


def standardise_values(
    ftype: str,
    raw_values: list[str | None],
    part: str | None = None,
    name: str = "value",
    *,
    values: tuple[str, ...] = (),
    max_length: int | None = None,
    address_line: int | None = None,
) -> list[tuple[Any, str | None]]:
    """``standardise_value`` for many values in one query: a (value, defect) per value."""
    if not raw_values:
        return []
    sql = _sql(_field(ftype, part, name, values, max_length, address_line))
    with _lock:
        rows = _connection().execute(sql, [list(raw_values)]).fetchall()
    return [(v, d) for v, d in rows]


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
    [result] = standardise_values(
        ftype, [value], part, name, values=values, max_length=max_length, address_line=address_line
    )
    return result
