"""The records a job links: the latest submission of each kind from each body."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import duckdb

from matching.errors import UserError
from matching.ingest.standardise.household import MAX_HOUSEHOLD
from matching.ingest.standardise.sql import ident, literal
from matching.ingest.submissions import Submission, latest
from matching.jobs.config import JobConfig, LookupConfig, first_key_found, is_person_key
from matching.linkage.settings import columns_used, linkage_columns
from matching.specs import DatasetSpec
from matching.workspace import Workspace, resolve_workspace


@dataclass(frozen=True)
class JobInputs:
    """Submissions on each side of a job, loaded as ``left_records`` and ``right_records``, and
    those of each of its lookups (in the job's order; none when the kind is not ingested)."""

    left: tuple[Submission, ...]
    right: tuple[Submission, ...]
    lookups: tuple[tuple[LookupConfig, tuple[Submission, ...]], ...] = ()

    @property
    def submissions(self) -> tuple[Submission, ...]:
        seen: dict[str, Submission] = {}
        for s in self.left + self.right + tuple(s for _, subs in self.lookups for s in subs):
            seen[s.submission_id] = s
        return tuple(seen.values())

    def side_lookups(self, side: str) -> list[tuple[LookupConfig, list[str]]]:
        """The lookups of one side, each with its submissions' Parquet files."""
        return [(lookup, [s.dataset_path for s in subs]) for lookup, subs in self.lookups if lookup.applies_to(side)]


def select_inputs(ws: Workspace, job: JobConfig) -> JobInputs:
    """The latest submissions for both sides; a missing side says what to ingest."""
    left = latest(ws, job.left.kind)
    right = left if job.left.kind == job.right.kind else latest(ws, job.right.kind)
    missing = [k for k, subs in ((job.left.kind, left), (job.right.kind, right)) if not subs]
    if missing:
        kinds = " and ".join(dict.fromkeys(missing))
        named = "" if ws.root == resolve_workspace() else f" --workspace {shlex.quote(str(ws.root))}"
        raise UserError(
            f"Job '{job.job}' needs {kinds}, which {'have' if len(set(missing)) > 1 else 'has'} not been ingested into {ws.root}.\n"
            f"  Fix: matching{named} ingest {missing[0]} FILE --body BODY (or matching{named} ingest-dir FOLDER)."
        )
    if job.across_bodies and len(left) < 2:
        raise UserError(
            f"Job '{job.job}' compares {job.left.kind} across bodies, but only "
            f"{', '.join(s.body for s in left)} has submitted it.\n  Fix: ingest another body's {job.left.kind}."
        )
    lookups = tuple((lookup, tuple(latest(ws, lookup.kind))) for lookup in job.lookups)
    return JobInputs(tuple(left), tuple(right), lookups)


def lookup_notes(job: JobConfig, inputs: JobInputs) -> list[str]:
    """A note for each kind looked up that a body on a side has not submitted: those records'
    looked-up columns are missing, so the job links them with less evidence. Lookups of one
    kind that miss the same bodies share a note, as they share its fix."""
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[LookupConfig, list[Submission]]]] = {}
    for lookup, subs in inputs.lookups:
        sides = [s for side, side_subs in (("left", inputs.left), ("right", inputs.right)) if lookup.applies_to(side) for s in side_subs]
        missing = tuple(sorted({s.body for s in sides} - {s.body for s in subs}))
        if missing:
            groups.setdefault((lookup.kind, missing), []).append((lookup, sides))
    notes = []
    for (kind, missing), found in groups.items():
        one = len(missing) == 1
        fix = f"--body {missing[0]}" if one else f"--body BODY for each of {', '.join(missing)}"
        each = [f"each {' and '.join(dict.fromkeys(s.kind for s in sides))} record" for _, sides in found]
        by = [f"(by {lookup.on})" for lookup, _ in found]
        looks = f"{each[0]} up in its own body's {kind} {by[0]}" + "".join(f", and {e} {b}" for e, b in zip(each[1:], by[1:], strict=True))
        columns = [c for lookup, _ in found for c in lookup.column_types()]
        notes.append(
            f"'{job.job}' looks {looks}, which {', '.join(missing)} {'has' if one else 'have'} not submitted: "
            f"for {'its' if one else 'their'} records {', '.join(columns)} are missing, so the job links them with less "
            f"evidence. Fix: matching ingest {kind} FILE {fix}, then run the job again."
        )
    return notes


def file_columns(con: duckdb.DuckDBPyConnection, paths: list[str]) -> set[str]:
    """The columns Parquet files have between them (read from their metadata)."""
    return {name for name, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_list(paths)}, union_by_name = true)").fetchall()}


# A list lookup's key held by more records than this (a care home, a hall of residence, a
# placeholder UPRN) gives NULL, not everyone's values: as a household's surnames at ingest.
MAX_LIST = MAX_HOUSEHOLD


def records_sql(
    con: duckdb.DuckDBPyConnection,
    paths: list[str],
    lookups: list[tuple[LookupConfig, list[str]]],
    *,
    row_numbers: bool = False,
) -> str:
    """SELECT of one side's records from its Parquet ``paths``, with the columns each lookup
    adds, taken from the record's own body's records of the looked-up kind: another body's
    data would be shown, in an explanation, without that body's declaration or audit trail.
    A column is NULL where no such record has the key, and for every record when the lookup
    has no files or a file lacks it (ingested by an earlier version: ``stale_ingest_notes``
    says so). ``row_numbers`` keeps each record's file and row in it (``filename``,
    ``file_row_number``)."""
    options = ", file_row_number = true, filename = true" if row_numbers else ""
    source = f"read_parquet({_list(paths)}, union_by_name = true{options})"
    if not lookups:
        return f"SELECT * FROM {source}"
    own = file_columns(con, paths)
    read: dict[tuple[str, ...], set[str]] = {}  # two lookups of one kind (the census) read its files once
    cols: list[str] = []
    joins: list[str] = []
    for i, (lookup, files) in enumerate(lookups):
        if files and tuple(files) not in read:
            read[tuple(files)] = file_columns(con, files)
        theirs = read[tuple(files)] if files else set()
        # The keys both the side's files and the looked-up kind's hold, in the config's order.
        keys = [key for key in lookup.keys if all(o in own and t in theirs for o, t in key)]
        if not keys:
            cols += [f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in lookup.column_types().items()]
            continue
        aliases = []
        for j, key in enumerate(keys):
            alias = f"_lookup_{i}_{j}"
            aliases.append(alias)
            key_cols = ", ".join(f"_src.{ident(t)} AS _key_{n}" for n, (_, t) in enumerate(key))
            by = ", ".join(f"_src.{ident(t)}" for _, t in key)
            if lookup.list:  # every record's distinct values, sorted (so a run is reproducible)
                value = "CASE WHEN count(*) <= {max} THEN list_sort(list(DISTINCT {c}) FILTER (WHERE {c} IS NOT NULL)) END"
                one = f"GROUP BY {by}, _src.body"
            else:  # one record's values: the latest by latest_by, then by record id
                value = "{c}"
                latest = f"_src.{ident(lookup.latest_by)} DESC NULLS LAST, " if lookup.latest_by in theirs else ""
                window = f"PARTITION BY {by}, _src.body"
                one = f"QUALIFY row_number() OVER ({window} ORDER BY {latest}_src.record_id) = 1"
                if is_person_key(key):  # two people of one name and date of birth: neither is taken
                    rk = f"_src.{ident(lookup.spec.record_key)}"
                    one += f" AND min({rk}) OVER ({window}) = max({rk}) OVER ({window})"
            taken = ", ".join(
                (value.format(c=f"_src.{ident(c)}", max=MAX_LIST) if c in theirs else f"CAST(NULL AS {t})") + f" AS {ident(c)}"
                for c, t in zip(lookup.columns, lookup.column_types().values(), strict=True)
            )
            present = " AND ".join(f"_src.{ident(t)} IS NOT NULL" for _, t in key)
            on = " AND ".join(f"_records.{ident(o)} = {alias}._key_{n}" for n, (o, _) in enumerate(key))
            joins.append(
                f"LEFT JOIN (SELECT {key_cols}, _src.body AS _body, {taken} "
                f"FROM read_parquet({_list(files)}, union_by_name = true) _src WHERE {present} {one}) {alias} "
                f"ON {on} AND _records.body = {alias}._body"
            )
        when = first_key_found(keys, [f"{a}._body IS NOT NULL" for a in aliases], lambda c: f"_records.{ident(c)}")
        for c in lookup.columns:
            found = [f"WHEN {w} THEN {a}.{ident(c)}" for w, a in zip(when, aliases, strict=True)]
            value = f"{aliases[0]}.{ident(c)}" if len(aliases) == 1 else f"CASE {' '.join(found)} END"
            cols.append(f"{value} AS {ident(lookup.prefix + c)}")
    return f"SELECT _records.*, {', '.join(cols)} FROM {source} _records {' '.join(joins)}"


def stale_ingest_notes(con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: JobInputs) -> list[str]:
    """A note for each submission that lacks a column the job compares or looks up, and that
    ingest now writes for its kind (``household_surnames``, say): it was ingested by an earlier
    version. Its comparisons then count as missing, so the job still runs, with less evidence."""
    from matching.rules.compile import dataset_column_types

    used = columns_used(job)
    checks: list[tuple[DatasetSpec, tuple[Submission, ...], set[str], str]] = [
        (spec, subs, used | {c for lk in job.lookups if lk.applies_to(side) for c in lk.own_key_columns()}, "compares")
        for side, spec, subs in (("left", job.left, inputs.left), ("right", job.right, inputs.right))
    ]
    checks += [(lk.spec, subs, {*lk.their_key_columns(), *lk.columns} | ({lk.latest_by} if lk.latest_by else set()), "looks up")
               for lk, subs in inputs.lookups]
    notes = []
    for spec, subs, wanted, verb in checks:
        declared = dataset_column_types(spec)
        for sub in subs:
            have = file_columns(con, [sub.dataset_path])
            stale = sorted(c for c in wanted if c in declared and c not in have)
            note = (
                f"{spec.kind} from {sub.body} ({sub.submission_id}) was ingested without {', '.join(stale)}, which "
                f"'{job.job}' {verb}: those comparisons count as missing. Fix: ingest the file again "
                f"(matching ingest {spec.kind} FILE --body {sub.body} --force)."
            )
            if stale and note not in notes:
                notes.append(note)
    return notes


@cache
def standard_column_types() -> dict[str, str]:
    """The DuckDB type of every column ingest writes, across all dataset kinds."""
    from matching.rules.compile import dataset_column_types
    from matching.specs import list_kinds, load_spec

    types: dict[str, str] = {}
    for kind in list_kinds():
        types.update(dataset_column_types(load_spec(kind)))
    return types


def _paths(subs: tuple[Submission, ...]) -> str:
    return _list([s.dataset_path for s in subs])


def _list(paths: list[str]) -> str:
    return "[" + ", ".join(literal(p) for p in paths) + "]"


def load_records(con: duckdb.DuckDBPyConnection, inputs: JobInputs) -> None:
    """Views ``left_records`` and ``right_records`` over the Parquet, with ``unique_id`` = body/record id.

    Views, not tables: linkage copies only the columns it compares, and the rule reads the
    full records of the few linked pairs straight from Parquet.
    """
    for side, subs in (("left", inputs.left), ("right", inputs.right)):
        records = records_sql(con, [s.dataset_path for s in subs], inputs.side_lookups(side))
        con.execute(f"CREATE OR REPLACE VIEW {side}_records AS SELECT body || '/' || record_id AS unique_id, * FROM ({records})")


def unreadable(inputs: JobInputs) -> list[tuple[Submission, str]]:
    """The inputs' workspace files that cannot be read whole (missing, cut short, damaged on
    disk), each with DuckDB's reason: read only when a job has failed, to say which."""
    found = []
    for sub in inputs.submissions:
        try:
            with duckdb.connect() as con:
                con.execute(
                    f"SELECT count(*), max(length(CAST(COLUMNS(*) AS VARCHAR))) FROM read_parquet({literal(sub.dataset_path)})"
                ).fetchall()
        except duckdb.Error as exc:
            found.append((sub, str(exc).splitlines()[0]))
    return found


@contextmanager
def damaged_inputs_named(job: JobConfig, inputs: JobInputs) -> Iterator[None]:
    """Turn a failure caused by a damaged workspace file into a message naming the file and
    how to replace it (ingesting the body's file again); any other failure passes through."""
    try:
        yield
    except UserError:
        raise  # the input's own problem, already said
    except Exception:
        damaged = unreadable(inputs)
        if not damaged:
            raise
        lines = [f"  {s.kind} from {s.body} (submission {s.submission_id}, ingested from {s.file_name}): {why}"
                 for s, why in damaged]
        first = damaged[0][0]
        raise UserError(
            f"Job '{job.job}': {'a file' if len(damaged) == 1 else 'files'} in the workspace cannot be read "
            "(missing, cut short or damaged on disk since it was ingested); nothing was written.\n"
            + "\n".join(lines)
            + f"\n  Fix: ingest the body's file again, as before: matching ingest {first.kind} {shlex.quote(first.file_path)} "
            f"--body {first.body}{f' --extract-date {first.extract_date}' if first.extract_date else ''} --force "
            "(with the same --mapping file, if one was used)."
        ) from None


# Scoring packs a pair's two ids into one 64-bit integer (matching.linkage.blocking).
MAX_ROW_ID = 2**31


def linkage_tables(
    con: duckdb.DuckDBPyConnection, job: JobConfig, inputs: JobInputs, *, row_ids: bool = False
) -> list[tuple[str, str]]:
    """Project both sides onto the same linkage columns: (table name, display name) pairs.

    A column that one side lacks is NULL there, typed as on the other side. For a job
    across bodies each body is its own input, so only pairs across bodies are compared.

    ``unique_id`` is ``body/record id``, which training's samples and analysts' labels
    key on. With ``row_ids`` it is an integer instead, for scoring: blocking joins and groups
    pairs of them (``matching.linkage.blocking``), and Splink builds and joins a key from it
    for every pair it scores. Scoring carries each record's body and record id
    (``CARRIED_COLUMNS``), so nothing downstream reads it. The integers are unique across the
    tables: a record's row among the table's files, times the number of tables, plus the
    table's position, so a record's table is its id modulo their number. Within a body they
    follow ``body/record id`` instead, so each pair keeps the orientation (lower id on the
    left) that Splink gives a dedupe.
    """
    needed = linkage_columns(job)
    types: dict[str, dict[str, str]] = {}
    for side in ("left", "right"):
        types[side] = {n: t for n, t, *_ in con.execute(f"DESCRIBE {side}_records").fetchall()}
    known = check_columns(job, needed, types)

    count = 1 if job.within_body else len(inputs.left) if job.across_bodies else 2
    file_offsets: dict[str, str] = {}  # per side: SQL for the rows before a record's file

    def select(side: str, position: int) -> str:
        """The table's SELECT over the side's records (for row ids, straight from its Parquet)."""
        cols = side_projection(needed, types, known, side, quote='"')
        if not row_ids:
            return f"SELECT {', '.join(cols)} FROM {side}_records"
        if job.within_body:
            cols[0] = "row_number() OVER (ORDER BY unique_id) AS unique_id"
            return f"SELECT {', '.join(cols)} FROM {side}_records"
        subs = inputs.left if side == "left" else inputs.right
        if side not in file_offsets:
            file_offsets[side] = _file_offsets(con, job, side, subs, count)
        cols[0] = f"(file_row_number + {file_offsets[side]}) * {count} + {position} AS unique_id"
        records = records_sql(con, [s.dataset_path for s in subs], inputs.side_lookups(side), row_numbers=True)
        return f"SELECT {', '.join(cols)} FROM ({records})"

    if job.within_body:
        made = [("link_all", "all", select("left", 0))]
    elif job.across_bodies:
        made = [(f"link_{s.body.replace('-', '_')}", s.body, f"{select('left', i)} WHERE body = {literal(s.body)}")
                for i, s in enumerate(inputs.left)]
    else:
        made = [(f"link_{side}", side, select(side, i)) for i, side in enumerate(("left", "right"))]
    create_tables(con, [(name, query) for name, _, query in made])
    return [(name, display) for name, display, _ in made]


def with_per_record(
    con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], per_record: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Views over the linkage tables adding each per-record column (name: SQL over a record's
    columns, ``matching.linkage.hoist``), for Splink to read: DuckDB works a column out as a
    record is read, once per record, and only where Splink's SQL reads it."""
    if not per_record:
        return tables
    extra = ", ".join(f"{sql} AS {ident(name)}" for name, sql in per_record.items())
    views = []
    for name, display in tables:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name}_per_record AS SELECT *, {extra} FROM {name}")
        views.append((f"{name}_per_record", display))
    return views


def create_tables(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    """CREATE OR REPLACE the (name, query) tables at once, each on its own cursor: DuckDB reads a Parquet
    row group (up to about 120,000 rows, a council's whole file) on one thread, so one table
    at a time would leave the other cores idle."""

    def create(table: tuple[str, str]) -> None:
        with con.cursor() as cursor:
            cursor.execute(f"CREATE OR REPLACE TABLE {table[0]} AS {table[1]}")

    with ThreadPoolExecutor(max_workers=max(1, min(len(tables), os.cpu_count() or 1))) as pool:
        list(pool.map(create, tables))


def _file_offsets(con: duckdb.DuckDBPyConnection, job: JobConfig, side: str, subs: tuple[Submission, ...], count: int) -> str:
    """SQL for the rows of a side's files before a record's file, so that a record's row in its
    file plus it numbers the records of the side's table; across bodies each table holds one
    body's file, so none. Refuses a side too big to number (read from the files' metadata)."""
    sizes = dict(con.execute(f"SELECT file_name, num_rows FROM parquet_file_metadata({_paths(subs)})").fetchall())
    if job.across_bodies:
        rows, offsets = max(sizes.values()), "0"
    else:
        cases, rows = [], 0
        for sub in subs:
            cases.append(f"WHEN {literal(sub.dataset_path)} THEN {rows}")
            rows += int(sizes[sub.dataset_path])
        offsets = f"CASE filename {' '.join(cases)} END"
    if (rows + 1) * count >= MAX_ROW_ID:
        raise UserError(
            f"Job '{job.job}': {rows:,} {side} records are more than one DuckDB run can number.\n"
            "  Fix: run it on Spark (--backend spark), or split the submissions."
        )
    return offsets


def side_projection(
    needed: list[str],
    types: dict[str, dict[str, str]],
    known: dict[str, str],
    side: str,
    *,
    quote: str,
    ingest_type: Callable[[str], str] = lambda t: t,
) -> list[str]:
    """One side's SELECT list for the linkage tables, on either backend.

    A column the side lacks is NULL there (its comparison falls to the null level), typed as
    on the other side, or else as ingest types it for any kind (``ingest_type`` turns that
    DuckDB type into the backend's).
    """
    other = "right" if side == "left" else "left"
    cols = ["unique_id"]
    for col in needed:
        if col in types[side]:
            cols.append(f"{quote}{col}{quote}")
        else:
            typed = types[other][col] if col in types[other] else ingest_type(known[col])
            cols.append(f"CAST(NULL AS {typed}) AS {quote}{col}{quote}")
    return cols


def check_columns(job: JobConfig, needed: list[str], types: dict[str, dict[str, str]]) -> dict[str, str]:
    """Refuse a column no dataset kind has; return ingest's standard column types of the
    columns neither side has, which type the NULL standing in for them. (Every kind's types
    are read only then: reading them takes a fifth of a second.)"""
    missing = [col for col in needed if col not in types["left"] and col not in types["right"]]
    known = {col: t for col, t in standard_column_types().items() if col in missing} if missing else {}
    for col in missing:
        if col not in known:
            raise UserError(
                f"{job.path}: linkage uses column '{col}', which no dataset kind has.\n"
                f"  Columns of {job.left.kind} and {job.right.kind}: {', '.join(sorted(set(types['left']) | set(types['right'])))}"
            )
    return known
