"""Reading submitted files into DuckDB as text, whatever their format.

Every reader produces a table of VARCHAR columns named ``c0, c1, ...`` with the file's
own header names alongside, and ``_row``, where a body finds the record in its file: in a
text file the record's number (1 is the first record after the header), in a spreadsheet
its row number in the sheet (blank rows are not records, but count), in Parquet its row.
Lines of a text file that are not records (the wrong number of fields, a quote never
closed, the header row repeated) are returned separately as malformed lines with their
line number in the file, so every record is accounted for; rows of empty cells alone
(',,,,', a blank row of a sheet) are not records either, and are counted as blank rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import duckdb
import pyarrow as pa

from matching.errors import UnusableFileError
from matching.ingest.standardise.sql import ident, literal

DELIMITERS = {",": "comma", "|": "pipe", "\t": "tab"}
# What a value may be padded with, and a value of which alone is blank (no-break spaces too).
BLANKS = " \t\r\n\u00a0"
_CHUNK = 16 * 1024 * 1024


@dataclass
class MalformedLine:
    line: int
    text: str
    reason: str


@dataclass(frozen=True)
class HeaderCandidate:
    """A row below the header row, or another sheet's first row, that may be the header a
    body meant (a title line above it, notes on the first sheet): ``fix`` says what to do."""

    headers: list[str]
    fix: str


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
    # Columns (by index) of floating-point numbers that are all whole: written as whole
    # numbers, so a money field among them reads as pence (pandas makes an integer column
    # with a gap a float one; whole pounds written as floats look the same).
    whole_floats: tuple[int, ...] = ()
    # Rows every cell of which is empty (',,,,' as a spreadsheet saves a formatted empty row,
    # a blank row of a sheet between the header and the last record): not records.
    blank_rows: int = 0
    # Where else the header may be, read only when the header row lacks a required column.
    header_candidates: Callable[[], Sequence[HeaderCandidate]] = lambda: ()

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
    """'utf-8-sig', 'utf-8' or 'cp1252' (not valid UTF-8: read by ``_decode_mixed``), or
    'utf-16', 'utf-16-le' or 'utf-16-be' (Excel's "Unicode Text": read by ``_from_utf16``); a
    binary file is unusable."""
    with path.open("rb") as fh:
        first = fh.read(_CHUNK)
        utf16 = _utf16(first[:65536])
        if utf16:
            return utf16
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


def _utf16(head: bytes) -> str | None:
    """UTF-16 with a byte order mark ('utf-16'), or without one ('utf-16-le', 'utf-16-be')
    where every other byte is NUL and the bytes between are not, as Latin text in UTF-16 is."""
    if head.startswith(codecs.BOM_UTF32_LE):
        return None  # FF FE 00 00: UTF-32, which no spreadsheet saves; not a text file we read
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[: min(len(head), 4096) // 2 * 2]
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 8:
        if b"\x00" not in even and odd.count(0) >= len(odd) * 0.5:
            return "utf-16-le"
        if b"\x00" not in odd and even.count(0) >= len(even) * 0.5:
            return "utf-16-be"
    return None


def _from_utf16(path: Path, tmp_dir: Path, encoding: str) -> Path:
    """A UTF-16 file as UTF-8 in a temporary file DuckDB can read (streamed; the byte order
    mark dropped, the lines unchanged)."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="utf16-", suffix=".csv", dir=tmp_dir)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError:
        Path(name).unlink(missing_ok=True)
        raise UnusableFileError(
            f"{path.name}: saved as UTF-16 (Unicode Text), but not all of it is UTF-16 (the file may be "
            "cut short or damaged).\n  Fix: save it as CSV UTF-8, and submit that."
        ) from None
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


# A well-formed UTF-8 sequence of two to four bytes.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _cp1252_where_not_utf8(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 read as Windows-1252. When the rest of the
    line holds no UTF-8 sequence at all it is read as Windows-1252 in one go (the same text,
    without a call per byte)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data = exc.object
    end = data.find(b"\n", exc.end)
    end = len(data) if end < 0 else end
    if not _UTF8_MULTIBYTE.search(data, exc.end, end):
        return bytes(data[exc.start : end]).decode("cp1252", errors="replace"), end
    return bytes(data[exc.start : exc.end]).decode("cp1252", errors="replace"), exc.end


codecs.register_error("matching-cp1252", _cp1252_where_not_utf8)


def _decode_mixed(data: bytes) -> str:
    """Whole lines of a file that is not all UTF-8: UTF-8 where valid, Windows-1252 for the
    bytes that are not (a file saved as Windows-1252 and then appended to in UTF-8, or the
    reverse, reads right either way). A stretch without a UTF-8 sequence is Windows-1252."""
    if not _UTF8_MULTIBYTE.search(data):
        return data.decode("cp1252", errors="replace")
    return data.decode("utf-8", errors="matching-cp1252")


def _rewrite(path: Path, tmp_dir: Path, *, decode: bool, newlines: bool) -> Path:
    """The file as UTF-8 without a byte order mark in a temporary file DuckDB can read:
    ``decode`` reads it with ``_decode_mixed``; ``newlines`` makes every line end '\n' (a file
    mixing '\r\n', '\n' and '\r'). Streams whole lines; the line count is unchanged."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="rewrite-", suffix=".csv", dir=tmp_dir)
    with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
        carry = b""
        first = True
        while True:
            chunk = src.read(_CHUNK)
            data = carry + chunk
            if not data:
                break
            if chunk:  # cut after the last line end, carrying the rest to the next chunk
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # no '\n': cut before the last '\r', which may pair with a '\n' next
                    cut = data.rfind(b"\r")
                    cut = cut if cut > 0 else len(data)
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            if first and data.startswith(codecs.BOM_UTF8):
                data = data[len(codecs.BOM_UTF8) :]
            first = False
            if newlines:
                data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            dst.write(_decode_mixed(data).encode("utf-8") if decode else data)
    return Path(name)


@dataclass
class _Head:
    header: str  # the header line's text
    delimiter: str
    skip: int  # lines before it: blank ones, and Excel's 'sep=,'
    # The blank lines and the header end differently ('\n' and '\r\n'): DuckDB, told to skip
    # the blank lines, then reads no records at all (and says nothing), so the line ends are
    # made alike first.
    mixed_start: bool = False
    # The lines after the header (their numbers and text) in which the header may be, if the
    # header line is a title above it.
    later: list[tuple[int, str]] = field(default_factory=list)


_LINE_END = re.compile(r"\r\n|\r|\n")
# The first line Excel writes, and reads, to name a CSV file's delimiter.
_SEP_LINE = re.compile(r'\s*"?sep=(.)"?\s*', re.IGNORECASE)
_HEADER_SEARCH = 20  # lines or rows below the header row searched for the header, if it is not


def _first_record(path: Path, encoding: str, name: str) -> _Head:
    """The header line (the first that is not blank, after Excel's 'sep=,' if that comes
    first), its delimiter and the lines before it. ``name``: the submitted file's, which
    messages give (``path`` may be a re-encoded copy)."""
    with path.open("r", encoding=encoding, newline="", errors="replace") as fh:
        sample = fh.read(65536)
    lines = _LINE_END.split(sample)
    if len(sample) == 65536 and len(lines) > 1:
        lines.pop()  # cut short by the sample
    skip = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if skip is None:
        raise UnusableFileError(f"{name}: the file is empty.\n  Submit a file with a header row and at least one record.")
    named = _SEP_LINE.fullmatch(lines[skip])
    if named:
        sep, sep_line = named.group(1), skip + 1
        skip = next((i for i in range(skip + 1, len(lines)) if lines[i].strip()), None)
        if skip is None:
            raise UnusableFileError(f"{name}: the file is empty.\n  Submit a file with a header row and at least one record.")
        if sep not in DELIMITERS:
            raise UnusableFileError(
                f"{name}: line {sep_line}, '{named.group().strip()}', says the values are separated by '{sep}', "
                "which is not a supported delimiter.\n  Fix: export the file as comma, pipe or tab delimited text."
            )
    header = lines[skip]
    delim = named.group(1) if named else _delimiter(header)
    if delim is None:
        if header.count(";") > 0:
            raise UnusableFileError(
                f"{name}: the header row is separated by ';', which is not a supported delimiter.\n"
                "  Export the file as comma, pipe or tab delimited text."
            )
        delim = ","  # a single-column file: mapping will say which columns are missing
    ends = {m.group() for m in itertools.islice(_LINE_END.finditer(sample), skip + 1)}
    later = [(i + 1, ln) for i, ln in enumerate(lines[skip + 1 : skip + 1 + _HEADER_SEARCH], skip + 1) if ln.strip()]
    return _Head(header=header, delimiter=delim, skip=skip, mixed_start=len(ends) > 1, later=later)


def _delimiter(line: str) -> str | None:
    """The supported delimiter a line holds most of, or None if it holds none."""
    counts = {d: line.count(d) for d in DELIMITERS}
    delim = max(counts, key=lambda d: counts[d])
    return delim if counts[delim] else None


def _parse_header(header: str, delim: str) -> list[str]:
    row = next(csv.reader(io.StringIO(header), delimiter=delim, quotechar='"'))
    return [h.strip() for h in row]


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, tmp_dir: Path) -> ReadResult:
    """A text file into ``table``: ``_row`` is the record's number among the file's records
    (1 is the first after the header); lines that cannot be split into the header's fields, and
    repeats of the header row, are not records but malformed lines, each with its line number
    in the file."""
    encoding = detect_encoding(path)
    source = path
    rewritten: Path | None = None
    try:
        if encoding == "cp1252":
            rewritten = source = _rewrite(path, tmp_dir, decode=True, newlines=False)
        elif encoding.startswith("utf-16"):
            rewritten = source = _from_utf16(path, tmp_dir, encoding)
        read_enc = "utf-8" if rewritten is not None else encoding
        head = _first_record(source, read_enc, path.name)
        headers = _parse_header(head.header, head.delimiter)
        columns = [f"c{i}" for i in range(len(headers))]
        mixed = head.mixed_start
        if not mixed:
            try:
                _parse(con, source, table, columns, head)
            except duckdb.Error as exc:
                if "state machine reached an invalid state" not in str(exc):
                    raise _unreadable(path, head, exc) from None
                mixed = True
        if mixed:  # line ends mixed ('\r\n' and '\n', a stray '\r'), which DuckDB refuses: made '\n'
            normalised = _rewrite(source, tmp_dir, decode=False, newlines=True)
            if rewritten is not None:
                rewritten.unlink(missing_ok=True)
            rewritten = source = normalised
            try:
                _parse(con, source, table, columns, head)
            except duckdb.Error as exc:
                raise _unreadable(path, head, exc) from None
        malformed = _malformed_lines(con, path, source, head, len(headers))
        repeats, blank = _not_records(con, table, source, head, headers, columns)
        malformed = sorted(malformed + repeats, key=lambda m: m.line) if repeats else malformed
        records = count_rows(con, table)
        return ReadResult(
            table=table,
            headers=headers,
            columns=columns,
            format="csv",
            encoding=encoding,
            delimiter=head.delimiter,
            malformed=malformed,
            records=records,
            blank_rows=blank,
            header_candidates=lambda: [
                HeaderCandidate(
                    headers=_parse_header(text, _delimiter(text) or ","),
                    fix=f"the header looks like line {n}: delete the lines above it, and ingest the file again.",
                )
                for n, text in head.later
            ],
        )
    finally:
        if rewritten is not None:
            rewritten.unlink(missing_ok=True)


def _parse(con: duckdb.DuckDBPyConnection, source: Path, table: str, columns: list[str], head: _Head) -> None:
    col_types = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    con.execute(f"DROP TABLE IF EXISTS {table}_parsed")
    con.execute(
        f"""
        CREATE TEMP TABLE {table}_parsed AS
        SELECT {", ".join(columns)} FROM read_csv(?, header = true, auto_detect = false,
            delim = ?, quote = '"', escape = '"', columns = {{{col_types}}},
            store_rejects = true, null_padding = false, skip = {int(head.skip)},
            max_line_size = 10000000, parallel = true)
        """,
        [str(source), head.delimiter],
    )


def _unreadable(path: Path, head: _Head, exc: duckdb.Error) -> UnusableFileError:
    return UnusableFileError(
        f"{path.name}: the file could not be read as {DELIMITERS[head.delimiter]}-delimited text: "
        f"{str(exc).splitlines()[0]}\n  Check the export settings and resubmit."
    )


def count_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(row[0][0])


def _line_ends(data: bytes, start: int = 0, end: int | None = None) -> int:
    """How many lines end in ``data[start:end]``: at a '\n', '\r\n' or a lone '\r' (counted in C)."""
    end = len(data) if end is None else end
    return data.count(b"\n", start, end) + data.count(b"\r", start, end) - data.count(b"\r\n", start, end)


def _line_numbers(source: Path, offsets: list[int]) -> dict[int, int]:
    """The line number of each byte offset: one more than the lines ended before it (read a
    chunk at a time, only as far as the last offset)."""
    out: dict[int, int] = {}
    pending = sorted(set(offsets))
    seen = start = 0
    last_cr = False
    with source.open("rb") as fh:
        while pending and (chunk := fh.read(_CHUNK)):
            if last_cr and chunk.startswith(b"\n"):  # a '\r\n' across two chunks ends one line
                seen -= 1
            while pending and pending[0] <= start + len(chunk):
                out[pending[0]] = seen + _line_ends(chunk, 0, pending[0] - start) + 1
                pending.pop(0)
            seen += _line_ends(chunk)
            last_cr = chunk.endswith(b"\r")
            start += len(chunk)
    out.update({p: seen + 1 for p in pending})
    return out


def _malformed_lines(
    con: duckdb.DuckDBPyConnection, path: Path, source: Path, head: _Head, expected: int
) -> list[MalformedLine]:
    # DuckDB reports a short line once per missing column: keep the first error of each line.
    rows = con.execute(
        """
        SELECT line, arg_min(line_byte_position, column_idx), arg_min(error_type, column_idx),
               arg_min(csv_line, column_idx), arg_min(error_message, column_idx)
        FROM reject_errors GROUP BY line ORDER BY line
        """
    ).fetchall()
    if not rows:
        return []
    # DuckDB's line counts a value's line breaks as none, and its text of a line may begin with
    # the end of the line before ('\n' of a '\r\n', a blank line): the file's own line number
    # is found from where the line starts (one before DuckDB's position, after those ends).
    starts = {
        line: max(0, position - 1 + len(text or "") - len((text or "").lstrip("\r\n")))
        for line, position, _, text, _ in rows
        if position is not None
    }
    numbers = _line_numbers(source, list(starts.values()))
    out: list[MalformedLine] = []
    for line, _, error_type, text, message in rows:
        text = (text or "").lstrip("\r\n").rstrip("\r\n")
        if text == "\x1a":  # the end-of-file mark some Windows programs write: not a record
            continue
        number = numbers[starts[line]] if line in starts else int(line)
        if "unterminated quote" in (message or "").lower() or error_type == "UNQUOTED VALUE":
            n_lines = len(_LINE_END.findall(text)) + 1
            if n_lines > 1:
                raise UnusableFileError(
                    f"{path.name}: line {number}: a quoted value is never closed, so the rest of the file "
                    f"({n_lines} lines) cannot be split into fields.\n"
                    "  Fix the quoting on that line (a field containing a \" must be wrapped in quotes "
                    "with the quote doubled) and resubmit."
                )
            reason = "a quoted value is never closed"
        elif error_type == "MISSING COLUMNS" or error_type == "TOO MANY COLUMNS":
            found = len(next(csv.reader(io.StringIO(text), delimiter=head.delimiter)) or [""]) if text else 0
            reason = f"has {found} field{'s' if found != 1 else ''} where the header has {expected}"
        else:
            reason = (message or error_type or "could not be parsed").split("\n")[0]
        out.append(MalformedLine(line=number, text=text, reason=reason))
    return out


REPEATED_HEADER = "repeats the header row"


def _not_records(
    con: duckdb.DuckDBPyConnection, table: str, source: Path, head: _Head, headers: list[str], columns: list[str]
) -> tuple[list[MalformedLine], int]:
    """Parsed lines that are not records are taken out of the records, and ``table`` made,
    numbering the rest: each that repeats the header row (files exported in parts and joined)
    becomes a malformed line; those of delimiters alone (',,,,', a formatted empty row a
    spreadsheet saved) are counted as blank rows, as a blank line is not a record either.

    One filter over the parsed table finds them; only when some repeat the header is the file
    searched for their line numbers."""
    same = " AND ".join(f"coalesce(trim({c}), '') = {literal(h)}" for c, h in zip(columns, headers, strict=True))
    # Trimming only what may be blank: a value that is empty, or starts with a blank (as
    # ingest's source table does: trimming every value cost a fifth of a million-row read).
    codes = ", ".join(str(ord(ch)) for ch in BLANKS)
    blank = " AND ".join(
        f"({c} IS NULL OR {c} = '' OR (ascii({c}) IN ({codes}) AND trim({c}, {literal(BLANKS)}) = ''))" for c in columns
    )
    repeat = same if any(headers) else "false"
    found = con.execute(
        f"SELECT rowid, {repeat} FROM {table}_parsed WHERE ({repeat}) OR ({blank}) ORDER BY rowid"
    ).fetchall()
    if not found:
        # The record number is the parsed table's row id (its order is the file's): a view, as
        # a copy of every column to add it cost 0.6 s of a million-row file's ingest.
        con.execute(f"CREATE TEMP VIEW {table} AS SELECT CAST(rowid + 1 AS BIGINT) AS _row, * FROM {table}_parsed")
        return [], 0
    if len(found) <= 64:  # a view, as for any file, numbering round the few taken out
        before = " + ".join(f"(rowid > {r})::BIGINT" for r, _ in found)
        con.execute(
            f"CREATE TEMP VIEW {table} AS SELECT CAST(rowid + 1 - ({before}) AS BIGINT) AS _row, * "
            f"FROM {table}_parsed WHERE rowid NOT IN ({', '.join(str(r) for r, _ in found)})"
        )
    else:
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT CAST(row_number() OVER (ORDER BY rowid) AS BIGINT) AS _row, "
            f"{', '.join(columns)} FROM {table}_parsed WHERE NOT (({repeat}) OR ({blank})) ORDER BY rowid"
        )
        con.execute(f"DROP TABLE {table}_parsed")
    repeats = [r for r, is_header in found if is_header]
    if not repeats:
        return [], len(found)
    lines = _header_lines(source, head)
    if len(lines) != len(repeats):  # written differently (quoted, padded): read the file's records
        lines = _header_records(source, head, headers)
    if len(lines) != len(repeats):  # parsed differently: each one's place as if a line a record
        lines = [head.skip + 2 + rowid for rowid in repeats]
    return [MalformedLine(line=n, text=head.header, reason=REPEATED_HEADER) for n in lines], len(found) - len(repeats)


def _header_lines(source: Path, head: _Head) -> list[int]:
    """Line numbers of the lines after the header that are the header's text exactly (found
    and counted in C, a chunk of whole lines at a time)."""
    needle = head.header.encode("utf-8")
    out: list[int] = []
    lines_before = 0  # lines ended before this chunk
    carry = b""
    with source.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            data = carry + chunk
            if not data:
                break
            cut = (data.rfind(b"\n") + 1 or len(data)) if chunk else len(data)
            data, carry = data[:cut], data[cut:]
            counted = 0  # the position up to which lines_before counts
            at = data.find(needle)
            while at >= 0:
                end = at + len(needle)
                if (at == 0 or data[at - 1 : at] in (b"\r", b"\n")) and data[end : end + 1] in (b"", b"\r", b"\n"):
                    lines_before += _line_ends(data, counted, at)
                    counted = at
                    if lines_before + 1 > head.skip + 1:
                        out.append(lines_before + 1)
                at = data.find(needle, end)
            lines_before += _line_ends(data, counted)
    return out


def _header_records(source: Path, head: _Head, headers: list[str]) -> list[int]:
    """Line numbers of the records after the header whose values are the header's."""
    out: list[int] = []
    with source.open("r", encoding="utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=head.delimiter)
        last = 0  # lines read before this record
        for i, record in enumerate(reader):
            if i > head.skip and [v.strip(" ") for v in record] == headers:  # as DuckDB's trim()
                out.append(last + 1)
            last = reader.line_num
    return out


LOCAL_TIME_ZONE = "Europe/London"


def read_parquet(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> ReadResult:
    """A Parquet file's columns as the text a person would have typed (``_parquet_text``)."""
    try:
        schema = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise UnusableFileError(
            f"{path.name}: not a readable Parquet file: {str(exc).splitlines()[0]}\n"
            "  Fix: export the file again, and submit that."
        ) from None
    names = [str(r[0]) for r in schema]  # DuckDB's, which makes a repeated name unique ('Surname_1')
    types = [str(r[1]).upper() for r in schema]
    columns = [f"c{i}" for i in range(len(names))]
    floats = [h for h, t in zip(names, types, strict=True) if t in ("DOUBLE", "FLOAT", "REAL")]
    fractional: set[str] = set()
    arrow = _arrow_schema(path)
    zones = _time_zones(arrow) if any(_zoned(t) for t in types) else {}
    try:
        if floats:  # one pass over the float columns alone: which hold a value with a fraction
            tests = ", ".join(f"bool_or(isfinite({ident(h)}) AND {ident(h)} <> trunc({ident(h)}))" for h in floats)
            flags = con.execute(f"SELECT {tests} FROM read_parquet(?)", [str(path)]).fetchall()[0]
            fractional = {h for h, f in zip(floats, flags, strict=True) if f}
        casts = ", ".join(
            f"{_parquet_text(ident(h), t, h in fractional, zones.get(h) or LOCAL_TIME_ZONE)} AS {c}"
            for h, t, c in zip(names, types, columns, strict=True)
        )
        con.execute(
            f"CREATE TEMP TABLE {table} AS SELECT CAST(row_number() OVER () AS BIGINT) AS _row, {casts} "
            "FROM read_parquet(?)",
            [str(path)],
        )
    except (duckdb.InterruptException, duckdb.OutOfMemoryException):
        raise  # not the file's fault: the CLI says what happened
    except duckdb.Error as exc:
        # The footer reads, but the data does not: pages damaged in copying, or a file cut short.
        raise UnusableFileError(
            f"{path.name}: the Parquet file is damaged: its columns are listed, but its data cannot be read "
            f"({str(exc).splitlines()[0]}).\n  Fix: export the file again, and submit that."
        ) from None
    whole = tuple(i for i, (h, t) in enumerate(zip(names, types, strict=True)) if t in ("DOUBLE", "FLOAT", "REAL") and h not in fractional)
    return ReadResult(
        table=table, headers=_parquet_headers(arrow, names), columns=columns, format="parquet",
        records=count_rows(con, table), whole_floats=whole,
    )


def _arrow_schema(path: Path) -> pa.Schema | None:
    """The file's own (Arrow) schema, read once: None where pyarrow cannot read it."""
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return None


def _parquet_headers(arrow: pa.Schema | None, names: list[str]) -> list[str]:
    """The column names as the file has them: DuckDB makes a repeated name unique ('Surname',
    'Surname_1'), so the header mapping, which refuses a field named twice, would never see it."""
    own = arrow.names if arrow is not None else []
    return own if len(own) == len(names) else names


def _parquet_text(col: str, type_: str, fractional: bool, zone: str) -> str:
    """SQL: one Parquet value as text.

    - A float column (pandas makes every integer column with a gap one): a whole number without
      '.0' ('1001', a sort code '123456'), unless another value in the column has a fraction,
      when each keeps its decimal point ('1500.0' beside '1234.56', so money reads as pounds
      throughout). NaN is missing.
    - A decimal keeps its scale ('1500.00'); integers, booleans and text as they are.
    - A date is ISO; a timestamp is its date ('1980-02-01') or, with a time of day, date and
      time ('2020-01-06 09:30:00'); one with a time zone is first put in the time zone it was
      written in (or UK time), so a Europe/London midnight stays on its own day.
    """
    if type_ in ("DOUBLE", "FLOAT", "REAL"):
        whole = f"CASE WHEN abs({col}) < 1e15 THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END"
        text = f"CAST({col} AS VARCHAR)" if fractional else whole
        return f"CASE WHEN isfinite({col}) OR isinf({col}) THEN {text} END"  # not NaN (isnan misses some)
    if type_.startswith("TIMESTAMP"):
        local = f"timezone({literal(zone)}, {col})" if _zoned(type_) else f"CAST({col} AS TIMESTAMP)"
        return (
            f"CASE WHEN CAST({local} AS TIME) = TIME '00:00:00' THEN strftime({local}, '%Y-%m-%d') "
            f"ELSE strftime({local}, '%Y-%m-%d %H:%M:%S') END"
        )
    return f"CAST({col} AS VARCHAR)"


def _zoned(type_: str) -> bool:
    """A DuckDB type of an instant: TIMESTAMP WITH TIME ZONE, TIMESTAMPTZ, TIMESTAMPTZ_NS..."""
    return type_.startswith("TIMESTAMPTZ") or (type_.startswith("TIMESTAMP") and "TIME ZONE" in type_)


def _time_zones(arrow: pa.Schema | None) -> dict[str, str]:
    """Each time-zone-aware timestamp column's zone, where the writer recorded it (pyarrow and
    pandas do, in the file's Arrow schema)."""
    if arrow is None:
        return {}
    return {f.name: str(f.type.tz) for f in arrow if pa.types.is_timestamp(f.type) and f.type.tz}


def _row_headers(row: list[Any]) -> list[str]:
    """A sheet row's cells read as headers."""
    return [(_cell_text(v) or "").strip() for v in row]


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


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _pounds_text(value: object) -> str | None:
    """A number in a column of pounds: two decimals ('1500.00'), unless it has more."""
    if not _number(value):
        return _cell_text(value)
    number = float(value)  # type: ignore[arg-type]
    text = f"{number:.2f}"
    return text if abs(float(text) - number) < 1e-9 else repr(number)


def _decimal_text(value: object) -> str | None:
    """A number in a column where some numbers have a fraction: a whole one keeps '.0'."""
    if _number(value) and float(value).is_integer() and abs(float(value)) < 1e15:  # type: ignore[arg-type]
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    return _cell_text(value)


def _blank_cell(value: object) -> bool:
    text = _cell_text(value)
    return text is None or not text.strip(BLANKS)


def read_xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> ReadResult:
    """The first sheet: the header is its first row that is not blank, ``_row`` is each record's
    row number in the sheet (as the spreadsheet shows it), and blank rows are not records
    (those between the header and the last record are counted).

    Numbers read as a person sees them (``_cell_text``): a whole number without '.0', so an
    employee number 1001 is '1001'. In a column of money, though, a whole number is pounds, as
    text without a decimal point would be pence: a column whose numbers the first rows format
    as currency or with two decimals ('"£"#,##0.00', '0.00') reads '1500.00'; and in any column
    where some number has a fraction, a whole one keeps its '.0' ('1500.0' beside '1234.56')."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        # Without the empty area, row and column 0 are the sheet's row 1 and column A.
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several unrelated types for a broken workbook
        raise UnusableFileError(f"{path.name}: not a readable XLSX workbook: {exc}") from None
    numbered = [(n, r) for n, r in enumerate(rows, 1) if not all(_blank_cell(v) for v in r)]
    if not numbered:
        others = [name for name, _ in _sheet_heads(path, 1)]
        fix = (
            f"Fix: the records look to be on sheet '{others[0]}': move that sheet first, or save it alone, and ingest the file again."
            if others else "Fix: submit a sheet with a header row and at least one record."
        )
        raise UnusableFileError(f"{path.name}: the first sheet is empty.\n  {fix}")
    (header_at, header_row), records = numbered[0], numbered[1:]
    headers = _row_headers(header_row)
    columns = [f"c{i}" for i in range(len(headers))]
    pounds = _money_columns(path)
    fractional = {i for _, r in records for i, v in enumerate(r) if isinstance(v, float) and not v.is_integer()}
    texts = [_pounds_text if i in pounds else _decimal_text if i in fractional else _cell_text for i in range(len(headers))]
    data: dict[str, list[str | None]] = {c: [] for c in columns}
    for _, r in records:
        for i, c in enumerate(columns):
            data[c].append(texts[i](r[i]) if i < len(r) else None)
    arrow = pa.table(
        {"_row": pa.array([n for n, _ in records], pa.int64()), **{c: pa.array(v, pa.string()) for c, v in data.items()}}
    )
    con.register(f"{table}_arrow", arrow)
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    later = [(n, r) for n, r in records if n <= header_at + _HEADER_SEARCH]
    return ReadResult(
        table=table, headers=headers, columns=columns, format="xlsx", records=len(records),
        blank_rows=records[-1][0] - header_at - len(records) if records else 0,
        header_candidates=lambda: [
            *(
                HeaderCandidate(
                    headers=_row_headers(r),
                    fix=f"the header looks like row {n}: delete the rows above it, and ingest the file again.",
                )
                for n, r in later
            ),
            *(
                HeaderCandidate(
                    headers=_row_headers(r),
                    fix=f"the records look to be on sheet '{name}': move that sheet first, or save it alone, "
                    "and ingest the file again.",
                )
                for name, r in _sheet_heads(path, 1)
            ),
        ],
    )


def _sheet_heads(path: Path, first: int) -> list[tuple[str, list[Any]]]:
    """The first row that is not blank of each sheet from index ``first`` on (of the first
    ``_HEADER_SEARCH`` rows), with the sheet's name; sheets without one, or unreadable, left out."""
    from python_calamine import CalamineWorkbook

    out: list[tuple[str, list[Any]]] = []
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
    except Exception:  # calamine raises several unrelated types for a broken workbook
        return out
    for name in names[first:]:
        try:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=_HEADER_SEARCH)
        except Exception:  # a chart sheet, or one calamine cannot read: not one of records
            continue
        row = next((r for r in rows if not all(_blank_cell(v) for v in r)), None)
        if row is not None:
            out.append((name, row))
    return out


_FORMAT_ROWS = 200  # rows of the sheet whose number formats are read
# Excel's built-in number formats with two decimals or a currency: 0.00, #,##0.00, the
# currency formats and the accounting ones.
_BUILTIN_MONEY = {2, 4, 5, 6, 7, 8, 39, 40, 42, 43, 44}


def _money_format(code: str) -> bool:
    """A number format showing money: a currency symbol, or exactly two decimals (not a
    percentage or scientific)."""
    if re.search(r"[£$€¤]|\[\$", code):
        return True
    plain = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
    return "%" not in plain and not re.search(r"E[+-]", plain, re.I) and bool(re.search(r"0\.00(?![0#?])", plain))


def _money_columns(path: Path) -> set[int]:
    """Columns (0 is A) of the first sheet whose numbers in the first rows are mostly
    formatted as money (``_money_format``). Read from the workbook's XML: the styles and at
    most ``_FORMAT_ROWS`` rows of the sheet. A workbook laid out otherwise has none."""
    try:
        with zipfile.ZipFile(path) as book:
            sheet, styles = _first_sheet_and_styles(book)
            if sheet is None or styles is None:
                return set()
            money = _money_styles(book, styles)
            if not money:
                return set()
            votes: dict[int, int] = {}
            with book.open(sheet) as fh:
                rows = column = 0
                for event, el in ElementTree.iterparse(fh, events=("start", "end")):
                    tag = el.tag.rsplit("}", 1)[-1]
                    if event == "start":
                        if tag == "row":
                            column = -1
                        continue
                    if tag == "c":
                        ref = re.match(r"[A-Z]+", el.get("r") or "")
                        column = _column_index(ref.group()) if ref else column + 1
                        numeric = el.get("t", "n") == "n" and any(ch.tag.rsplit("}", 1)[-1] == "v" for ch in el)
                        if numeric:
                            votes[column] = votes.get(column, 0) + (1 if int(el.get("s") or 0) in money else -1)
                    elif tag == "row":
                        el.clear()
                        rows += 1
                        if rows >= _FORMAT_ROWS:
                            break
            return {c for c, v in votes.items() if v > 0}
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, OSError):
        return set()


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_letters(index: int) -> str:
    """A sheet's column as Excel names it: 0 is A, 25 Z, 26 AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _rels(book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type, the target's path in the package)."""
    folder, name = part.rsplit("/", 1) if "/" in part else ("", part)
    rels = f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
    out: dict[str, tuple[str, str]] = {}
    for el in ElementTree.fromstring(book.read(rels)):
        target = el.get("Target") or ""
        target = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}" if folder else target
        out[el.get("Id") or ""] = (el.get("Type") or "", target)
    return out


def _first_sheet_and_styles(book: zipfile.ZipFile) -> tuple[str | None, str | None]:
    workbook = next((t for typ, t in _rels(book, "").values() if typ.endswith("/officeDocument")), "xl/workbook.xml")
    rels = _rels(book, workbook)
    styles = next((t for typ, t in rels.values() if typ.endswith("/styles")), None)
    for el in ElementTree.fromstring(book.read(workbook)).iter():
        if el.tag.rsplit("}", 1)[-1] == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
            return (rels[rid][1] if rid in rels else None), styles
    return None, styles


def _money_styles(book: zipfile.ZipFile, styles: str) -> set[int]:
    """The cell styles (indexes into cellXfs) whose number format shows money."""
    root = ElementTree.fromstring(book.read(styles))
    custom = {
        int(el.get("numFmtId") or -1): el.get("formatCode") or ""
        for el in root.iter()
        if el.tag.rsplit("}", 1)[-1] == "numFmt"
    }
    xfs = next((el for el in root if el.tag.rsplit("}", 1)[-1] == "cellXfs"), None)
    money: set[int] = set()
    for i, xf in enumerate(xfs if xfs is not None else []):
        fmt = int(xf.get("numFmtId") or 0)
        if (fmt in custom and _money_format(custom[fmt])) or (fmt not in custom and fmt in _BUILTIN_MONEY):
            money.add(i)
    return money


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
