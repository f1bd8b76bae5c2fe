"""Writing datasets: CSV, pipe-separated text, Parquet or XLSX, appended chunk by chunk.

Every value is written as text, as a system export holds it. CSV bytes are deterministic:
no timestamps, rows in the order given, the body's fixed line ending, UTF-8 without BOM.
XLSX is written with xlsxwriter in constant-memory mode (one sheet; at most 1,048,575 rows).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from matching.errors import UserError

FORMATS = ("csv", "psv", "parquet", "xlsx")
EXTENSIONS = {"csv": "csv", "psv": "txt", "parquet": "parquet", "xlsx": "xlsx"}
XLSX_MAX_ROWS = 1_048_575


class DatasetWriter:
    """One output file: the header once, then rows chunk by chunk."""

    def __init__(self, path: Path, fmt: str, headers: list[str], line_ending: str = "\n") -> None:
        self.path = path
        self.fmt = fmt
        self.headers = headers
        self.rows = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: Any = None
        self._pq: pq.ParquetWriter | None = None
        self._book: Any = None
        if fmt in ("csv", "psv"):
            self._fh = path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._fh, delimiter="," if fmt == "csv" else "|", lineterminator=line_ending)
            self._csv.writerow(headers)
        elif fmt == "parquet":
            self._schema = pa.schema([pa.field(h, pa.string()) for h in headers])
        elif fmt == "xlsx":
            import xlsxwriter

            self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                                        "strings_to_formulas": False, "strings_to_urls": False})
            self._book.set_properties({"created": None, "author": "matching synth"})
            self._sheet = self._book.add_worksheet("Data")
            for c, h in enumerate(headers):
                self._sheet.write_string(0, c, h)
        else:
            raise UserError(f"Unknown format '{fmt}'.\n  Use one of: {', '.join(FORMATS)}")

    def write(self, columns: list[list[str]]) -> None:
        """Append rows given column by column (in header order)."""
        n = len(columns[0]) if columns else 0
        if not n:
            return
        if self.fmt in ("csv", "psv"):
            self._csv.writerows(zip(*columns, strict=True))
        elif self.fmt == "parquet":
            table = pa.table({h: pa.array(c, type=pa.string()) for h, c in zip(self.headers, columns, strict=True)},
                             schema=self._schema)
            if self._pq is None:
                self._pq = pq.ParquetWriter(str(self.path), self._schema, compression="zstd")
            self._pq.write_table(table)
        else:
            if self.rows + n > XLSX_MAX_ROWS:
                raise UserError(f"{self.path.name}: more than {XLSX_MAX_ROWS:,} rows do not fit in one XLSX sheet.\n"
                                "  Use --format parquet or csv for this many people.")
            for r, row in enumerate(zip(*columns, strict=True), start=self.rows + 1):
                for c, v in enumerate(row):
                    if v != "":
                        self._sheet.write_string(r, c, v)
        self.rows += n

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self.fmt == "parquet":
            if self._pq is None:  # no rows: still a valid file with the header
                pq.write_table(pa.table({h: pa.array([], type=pa.string()) for h in self.headers}), str(self.path),
                               compression="zstd")
            else:
                self._pq.close()
        if self._book is not None:
            self._book.close()


class TruthWriter:
    """A truth CSV (always CSV, LF line endings), appended chunk by chunk."""

    def __init__(self, path: Path, header: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._fh, lineterminator="\n")
        self._csv.writerow(header)
        self.rows = 0

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self._csv.writerows(rows)
        self.rows += len(rows)

    def close(self) -> None:
        self._fh.close()


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()
