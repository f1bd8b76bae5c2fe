"""``standardise``: a source table of raw text becomes the standardised table.

``STEPS`` is the whole of it, in order:

1. ``build_lookups``: fields whose values repeat (names, dates, sort codes: ``LOOKUP_TYPES``)
   are standardised once per *distinct* raw value into small temporary tables. A name's
   table also holds its parts, its canonical forename (joined from the nickname table,
   ``nicknames``) and its phonetic keys (a Python function over Arrow batches, ``phonetic``).
2. ``create_target``: one query over the source with the lookups joined: every other field
   through its standardiser (``fields.CLEANERS``); the derived columns (``DERIVATIONS``:
   name parts, postcode parts, address forms); ``_defects``, {field, reason, value} for each
   value that was nulled, in spec order.

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
from dataclasses import dataclass, field

import duckdb

from matching.ingest.standardise.addresses import address_columns
from matching.ingest.standardise.fields import clean_field, is_address_line
from matching.ingest.standardise.name_parts import keyed_columns, name_columns
from matching.ingest.standardise.name_parts import lookup_columns as name_lookup_columns
from matching.ingest.standardise.nicknames import TABLE as NICKNAMES
from matching.ingest.standardise.phonetic import FUNCTION as METAPHONE
from matching.ingest.standardise.postcodes import postcode_columns
from matching.ingest.standardise.reference import ensure_registered
from matching.ingest.standardise.sql import bind, binding, ident, literal, table
from matching.specs import DatasetSpec, FieldSpec

DEFECT_TYPE = "STRUCT(field VARCHAR, reason VARCHAR, value VARCHAR)"
RAW_PREFIX = "src_value_"
Columns = list[tuple[str, str]]

# Types whose values repeat a great deal (names, dates, sort codes) and whose standardising
# is costly are standardised once per distinct raw value, in a lookup table joined back.
LOOKUP_TYPES = ("name", "date", "sort_code")


def uses_lookup(f: FieldSpec) -> bool:
    return f.type in LOOKUP_TYPES


def _raw(f: FieldSpec) -> str:
    return ident(f.name)


def _looked_up(f: FieldSpec, key: str) -> str:
    """A column of a field's lookup table, as joined into the source."""
    return ident(f"{f.name}__{key}")


def _value(f: FieldSpec) -> str:
    """The standardised value of a field: looked up, or computed once (inside ``binding()``)."""
    return _looked_up(f, "value") if uses_lookup(f) else bind(clean_field(f, _raw(f))[0])


def _reason(f: FieldSpec) -> str:
    return _looked_up(f, "defect") if uses_lookup(f) else clean_field(f, _raw(f))[1]


def _names(spec: DatasetSpec) -> Columns:
    return name_columns(spec, _looked_up)


def _postcodes(spec: DatasetSpec) -> Columns:
    return [c for f in spec.of_type("postcode") for c in postcode_columns(f, _value(f))]


def _addresses(spec: DatasetSpec) -> Columns:
    lines = [_value(f) for f in spec.address_lines if is_address_line(f)]
    return address_columns(lines) if lines else []


DERIVATIONS: list[Callable[[DatasetSpec], Columns]] = [_names, _postcodes, _addresses]


def _defects(spec: DatasetSpec) -> str:
    """``_defects``: {field, reason, value} for each non-blank value that was nulled.

    Built without a lambda (which costs per chunk even when few rows need it): each field
    gives a one-entry list when its value was nulled, and the lists are concatenated."""
    # A nulled value with no reason (31/12/9999, 'no end date') is not a defect.
    nulled = [f"({_value(f)} IS NULL AND {_raw(f)} IS NOT NULL)" for f in spec.fields]
    entries = [
        f"CASE WHEN {was_nulled} AND {_reason(f)} IS NOT NULL THEN "
        f"[{{'field': {literal(f.name)}, 'reason': {_reason(f)}, 'value': {_raw(f)}}}::{DEFECT_TYPE}] END"
        for f, was_nulled in zip(spec.fields, nulled, strict=True)
    ]
    listed = f"coalesce(list_concat({', '.join(entries)}), [])" if len(entries) > 1 else f"coalesce({entries[0]}, [])"
    return f"CASE WHEN {' OR '.join(nulled)} THEN {listed} ELSE []::{DEFECT_TYPE}[] END"


def standardised_columns(spec: DatasetSpec) -> Columns:
    """(column, SQL) of every field and derived column and ``_defects``, in output order.

    Call inside ``binding()``; a derived column named like a field takes the field's place."""
    derived = dict(c for derive in DERIVATIONS for c in derive(spec))
    columns = [(f.name, derived.pop(f.name) if f.name in derived else _value(f)) for f in spec.fields]
    return [*columns, *derived.items(), ("_defects", _defects(spec))]


def lookup_sql(f: FieldSpec, source: str) -> str:
    """A field's lookup table: each distinct non-blank raw value, standardised once."""
    with binding() as bindings:
        if f.type == "name":
            computed = name_lookup_columns(f, "raw")
        else:
            value, defect = clean_field(f, "raw")
            computed = [("value", value), ("defect", defect)]
        value = bind(dict(computed)["value"])
        computed = [(k, value if k == "value" else f"CASE WHEN {value} IS NULL THEN {sql} END" if k == "defect" else sql) for k, sql in computed]
    distinct = f"(SELECT DISTINCT {_raw(f)} AS raw FROM {source} WHERE {_raw(f)} IS NOT NULL)"
    cols = ", ".join(f"{sql} AS {_looked_up(f, key)}" for key, sql in computed)
    looked_up = f"SELECT raw, {cols} FROM ({bindings.wrap(distinct)})"
    keyed = keyed_columns(f, lambda key: f"l.{_looked_up(f, key)}", METAPHONE, "n")
    if not keyed:
        return looked_up
    nicknames = f" LEFT JOIN {NICKNAMES} n ON n.name = l.{_looked_up(f, 'first')}" if f.part in ("forename", "full") else ""
    extra = ", ".join(f"{sql} AS {_looked_up(f, key)}" for key, sql in keyed)
    return f"SELECT l.*, {extra} FROM ({looked_up}) l{nicknames}"


def _joined(spec: DatasetSpec, source: str, lookups: dict[str, str]) -> str:
    """The source with every lookup table joined on its field's raw value."""
    if not lookups:
        return source
    cols = ", ".join(f"l{i}.* EXCLUDE (raw)" for i in range(len(lookups)))
    joins = " ".join(f"LEFT JOIN {t} l{i} ON l{i}.raw = s.{ident(name)}" for i, (name, t) in enumerate(lookups.items()))
    return f"(SELECT s.*, {cols} FROM {source} s {joins})"


def standardise_sql(
    spec: DatasetSpec, source: str, columns: Callable[[DatasetSpec], Columns], keep_raw: tuple[str, ...] = (),
) -> str:
    """``SELECT _row, <columns> FROM <source>`` with shared intermediate values bound once,
    and each field of ``keep_raw`` as it came (``src_value_<field>``)."""
    with binding() as bindings:
        selected = columns(spec)
    cols = ", ".join(f"{sql} AS {ident(name)}" for name, sql in selected)
    raw = "".join(f", {ident(name)} AS {ident(RAW_PREFIX + name)}" for name in keep_raw)
    return f"SELECT _row, {cols}{raw} FROM ({bindings.wrap(source)})"


@dataclass
class Run:
    """One standardisation: its connection, spec, tables and step timings."""

    con: duckdb.DuckDBPyConnection
    spec: DatasetSpec
    source: str
    target: str
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    lookups: dict[str, str] = field(default_factory=dict)  # field name -> lookup table
    keep_raw: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)


def build_lookups(run: Run) -> None:
    for f in run.spec.fields:
        if uses_lookup(f):
            name = ident(f"_std_{run.tag}_{f.name}")
            run.con.execute(f"CREATE TEMP TABLE {name} AS {lookup_sql(f, table(run.source))}")
            run.lookups[f.name] = name


def create_target(run: Run) -> None:
    query = standardise_sql(run.spec, _joined(run.spec, table(run.source), run.lookups), standardised_columns, run.keep_raw)
    run.con.execute(f"CREATE OR REPLACE TABLE {table(run.target)} AS {query}")


STEPS: list[tuple[str, Callable[[Run], None]]] = [
    ("standardise distinct names, dates and sort codes", build_lookups),
    ("standardise every row and join the lookups", create_target),
]


def standardise(
    con: duckdb.DuckDBPyConnection,
    source: str,
    spec: DatasetSpec,
    target: str,
    timings: dict[str, float] | None = None,
    keep_raw: tuple[str, ...] = (),
) -> None:
    """Create table ``target`` from ``source``: see the module docstring for its columns.

    ``timings``, if given, receives the seconds each step took. Each field named in
    ``keep_raw`` is also kept as it came, as ``src_value_<field>`` (after the other columns):
    ingest's rejects quote it, and joining the source back for it cost a second a million rows.
    """
    ensure_registered(con)
    run = Run(con, spec, source, target, keep_raw=keep_raw)
    try:
        for name, step in STEPS:
            started = time.perf_counter()
            step(run)
            run.timings[name] = time.perf_counter() - started
    finally:
        for lookup in run.lookups.values():
            con.execute(f"DROP TABLE IF EXISTS {lookup}")
    if timings is not None:
        timings.update(run.timings)


def output_columns(spec: DatasetSpec) -> list[str]:
    """The columns ``standardise`` creates for ``spec``, in order."""
    with binding():
        return ["_row", *(c for c, _ in standardised_columns(spec))]
