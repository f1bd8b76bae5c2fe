"""``standardise``: a source table of raw text becomes the standardised table, in four steps.

``STEPS`` is the whole of it, in order:

1. ``clean_fields``: one pass over the source; every field through its standardiser
   (``fields.CLEANERS``), keeping the raw text beside it for the defect report.
2. ``derive``: a second projection over those values: name parts (``name_parts``), postcode
   parts (``postcodes``), address forms (``addresses``), and ``_defects``: for each value
   that was nulled, {field, reason, value} in spec order. Materialised as a temporary table.
3. ``phonetic_keys``: the Metaphone key of each *distinct* forename and surname, by a
   Python function over Arrow batches (``phonetic``).
4. ``finish``: the target table, in ``_row`` order: canonical forenames joined from the
   nickname table (``nicknames``), phonetic keys joined, address forms unpacked.

Output columns: ``_row``; one column per field, named as the field, typed by its type;
the derived columns (see ``output_columns``); ``_defects``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from matching.ingest.standardise.addresses import ADDRESS_COLUMNS, address_columns
from matching.ingest.standardise.fields import clean_field, is_address_line
from matching.ingest.standardise.name_parts import name_columns
from matching.ingest.standardise.nicknames import TABLE as NICKNAMES
from matching.ingest.standardise.phonetic import FUNCTION as METAPHONE
from matching.ingest.standardise.postcodes import postcode_columns
from matching.ingest.standardise.reference import ensure_registered
from matching.ingest.standardise.sql import ident, literal, table
from matching.specs import DatasetSpec, FieldSpec

DEFECT_TYPE = "STRUCT(field VARCHAR, reason VARCHAR, value VARCHAR)"


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
    def stage(self) -> str:
        return ident(f"_std_stage_{self.tag}")

    @property
    def keys(self) -> str:
        return ident(f"_std_phonetic_{self.tag}")

    @property
    def has_forename(self) -> bool:
        return any(c == "forename" for c, _ in name_columns(self.spec, _value, _raw))

    @property
    def has_surname(self) -> bool:
        return any(c == "surname" for c, _ in name_columns(self.spec, _value, _raw))


def _value(f: FieldSpec) -> str:
    return ident(f.name)


def _raw(f: FieldSpec) -> str:
    return ident(f"{f.name}__raw")


def clean_fields_sql(spec: DatasetSpec, source: str) -> str:
    """Step 1: every field standardised, its raw text kept as ``<field>__raw``."""
    cols = ["_row"]
    for f in spec.fields:
        value, _ = clean_field(f, ident(f.name))
        cols += [f"{ident(f.name)} AS {_raw(f)}", f"{value} AS {_value(f)}"]
    return f"SELECT {', '.join(cols)} FROM {source}"


def _postcodes(spec: DatasetSpec) -> list[tuple[str, str]]:
    return [c for f in spec.of_type("postcode") for c in postcode_columns(f, _value(f))]


def _addresses(spec: DatasetSpec) -> list[tuple[str, str]]:
    lines = [_value(f) for f in spec.address_lines if is_address_line(f)]
    return address_columns(lines) if lines else []


DERIVATIONS: list[Callable[[DatasetSpec], list[tuple[str, str]]]] = [
    lambda spec: name_columns(spec, _value, _raw),
    _postcodes,
    _addresses,
]


def defects_sql(spec: DatasetSpec) -> str:
    """``_defects``: {field, reason, value} for each non-blank value that was nulled."""
    nulled = [f"({_value(f)} IS NULL AND {_raw(f)} IS NOT NULL)" for f in spec.fields]
    entries = []
    for f in spec.fields:
        _, reason = clean_field(f, _raw(f))
        entries.append(
            f"{{'field': {literal(f.name)}, 'reason': CASE WHEN {nulled[spec.fields.index(f)]} THEN {reason} END, 'value': {_raw(f)}}}"
        )
    listed = f"list_filter([{', '.join(entries)}]::{DEFECT_TYPE}[], lambda _d: _d.reason IS NOT NULL)"
    return f"CASE WHEN {' OR '.join(nulled)} THEN {listed} ELSE []::{DEFECT_TYPE}[] END"


def derive_sql(spec: DatasetSpec, cleaned: str) -> str:
    """Step 2: field columns (a derived column of the same name takes its place), derived
    columns, ``_defects``."""
    derived = dict(c for derive in DERIVATIONS for c in derive(spec))
    cols = ["_row"]
    for f in spec.fields:
        cols.append(f"{derived.pop(f.name)} AS {_value(f)}" if f.name in derived else _value(f))
    cols += [f"{sql} AS {ident(name)}" for name, sql in derived.items()]
    cols.append(f"{defects_sql(spec)} AS _defects")
    return f"SELECT {', '.join(cols)} FROM ({cleaned})"


def derive(run: Run) -> None:
    sql = derive_sql(run.spec, clean_fields_sql(run.spec, table(run.source)))
    run.con.execute(f"CREATE TEMP TABLE {run.stage} AS {sql}")


def phonetic_keys(run: Run) -> None:
    names = [c for c, present in (("forename", run.has_forename), ("surname", run.has_surname)) if present]
    if not names:
        return
    distinct = " UNION ".join(f"SELECT {c} AS name FROM {run.stage}" for c in names)
    run.con.execute(
        f"CREATE TEMP TABLE {run.keys} AS SELECT name, {METAPHONE}(name) AS key "
        f"FROM ({distinct}) WHERE name IS NOT NULL"
    )


def finish(run: Run) -> None:
    stage_cols = [c for (c,) in run.con.execute(f"SELECT column_name FROM (DESCRIBE {run.stage})").fetchall()]
    cols = [f"s.{ident(c)}" for c in stage_cols if c not in ("_address", "_defects")]
    joins = []
    if "_address" in stage_cols:
        cols += [f"s._address.{name.removeprefix('address_')} AS {name}" for name in ADDRESS_COLUMNS]
    if run.has_forename:
        cols += ["coalesce(n.canonical, s.forename) AS forename_canonical", "kf.key AS forename_phonetic"]
        joins += [f"LEFT JOIN {NICKNAMES} n ON n.name = s.forename", f"LEFT JOIN {run.keys} kf ON kf.name = s.forename"]
    if run.has_surname:
        cols.append("ks.key AS surname_phonetic")
        joins.append(f"LEFT JOIN {run.keys} ks ON ks.name = s.surname")
    cols.append("s._defects")
    run.con.execute(
        f"CREATE OR REPLACE TABLE {table(run.target)} AS "
        f"SELECT {', '.join(cols)} FROM {run.stage} s {' '.join(joins)} ORDER BY s._row"
    )


STEPS: list[tuple[str, Callable[[Run], None]]] = [
    ("clean fields and derive columns", derive),
    ("phonetic keys of distinct names", phonetic_keys),
    ("join nicknames and phonetic keys", finish),
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
        con.execute(f"DROP TABLE IF EXISTS {run.stage}")
        con.execute(f"DROP TABLE IF EXISTS {run.keys}")
    if timings is not None:
        timings.update(run.timings)


def output_columns(spec: DatasetSpec) -> list[str]:
    """The columns ``standardise`` creates for ``spec``, in order."""
    derived = [c for derive in DERIVATIONS for c, _ in derive(spec) if c not in spec.field_names]
    derived = [c for c in derived if c != "_address"] + (list(ADDRESS_COLUMNS) if "_address" in derived else [])
    names = dict.fromkeys(c for c, _ in name_columns(spec, _value, _raw))
    extra = (["forename_canonical", "forename_phonetic"] if "forename" in names else []) + (
        ["surname_phonetic"] if "surname" in names else []
    )
    return ["_row", *spec.field_names, *derived, *extra, "_defects"]
