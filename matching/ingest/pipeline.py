"""Ingest one submitted file: read, map headers, standardise, reject, write, account.

For every ingest, rows read = rows loaded + rows rejected (checked here and in tests); rows
of empty cells alone are not records, and are counted apart (blank rows skipped).
A file that cannot be used at all, or none of whose records can be loaded, raises
UnusableFileError before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from matching.cells import neutralise
from matching.errors import DuplicateSubmissionError, UnusableFileError, UserError
from matching.ingest import standardise as std
from matching.ingest.headers import HeaderMapping, load_mapping_file, map_headers
from matching.ingest.readers import (
    BLANKS,
    DELIMITERS,
    MalformedLine,
    ReadResult,
    column_letters,
    read_submission,
)
from matching.ingest.standardise import household
from matching.ingest.standardise.pipeline import RAW_PREFIX
from matching.ingest.standardise.sql import ident, literal
from matching.ingest.submissions import (
    Submission,
    check_body,
    find_same_file,
    latest,
    save,
    sha256_file,
)
from matching.specs import DatasetSpec, load_spec
from matching.wording import plural
from matching.workspace import Workspace, claim, remove_leftovers, temporary_beside


@dataclass
class IngestResult:
    submission: Submission

    def to_json(self) -> dict[str, Any]:
        s = self.submission
        return {
            "submission_id": s.submission_id,
            "rows_read": s.rows_read,
            "rows_loaded": s.rows_loaded,
            "rows_rejected": s.rows_rejected,
            "rejects_by_reason": s.rejects_by_reason,
            "blank_rows_skipped": s.blank_rows_skipped,
            "dataset_path": s.dataset_path,
            "rejects_path": s.rejects_path,
            "warnings": s.warnings,
        }


@contextmanager
def connect(ws: Workspace, memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection that spills into the workspace's tmp folder."""
    remove_leftovers(ws)  # what killed processes left: spill files and records
    tmp = ws.tmp / f"duckdb-{claim(ws)}-{uuid.uuid4().hex[:8]}"
    # DuckDB makes its own folder but not the parents: a workspace whose tmp/ was cleared
    # to free space would fail at the first spill, an hour into a big run.
    limit = check_memory_limit(memory_limit) if memory_limit else default_memory_limit()
    ws.tmp.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"temp_directory": str(tmp), "preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")  # rich reports progress, not DuckDB
    con.execute(f"SET memory_limit = {literal(limit)}")
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def scratch_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The connection's own spill folder (``connect``), for files it alone needs: removed
    with it, or, if the process is killed, by the next command (``remove_leftovers``)."""
    path = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
    path.mkdir(parents=True, exist_ok=True)
    return path


# What DuckDB takes for memory_limit: a number and a unit (8GB, 8G, 500MiB, bare bytes) or a
# percentage of the machine's memory (75%).
_MEMORY = re.compile(r"(\d+(?:\.\d+)?) ?(B|K|KB|KIB|M|MB|MIB|G|GB|GIB|T|TB|TIB|%)?")
_UNIT_BYTES = {"": 1.0, "B": 1.0, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9, "T": 1e12, "TB": 1e12,
               "KIB": 2.0**10, "MIB": 2.0**20, "GIB": 2.0**30, "TIB": 2.0**40}
# Below this DuckDB cannot hold even a small job's working set, and fails deep in a query.
MIN_MEMORY_BYTES = 64 * 10**6


def check_memory_limit(value: str) -> str:
    """``--memory-limit`` as DuckDB takes it ('8GB', '8G', '500MiB', '75%'), or a message saying how."""

    m = _MEMORY.fullmatch(value.strip().upper())
    if not m:
        raise UserError(f"--memory-limit {value}: not an amount of memory.\n  Fix: give a number and a unit, e.g. 8GB or 500MB, or a share of RAM, e.g. 50%.")
    unit = m.group(2) or ""
    total = machine_memory()
    amount = float(m.group(1)) * (total / 100 if unit == "%" else _UNIT_BYTES[unit])
    if amount < MIN_MEMORY_BYTES:
        raise UserError(f"--memory-limit {value}: too little for DuckDB to link anything.\n  Fix: give at least 64MB (the default is 75% of RAM).")
    if amount > total:
        # DuckDB would not spill before the system ran out, and the kernel would kill the run.
        raise UserError(
            f"--memory-limit {value}: more than this machine has ({total / 2**30:.1f} GiB); DuckDB would not spill "
            "to disk before memory ran out, and the system would kill the run.\n"
            f"  Fix: give at most {int(total / 2**20)}MB, or leave it out (75% of RAM)."
        )
    if unit == "%":
        return f"{int(amount / 2**20)}MB"
    return f"{m.group(1)}{unit or 'B'}"  # a bare number is bytes


def machine_memory() -> int:
    """The memory this process may use, in bytes: the machine's, or a container's limit
    (cgroup v2 memory.max, v1 memory.limit_in_bytes) where that is less."""
    import psutil

    total = int(psutil.virtual_memory().total)
    for limit in (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")):
        try:
            text = limit.read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            return int(text)
    return total


def default_memory_limit() -> str:
    """75% of this machine's (or container's) memory: DuckDB spills to the workspace beyond it."""
    return f"{int(machine_memory() * 0.75 / 2**20)}MB"


def _submission_id(kind: str, body: str, sha: str, now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{kind}-{body}-{sha[:8]}"


def _build_source(con: duckdb.DuckDBPyConnection, read: ReadResult, spec: DatasetSpec, mapping: HeaderMapping) -> None:
    """Table ``src``: each field's raw text (NULL where not supplied), without the blanks
    around it, and NULL where nothing else is left.

    The values are copied as read, then the few with blanks at either end are trimmed in
    place: trimming every value as it was copied cost 2.5 s of a million-row payroll file's
    ingest (copying it, 0.3 s), and trimming a file whose every value is padded costs no more
    this way."""
    cols = ["_row"]
    for f in spec.fields:
        idx = mapping.columns.get(f.name)
        cols.append(f"{read.columns[idx] if idx is not None else 'CAST(NULL AS VARCHAR)'} AS {ident(f.name)}")
    con.execute(f"CREATE TEMP TABLE src AS SELECT {', '.join(cols)} FROM {read.table}")
    blanks = ", ".join(str(ord(ch)) for ch in BLANKS)
    for f in spec.fields:
        if f.name in mapping.columns:
            col = ident(f.name)
            con.execute(
                f"UPDATE src SET {col} = NULLIF(trim({col}, {literal(BLANKS)}), '') "
                f"WHERE {col} = '' OR ascii({col}) IN ({blanks}) OR ascii({col}[-1:]) IN ({blanks})"
            )


def _reject_sql(spec: DatasetSpec) -> str:
    """SQL over `std` giving, per row, the first failing required field and its reason."""
    whens = []
    for f in spec.required_fields:
        col = ident(f.name)
        defect = (
            f"list_extract(list_transform(list_filter(_defects, lambda d: d.field = {literal(f.name)}), lambda d: d.reason), 1)"
        )
        whens.append(
            f"WHEN {col} IS NULL THEN struct_pack(field := {literal(f.name)}, "
            f"reason := coalesce({defect}, CASE WHEN {ident(RAW_PREFIX + f.name)} IS NULL THEN 'missing' "
            f"ELSE 'a placeholder for none (such as 31/12/9999), but a value is required' END), "
            f"value := {ident(RAW_PREFIX + f.name)})"
        )
    return "CASE " + " ".join(whens) + " END" if whens else "NULL"


def ingest_file(
    kind: str,
    path: str | os.PathLike[str],
    *,
    body: str,
    workspace: str | os.PathLike[str] | Workspace | None = None,
    mapping_file: str | os.PathLike[str] | None = None,
    force: bool = False,
    memory_limit: str | None = None,
    extract_date: dt.date | None = None,
) -> IngestResult:
    """Ingest one file of ``kind`` submitted by ``body`` into the workspace.

    ``extract_date`` is the date the data was extracted (true on); it defaults to today.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.at(workspace)
    spec = load_spec(kind)
    check_body(body)
    if extract_date is not None and extract_date > dt.date.today() + dt.timedelta(days=1):
        # A run judges "now" by its inputs' latest extract date: a future one would date every
        # inconsistency's duration, and every run's default as-at date, from then.
        raise UserError(
            f"--extract-date {extract_date.isoformat()}: is in the future; data cannot have been extracted then.\n"
            "  Fix: give the date the body extracted the file (YYYY-MM-DD), or leave it out for today."
        )
    file = Path(path)
    if not file.exists():
        raise UnusableFileError(f"{file}: no such file.")
    if file.is_dir():
        raise UnusableFileError(f"{file}: is a folder, not a file.")
    mapping = load_mapping_file(Path(mapping_file)) if mapping_file else None
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sha = sha256_file(file)
    previous = find_same_file(ws, kind, body, sha)
    if previous and not force:
        raise DuplicateSubmissionError(
            f"{file.name}: this exact file (SHA-256 {sha[:12]}…) was already ingested for {kind}/{body} "
            f"as submission {previous.submission_id}.\n  Use --force to ingest it again as a new submission.",
            previous.submission_id,
        )
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    submission_id = _submission_id(kind, body, sha, now)
    like = _body_like_another(ws, body)  # before this file's own folder is made
    ws.tmp.mkdir(parents=True, exist_ok=True)

    with connect(ws, memory_limit) as con:
        read = read_submission(con, file, "raw_in", scratch_dir(con))
        timings["read"] = time.perf_counter() - t0
        # The header first: a sheet of notes before the sheet of records is not "no records".
        header_map = map_headers(spec, read.headers, file.name, mapping, read.header_candidates)
        if read.rows_read == 0:
            blank = f" (only {read.blank_rows} blank row{'s' if read.blank_rows != 1 else ''})" if read.blank_rows else ""
            raise UnusableFileError(
                f"{file.name}: the file has a header row but no records{blank}.\n"
                "  Submit the file with its records, or check the export did not stop early."
            )
        if read.records == 0:
            m = read.malformed[0]
            seen = {d: m.text.count(d) for d in DELIMITERS if d != read.delimiter}
            other = max(seen, key=lambda d: seen[d])
            hint = (
                f"The header uses {DELIMITERS[read.delimiter or ',']} but the records seem to use "
                f"{DELIMITERS[other]}; export the file again with one delimiter."
                if seen[other]
                else "Check the file was exported with one delimiter (comma, pipe or tab) throughout."
            )
            raise UnusableFileError(
                f"{file.name}: none of the {len(read.malformed)} records could be split into the header's "
                f"{len(read.headers)} fields (line {m.line}: {m.reason}).\n  {hint}"
            )
        _build_source(con, read, spec, header_map)
        t1 = time.perf_counter()
        std.register(con)
        std.standardise(con, "src", spec, "std", keep_raw=tuple(f.name for f in spec.required_fields))
        timings["standardise"] = time.perf_counter() - t1

        t2 = time.perf_counter()
        key = ident(spec.record_key)
        con.execute(f"CREATE TEMP VIEW checked AS SELECT *, {_reject_sql(spec)} AS _reject FROM std")
        # Duplicate record keys: the first occurrence is kept, later ones rejected.
        raw_cols = " || '\x1f' || ".join(f"coalesce({c}, '')" for c in read.columns) or "''"
        con.execute(
            f"""
            CREATE TEMP TABLE dup AS
            WITH accepted AS (
                SELECT _row, {key} AS k FROM checked WHERE _reject IS NULL
            ), repeated AS (
                SELECT k FROM accepted GROUP BY k HAVING count(*) > 1
            ), keyed AS (
                -- only rows whose key repeats are compared in full (cheap when keys are unique)
                SELECT a._row, a.k, hash({raw_cols}) AS h
                FROM accepted a JOIN repeated USING (k) JOIN {read.table} r USING (_row)
            ), ranked AS (
                SELECT _row, k, h,
                       first_value(_row) OVER w AS first_row,
                       first_value(h) OVER w AS first_h,
                       row_number() OVER w AS n
                FROM keyed WINDOW w AS (PARTITION BY k ORDER BY _row)
            )
            SELECT _row, first_row, h = first_h AS identical FROM ranked WHERE n > 1
            """
        )
        con.execute(
            f"""
            CREATE TEMP VIEW final AS
            SELECT c.*, CASE
                WHEN c._reject IS NOT NULL THEN c._reject
                WHEN d._row IS NOT NULL THEN struct_pack(
                    field := {literal(spec.record_key)},
                    reason := CASE WHEN d.identical THEN 'duplicate record: same as row ' || d.first_row
                                   ELSE 'duplicate record key: row ' || d.first_row || ' has the same key' END,
                    value := c.{key})
            END AS _rejection
            FROM checked c LEFT JOIN dup d USING (_row)
            """
        )
        timings["validate"] = time.perf_counter() - t2
        loaded = int(con.execute("SELECT count(*) FROM final WHERE _rejection IS NULL").fetchall()[0][0])
        if not loaded:
            raise _nothing_loaded(con, ws, file, kind, body, read)

        t3 = time.perf_counter()
        out_cols = [
            c
            for (c,) in con.execute("SELECT column_name FROM (DESCRIBE std)").fetchall()
            if c not in ("_defects",) and not c.startswith(RAW_PREFIX)
        ]
        dataset_path = ws.dataset_path(kind, body, submission_id)
        rejects_path = ws.rejects_path(submission_id)
        dataset_path.parent.mkdir(parents=True, exist_ok=True)
        rejects_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_dataset, tmp_rejects = temporary_beside(dataset_path), temporary_beside(rejects_path)
        try:
            select = ", ".join(ident(c) for c in out_cols)
            accepted = "SELECT * FROM final WHERE _rejection IS NULL"
            if spec.household:
                accepted = household.household_select(spec, accepted)
                select += f", {household.COLUMN}"
            con.execute(
                f"""
                COPY (
                    SELECT {ident(RAW_PREFIX + spec.record_key)} AS record_id, {select},
                           {literal(submission_id)} AS submission_id, {literal(body)} AS body,
                           {literal(kind)} AS kind
                    FROM ({accepted}) ORDER BY _row
                ) TO {literal(str(tmp_dataset))} (FORMAT parquet, COMPRESSION zstd)
                """
            )
            rejects = con.execute(
                f"""
                SELECT f._row, f._rejection.field, f._rejection.reason, f._rejection.value,
                       {", ".join(f"r.{c}" for c in read.columns)}
                FROM final f JOIN {read.table} r USING (_row)
                WHERE f._rejection IS NOT NULL ORDER BY f._row
                """
            ).fetchall()
            by_reason = _write_rejects(tmp_rejects, read, rejects)
            quality = _quality(con, spec, header_map)
            duplicates = int(con.execute("SELECT count(*) FROM dup").fetchall()[0][0])
            rejected = len(rejects) + len(read.malformed)
            if read.rows_read != loaded + rejected:
                raise RuntimeError(
                    f"accounting failed for {file.name}: read {read.rows_read}, loaded {loaded}, rejected {rejected}"
                )
            timings["write"] = time.perf_counter() - t3
            timings["total"] = time.perf_counter() - t0
            sub = Submission(
                submission_id=submission_id,
                kind=kind,
                body=body,
                file_name=file.name,
                file_path=str(file.resolve()),
                sha256=sha,
                format=read.format,
                encoding=read.encoding,
                delimiter=read.delimiter,
                received_at=now.isoformat(),
                rows_read=read.rows_read,
                rows_loaded=loaded,
                rows_rejected=rejected,
                blank_rows_skipped=read.blank_rows,
                rejects_by_reason=by_reason,
                duplicate_keys=duplicates,
                dataset_path=str(dataset_path),
                rejects_path=str(rejects_path),
                header_mapping={f: read.headers[i] for f, i in header_map.columns.items()},
                ignored_columns=list(header_map.ignored),
                warnings=_mistyped_body(file, body, like, submission_id) + _warnings(file, spec, read, header_map)
                + _unheaded(con, file, read) + _keys_a_spreadsheet_rounded(con, file, spec, read, header_map),
                quality=quality,
                replaces=previous.submission_id if previous else None,
                timings={k: round(v, 3) for k, v in timings.items()},
                extract_date=(extract_date or now.date()).isoformat(),
            )
            os.replace(tmp_dataset, dataset_path)
            os.replace(tmp_rejects, rejects_path)
            save(ws, sub)  # the submission exists once its record is written
        except BaseException:
            tmp_dataset.unlink(missing_ok=True)
            tmp_rejects.unlink(missing_ok=True)
            raise
    return IngestResult(sub)


def _nothing_loaded(
    con: duckdb.DuckDBPyConnection, ws: Workspace, file: Path, kind: str, body: str, read: ReadResult
) -> UnusableFileError:
    """Every record rejected: the file would replace the body's data with none, so it is not
    ingested. Says why, the commonest reasons first (as the rejects file would count them)."""
    reasons: dict[str, list[int]] = {}  # label -> [count, first row or line]
    for field, reason, n, first in con.execute(
        "SELECT _rejection.field, _rejection.reason, count(*), min(_row) FROM final GROUP BY ALL"
    ).fetchall():
        entry = reasons.setdefault(_reject_label(field, reason), [0, int(first)])
        entry[0], entry[1] = entry[0] + int(n), min(entry[1], int(first))
    for m in read.malformed:
        entry = reasons.setdefault(_malformed_label(m), [0, m.line])
        entry[0] += 1
    top = sorted(reasons.items(), key=lambda kv: (-kv[1][0], kv[0]))
    lines = [f"{file.name}: its one record could not be loaded, so the file was not ingested." if read.rows_read == 1
             else f"{file.name}: none of its {read.rows_read:,} records could be loaded, so the file was not ingested."]
    for label, (n, first) in top[:3]:
        at = f"line {first}" if label.startswith("malformed line") else f"row {first}"
        lines.append(f"  {label}: {n:,} (the first: {at})")
    if len(top) > 3:
        lines.append(f"  and {plural(len(top) - 3, 'other reason')}")
    previous = latest(ws, kind, body)
    lines.append(
        f"  {body}'s previous {kind} submission, {previous[0].submission_id}, stays in use."
        if previous
        else f"  Nothing was written: {body} has no {kind} submission yet."
    )
    lines.append("  Fix: correct the file (or map the right columns with --mapping) and ingest it again.")
    return UnusableFileError("\n".join(lines))


def _write_rejects(path: Path, read: ReadResult, rejects: list[tuple[Any, ...]]) -> dict[str, int]:
    """Every rejected row with its reason and the original values; returns counts by reason."""
    by_reason: dict[str, int] = {}
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "line", "field", "reason", "value", *(neutralise(h) for h in read.headers), "raw_line"])
        for row, field, reason, value, *original in rejects:
            w.writerow([row, "", field, reason, neutralise(value), *(neutralise(v) for v in original), ""])
            label = _reject_label(field, reason)
            by_reason[label] = by_reason.get(label, 0) + 1
        for m in read.malformed:
            w.writerow(["", m.line, "", m.reason, "", *([""] * len(read.headers)), neutralise(m.text)])
            label = _malformed_label(m)
            by_reason[label] = by_reason.get(label, 0) + 1
    return dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))


def _reject_label(field: str, reason: str) -> str:
    """A rejected row's reason as the rejects are counted: a duplicate key's without its row."""
    return f"{field}: {reason.split(':')[0] if reason.startswith('duplicate') else reason}"


def _malformed_label(m: MalformedLine) -> str:
    """A line that is not a record, as the rejects are counted by reason."""
    return "malformed line: " + ("wrong number of fields" if "fields where" in m.reason else m.reason)


def _body_like_another(ws: Workspace, body: str) -> str | None:
    """The body with data in the workspace whose code ``body``, new to it, nearly is
    ("kingstn" for kingston); None when ``body`` has data here or is like none."""
    import difflib

    held = ws.bodies_with_data()
    if body in held:
        return None
    close = difflib.get_close_matches(body, sorted(held), n=1, cutoff=0.8)
    return close[0] if close else None


def _mistyped_body(file: Path, body: str, like: str | None, submission_id: str) -> list[str]:
    """Said, not refused (two bodies' codes may be alike): a mistyped body's file is linked as
    another body's until it is replaced."""
    if like is None:
        return []
    return [f"{file.name}: --body {body} is new to this workspace, and {like} has data here. If {body} is a "
            f"mistyping of {like}, runs will link this file's records as a body of its own: ingest it again "
            f"with --body {like}, and remove submission {submission_id} (its files in the workspace's "
            "datasets, rejects and submissions folders)."]


def _warnings(file: Path, spec: DatasetSpec, read: Any, mapping: HeaderMapping) -> list[str]:
    """A money field in a column of floating-point whole numbers: read as pence, as a whole
    number is, though whole pounds written by pandas look the same. A column named as a field
    that is read from another column. Rows of empty cells skipped (not records)."""
    out = []
    for header, field_name in mapping.passed_over:
        chosen = read.headers[mapping.columns[field_name]]
        if mapping.how.get(field_name) == "mapping file":
            why, fix = "as the mapping file says", f"map '{header}' to it in the mapping file instead"
        else:
            why, fix = "its name comes first", "map it in a mapping file (--mapping)"
        out.append(
            f"{file.name}: column '{header}' is not read: {field_name} is read from column '{chosen}' ({why}). "
            f"If '{header}' holds {field_name}, {fix} and ingest the file again with --force."
        )
    if read.blank_rows:
        out.append(
            f"{file.name}: blank rows skipped: {read.blank_rows:,} (every cell empty, as a spreadsheet saves "
            "a formatted empty row); they are not records, so not counted as read."
        )
    for f in spec.fields:
        i = mapping.columns.get(f.name)
        if f.type == "money_pence" and i is not None and i in read.whole_floats:
            out.append(
                f"{file.name}: column '{read.headers[i]}' ({f.name}) holds whole numbers stored as floating point, "
                "read as pence (1500.0 is £15.00). If they are pounds, send them with pence (1500.00 as a decimal "
                "column or as text) or as whole pence, and ingest the file again with --force."
            )
    return out


def _unheaded(con: duckdb.DuckDBPyConnection, file: Path, read: ReadResult) -> list[str]:
    """Columns without a header that hold values (a header cleared, a note typed beside the
    table): no field can be read from them, so their values are not read; said, not dropped
    unseen."""
    blank = [i for i, h in enumerate(read.headers) if not h]
    if not blank:
        return []
    counts = ", ".join(
        f"count({c}), min(CASE WHEN {c} IS NOT NULL THEN _row END)"
        for c in (f"NULLIF(trim({read.columns[i]}, {literal(BLANKS)}), '')" for i in blank)
    )
    found = con.execute(f"SELECT {counts} FROM {read.table}").fetchall()[0]
    out = []
    for k, i in enumerate(blank):
        n, first = found[2 * k], found[2 * k + 1]
        if n:
            name = f"column {column_letters(i)}" if read.format == "xlsx" else f"column {i + 1}"
            out.append(
                f"{file.name}: {name} has no header, so its {plural(n, 'value')} (the first in row "
                f"{first}) {'are' if n != 1 else 'is'} not read. If {'they are' if n != 1 else 'it is'} needed, give "
                "the column a header and ingest the file again with --force."
            )
    return out


def _keys_a_spreadsheet_rounded(
    con: duckdb.DuckDBPyConnection, file: Path, spec: DatasetSpec, read: ReadResult, mapping: HeaderMapping
) -> list[str]:
    """Record keys in a spreadsheet's scientific notation ('1.00E+03'): a long numeric key
    rounded for display, which no longer finds the record in the body's own system (and two
    keys rounded alike make the second a duplicate). Said, with the first row, not rejected:
    a reference such as '1.5E+2' may be the body's own."""
    if spec.record_key not in mapping.columns:
        return []
    col = ident(spec.record_key)  # as the source table holds it: trimmed, blank as NULL
    n, first, example = con.execute(
        f"SELECT count(*), min(_row), arg_min({col}, _row) FROM src "
        f"WHERE regexp_full_match({col}, '[0-9][.][0-9]+[eE][+][0-9]+')"
    ).fetchall()[0]
    if not n:
        return []
    return [
        f"{file.name}: {plural(n, 'record key')} ({spec.record_key}) look{'s' if n == 1 else ''} like a "
        f"number a spreadsheet rounded to scientific notation ('{neutralise(str(example))}', row {first}): such a "
        "key no longer finds the record in the body's own system, and keys rounded alike are rejected as "
        "duplicates. If so, export the file again without opening it in a spreadsheet (or with the key column "
        "as text) and ingest it again with --force."
    ]


def _quality(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, mapping: HeaderMapping) -> dict[str, Any]:
    """Per field: whether it was supplied, how many values are filled, defects by reason (in the
    rows kept: a rejected row's values are in the rejects file, not the dataset)."""
    counts = ", ".join(f"count({ident(f.name)})" for f in spec.fields)
    filled = con.execute(f"SELECT {counts} FROM final WHERE _rejection IS NULL").fetchall()[0]
    defects: dict[str, dict[str, int]] = {}
    for field, reason, n in con.execute(
        """
        SELECT d.field, d.reason, count(*) FROM (SELECT unnest(_defects) AS d FROM final WHERE _rejection IS NULL)
        GROUP BY ALL ORDER BY 1, 3 DESC
        """
    ).fetchall():
        defects.setdefault(field, {})[reason] = int(n)
    return {
        f.name: {
            "supplied": f.name in mapping.columns,
            "filled": int(n),
            "defects": defects.get(f.name, {}),
        }
        for f, n in zip(spec.fields, filled, strict=True)
    }


__all__ = ["IngestResult", "connect", "ingest_file"]
