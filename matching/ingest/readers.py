"""Reading submitted files into DuckDB as text, whatever their format.

Every reader produces a table of VARCHAR columns named ``c0, c1, ...`` with the file's
own header names alongside, and ``_row`` (the 1-based data record number in the file).
Records the CSV parser cannot split into the header's number of fields are returned
separately as malformed lines, so every record is accounted for.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from matching.errors import UnusableFileError
from matching.ingest.standardise.sql import ident

DELIMITERS = {",": "comma", "|": "pipe", "\t": "tab"}
_CHUNK = 16 * 1024 * 1024


@dataclass
class MalformedLine:
    line: int
    text: str
    reason: str


@dataclass
class ReadResult:
    """A submitted file loaded into table ``table`` of a DuckDB connection."""

    table: str
    headers: list[str]
    columns: list[str]  # c0, c1, ... in header order
    format: str  # csv, parquet, xlsx
    encoding: str | None = None
    delimiter: str | None = None
    malformed: list[MalformedLine] = field(default_factory=list)
    records: int = 0  # parsed records (rows in `table`)

    @property
    def rows_read(self) -> int:
        return self.records + len(self.malformed)


def detect_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "csv"


def detect_encoding(path: Path) -> str:
    """'utf-8-sig', 'utf-8' or 'cp1252'; a binary file is unusable."""
    with path.open("rb") as fh:
        first = fh.read(_CHUNK)
        if b"\x00" in first[:65536]:
            raise UnusableFileError(
                f"{path.name}: this is not a text file (it contains NUL bytes).\n"
                "  Submit CSV (comma, pipe or tab delimited), Parquet or XLSX."
            )
        bom = first.startswith(codecs.BOM_UTF8)
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = first
        try:
            while chunk:
                decoder.decode(chunk)
                chunk = fh.read(_CHUNK)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig" if bom else "utf-8"


def _transcode_to_utf8(path: Path, encoding: str, tmp_dir: Path) -> Path:
    """Windows-1252 text re-encoded as UTF-8 in a temporary file DuckDB can read."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="transcode-", suffix=".csv", dir=tmp_dir)
    with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        while chunk := src.read(_CHUNK):
            dst.write(decoder.decode(chunk).encode("utf-8"))
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return Path(name)


def _first_record(path: Path, encoding: str) -> tuple[str, str]:
    """The header line's text and the delimiter it uses."""
    with path.open("r", encoding=encoding, newline="") as fh:
        sample = fh.read(65536)
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if not lines:
        raise UnusableFileError(f"{path.name}: the file is empty.\n  Submit a file with a header row and at least one record.")
    header = lines[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    delim = max(counts, key=lambda d: counts[d])
    if counts[delim] == 0:
        if header.count(";") > 0:
            raise UnusableFileError(
                f"{path.name}: the header row is separated by ';', which is not a supported delimiter.\n"
                "  Export the file as comma, pipe or tab delimited text."
            )
        delim = ","  # a single-column file: mapping will say which columns are missing
    return header, delim


def _parse_header(header: str, delim: str) -> list[str]:
    row = next(csv.reader(io.StringIO(header), delimiter=delim, quotechar='"'))
    return [h.strip() for h in row]


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, tmp_dir: Path) -> ReadResult:
    encoding = detect_encoding(path)
    source = path
    transcoded: Path | None = None
    try:
        if encoding == "cp1252":
            transcoded = source = _transcode_to_utf8(path, encoding, tmp_dir)
        read_enc = "utf-8" if encoding == "cp1252" else encoding
        header, delim = _first_record(source, read_enc)
        headers = _parse_header(header, delim)
        columns = [f"c{i}" for i in range(len(headers))]
        col_types = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
        con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        select_cols = ", ".join(columns)
        try:
            con.execute(
                f"""
                CREATE TEMP TABLE {table}_parsed AS
                SELECT {select_cols} FROM read_csv(?, header = true, auto_detect = false,
                    delim = ?, quote = '"', escape = '"', columns = {{{col_types}}},
                    store_rejects = true, null_padding = false, skip = 0,
                    max_line_size = 10000000, parallel = true)
                """,
                [str(source), delim],
            )
        except duckdb.Error as exc:
            raise UnusableFileError(
                f"{path.name}: the file could not be read as {DELIMITERS[delim]}-delimited text: "
                f"{str(exc).splitlines()[0]}\n  Check the export settings and resubmit."
            ) from None
        # The record number is the parsed table's row id (its order is the file's): a view, as
        # a copy of every column to add it cost 0.6 s of a million-row file's ingest.
        con.execute(
            f"CREATE TEMP VIEW {table} AS SELECT CAST(rowid + 1 AS BIGINT) AS _row, * FROM {table}_parsed"
        )
        malformed = _malformed_lines(con, path, delim, len(headers))
        records = count_rows(con, table)
        return ReadResult(
            table=table,
            headers=headers,
            columns=columns,
            format="csv",
            encoding=encoding,
            delimiter=delim,
            malformed=malformed,
            records=records,
        )
    finally:
        if transcoded is not None:
            transcoded.unlink(missing_ok=True)


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(row[0][0])


def _malformed_lines(con: duckdb.DuckDBPyConnection, path: Path, delim: str, expected: int) -> list[MalformedLine]:
    # DuckDB reports a short line once per missing column: keep the first error of each line.
    rows = con.execute(
        """
        SELECT line, arg_min(error_type, column_idx), arg_min(csv_line, column_idx),
               arg_min(error_message, column_idx)
        FROM reject_errors GROUP BY line ORDER BY line
        """
    ).fetchall()
    out: list[MalformedLine] = []
    for line, error_type, text, message in rows:
        text = text or ""
        if "unterminated quote" in (message or "").lower() or error_type == "UNQUOTED VALUE":
            n_lines = text.rstrip("\r\n").count("\n") + 1
            if n_lines > 1:
                raise UnusableFileError(
                    f"{path.name}: line {line}: a quoted value is never closed, so the rest of the file "
                    f"({n_lines} lines) cannot be split into fields.\n"
                    "  Fix the quoting on that line (a field containing a \" must be wrapped in quotes "
                    "with the quote doubled) and resubmit."
                )
            reason = "a quoted value is never closed"
        elif error_type == "MISSING COLUMNS" or error_type == "TOO MANY COLUMNS":
            found = len(next(csv.reader(io.StringIO(text), delimiter=delim)) or [""]) if text else 0
            reason = f"has {found} field{'s' if found != 1 else ''} where the header has {expected}"
        else:
            reason = (message or error_type or "could not be parsed").split("\n")[0]
        out.append(MalformedLine(line=int(line), text=text.rstrip("\r\n"), reason=reason))
    return out


def read_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> ReadResult:
    try:
        schema = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise UnusableFileError(f"{path.name}: not a readable Parquet file: {str(exc).splitlines()[0]}") from None
    headers = [str(r[0]) for r in schema]
    columns = [f"c{i}" for i in range(len(headers))]
    casts = ", ".join(
        f"CAST({ident(h)} AS VARCHAR) AS {c}" for h, c in zip(headers, columns, strict=True)
    )
    con.execute(
        f"CREATE TEMP TABLE {table} AS SELECT CAST(row_number() OVER () AS BIGINT) AS _row, {casts} "
        "FROM read_parquet(?)",
        [str(path)],
    )
    return ReadResult(table=table, headers=headers, columns=columns, format="parquet", records=count_rows(con, table))


def _cell_text(value: object) -> str | None:
    """How a spreadsheet cell reads as text: integral floats lose '.0', dates become ISO."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> ReadResult:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several unrelated types for a broken workbook
        raise UnusableFileError(f"{path.name}: not a readable XLSX workbook: {exc}") from None
    rows = [r for r in rows if any(_cell_text(v) is not None for v in r)]
    if not rows:
        raise UnusableFileError(f"{path.name}: the first sheet is empty.\n  Submit a sheet with a header row and at least one record.")
    headers = [(_cell_text(v) or "").strip() for v in rows[0]]
    columns = [f"c{i}" for i in range(len(headers))]
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    for r in rows[1:]:
        for i, c in enumerate(columns):
            data[c].append(_cell_text(r[i]) if i < len(r) else None)
    arrow = pa.table({"_row": pa.array(range(1, len(rows)), pa.int64()), **{c: pa.array(v, pa.string()) for c, v in data.items()}})
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    return ReadResult(table=table, headers=headers, columns=columns, format="xlsx", records=len(rows) - 1)


def read_submission(con: duckdb.DuckDBPyConnection, path: Path, table: str, tmp_dir: Path) -> ReadResult:
    """Load any supported file as text into ``table``."""
    if not path.exists():
        raise UnusableFileError(f"{path}: no such file.")
    if path.is_dir():
        raise UnusableFileError(f"{path}: is a folder, not a file.")
    if path.stat().st_size == 0:
        raise UnusableFileError(f"{path.name}: the file is empty.\n  Submit a file with a header row and at least one record.")
    fmt = detect_format(path)
    if fmt == "parquet":
        return read_parquet(con, path, table)
    if fmt == "xlsx":
        return read_xlsx(con, path, table)
    return read_csv(con, path, table, tmp_dir)
