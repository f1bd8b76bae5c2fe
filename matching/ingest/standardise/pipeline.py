"""``standardise``: a source table of raw text becomes the standardised table.

``STEPS`` is the whole of it, in order:

1. ``phonetic_keys``: the Metaphone key of each *distinct* forename and surname, by a
   Python function over Arrow batches (``phonetic``), into a small temporary table.
2. ``create_target``: one query over the source: every field through its standardiser
   (``fields.CLEANERS``); the derived columns (``DERIVATIONS``: name parts, postcode parts,
   address forms); ``_defects``, {field, reason, value} for each value that was nulled, in
   spec order; canonical forenames joined from the nickname table (``nicknames``) and the
   phonetic keys joined back.

The query is written as the standardisers' expressions over the raw columns; intermediate
values they share are computed once, in projections stacked beneath it (``sql.binding``).
The rows of ``target`` are in no particular order: sort by ``_row``.

Output columns (``output_columns``): ``_row``; one column per field, named as the field and
typed by its type; the derived columns; ``_defects``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb

from matching.ingest.standardise.addresses import address_columns
from matching.ingest.standardise.fields import clean_field, is_address_line
from matching.ingest.standardise.name_parts import name_columns
from matching.ingest.standardise.nicknames import TABLE as NICKNAMES
from matching.ingest.standardise.phonetic import FUNCTION as METAPHONE
from matching.ingest.standardise.postcodes import postcode_columns
from matching.ingest.standardise.reference import ensure_registered
from matching.ingest.standardise.sql import Bindings, bind, binding, ident, literal, table
from matching.specs import DatasetSpec, FieldSpec

DEFECT_TYPE = "STRUCT(field VARCHAR, reason VARCHAR, value VARCHAR)"
Columns = list[tuple[str, str]]


def _raw(f: FieldSpec) -> str:
    return ident(f.name)


def _value(f: FieldSpec) -> str:
    """The standardised value of a field, computed once (inside ``binding()``)."""
    return bind(clean_field(f, _raw(f))[0])


def _names(spec: DatasetSpec) -> Columns:
    return name_columns(spec, _value, _raw)


def _postcodes(spec: DatasetSpec) -> Columns:
    return [c for f in spec.of_type("postcode") for c in postcode_columns(f, _value(f))]


def _addresses(spec: DatasetSpec) -> Columns:
    lines = [_value(f) for f in spec.address_lines if is_address_line(f)]
    return address_columns(lines) if lines else []


DERIVATIONS: list[Callable[[DatasetSpec], Columns]] = [_names, _postcodes, _addresses]


def _defects(spec: DatasetSpec) -> str:
    """``_defects``: {field, reason, value} for each non-blank value that was nulled.

    The reasons are only worked out for rows where some value was nulled."""
    nulled = {f.name: f"({_value(f)} IS NULL AND {_raw(f)} IS NOT NULL)" for f in spec.fields}
    entries = [
        f"{{'field': {literal(f.name)}, 'reason': CASE WHEN {nulled[f.name]} THEN {clean_field(f, _raw(f))[1]} END, "
        f"'value': {_raw(f)}}}"
        for f in spec.fields
    ]
    listed = f"list_filter([{', '.join(entries)}]::{DEFECT_TYPE}[], lambda _d: _d.reason IS NOT NULL)"
    return f"CASE WHEN {' OR '.join(nulled.values())} THEN {listed} ELSE []::{DEFECT_TYPE}[] END"


def standardised_columns(spec: DatasetSpec) -> Columns:
    """(column, SQL) of every field and derived column and ``_defects``, in output order.

    Call inside ``binding()``; a derived column named like a field takes the field's place.
    """
    derived = dict(c for derive in DERIVATIONS for c in derive(spec))
    columns = [(f.name, derived.pop(f.name) if f.name in derived else _value(f)) for f in spec.fields]
    return [*columns, *derived.items(), ("_defects", _defects(spec))]


def standardise_sql(spec: DatasetSpec, source: str, columns: Callable[[DatasetSpec], Columns]) -> str:
    """``SELECT _row, <columns> FROM <source>`` with shared intermediate values bound once."""
    with binding() as bindings:
        selected = columns(spec)
    return _select(bindings, source, selected)


def _select(bindings: Bindings, source: str, selected: Columns) -> str:
    cols = ", ".join(f"{sql} AS {ident(name)}" for name, sql in selected)
    return f"SELECT _row, {cols} FROM ({bindings.wrap(source)})"


@dataclass
class Run:
    """One standardisation: its connection, spec, table names and step timings."""

    con: duckdb.DuckDBPyConnection
    spec: DatasetSpec
    source: str
    target: str
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def keys(self) -> str:
        return ident(f"_std_phonetic_{self.tag}")

    @property
    def name_parts(self) -> set[str]:
        with binding():
            return {c for c, _ in _names(self.spec)}


def _distinct_names(spec: DatasetSpec, source: str, column: str) -> str:
    """The distinct values of a derived name column (forename or surname), worked out from
    the distinct raw values of the fields it comes from, not from every row."""
    sources = {"forename": ("forename", "full"), "surname": ("surname", "full")}[column]
    fields = tuple(f for f in spec.fields if f.type == "name" and f.part in sources)
    raw = ", ".join(ident(f.name) for f in fields)
    distinct = f"(SELECT DISTINCT 0 AS _row, {raw} FROM {source})"
    only = replace(spec, fields=fields)
    return standardise_sql(only, distinct, lambda s: [c for c in _names(s) if c[0] == column])


def phonetic_keys(run: Run) -> None:
    parts = [c for c in ("forename", "surname") if c in run.name_parts]
    names = " UNION ".join(f"SELECT {c} AS name FROM ({_distinct_names(run.spec, table(run.source), c)})" for c in parts)
    run.con.execute(
        f"CREATE TEMP TABLE {run.keys} AS SELECT name, {METAPHONE}(name) AS key "
        f"FROM ({names or 'SELECT NULL::VARCHAR AS name'}) WHERE name IS NOT NULL"
    )


def create_target(run: Run) -> None:
    query = standardise_sql(run.spec, table(run.source), standardised_columns)
    parts = run.name_parts
    cols = [f"s.{ident(c)}" for c, _ in _output(run.spec) if c != "_defects"]
    joins = []
    if "forename" in parts:
        cols += ["coalesce(n.canonical, s.forename) AS forename_canonical", "kf.key AS forename_phonetic"]
        joins += [f"LEFT JOIN {NICKNAMES} n ON n.name = s.forename", f"LEFT JOIN {run.keys} kf ON kf.name = s.forename"]
    if "surname" in parts:
        cols.append("ks.key AS surname_phonetic")
        joins.append(f"LEFT JOIN {run.keys} ks ON ks.name = s.surname")
    run.con.execute(
        f"CREATE OR REPLACE TABLE {table(run.target)} AS "
        f"SELECT s._row, {', '.join(cols)}, s._defects FROM ({query}) s {' '.join(joins)}"
    )


def _output(spec: DatasetSpec) -> Columns:
    with binding():
        return standardised_columns(spec)


STEPS: list[tuple[str, Callable[[Run], None]]] = [
    ("phonetic keys of distinct names", phonetic_keys),
    ("standardise, derive and join", create_target),
]


def standardise(
    con: duckdb.DuckDBPyConnection,
    source: str,
    spec: DatasetSpec,
    target: str,
    timings: dict[str, float] | None = None,
) -> None:
    """Create table ``target`` from ``source``: see the module docstring for its columns.

    ``timings``, if given, receives the seconds each step took.
    """
    ensure_registered(con)
    run = Run(con, spec, source, target)
    try:
        for name, step in STEPS:
            started = time.perf_counter()
            step(run)
            run.timings[name] = time.perf_counter() - started
    finally:
        con.execute(f"DROP TABLE IF EXISTS {run.keys}")
    if timings is not None:
        timings.update(run.timings)


def output_columns(spec: DatasetSpec) -> list[str]:
    """The columns ``standardise`` creates for ``spec``, in order."""
    names = [c for c, _ in _output(spec)]
    with binding():
        parts = {c for c, _ in _names(spec)}
    extra = (["forename_canonical", "forename_phonetic"] if "forename" in parts else []) + (
        ["surname_phonetic"] if "surname" in parts else []
    )
    return ["_row", *names[:-1], *extra, "_defects"]
