"""Messy files as bodies really send them: line endings, encodings, blank and repeated header
rows, spreadsheet money and rows, pandas Parquet, house numbers a spreadsheet made dates.

Each test states what a body would see: the values loaded, and each rejected row or line
with the row or line number it has in the file as the body opens it.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matching.ingest import ingest_file
from matching.ingest.submissions import Submission


def ingest(tmp_path: Path, name: str, data: bytes, kind: str = "payroll") -> Submission:
    f = tmp_path / name
    f.write_bytes(data)
    sub = ingest_file(kind, f, body="kingston", workspace=tmp_path / "ws").submission
    assert sub.rows_read == sub.rows_loaded + sub.rows_rejected
    return sub


def loaded(sub: Submission) -> list[dict]:
    rel = duckdb.connect().execute(f"SELECT * FROM read_parquet('{sub.dataset_path}') ORDER BY _row")
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def rejected(sub: Submission) -> list[dict]:
    with open(sub.rejects_path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def lines(text: str, end: str) -> bytes:
    return text.replace("\n", end).encode("utf-8")


# --- line endings (items 3 and 4) -------------------------------------------------------------

@pytest.mark.parametrize(
    "data",
    [
        b"Employee No,Forename,Surname\nE1,Ann,Lee\nE2,Bob,Lee\r\nE3,Cat,Lee\n",  # LF, one CRLF
        b"Employee No,Forename,Surname\r\nE1,Ann,Lee\r\nE2,Bob,Lee\nE3,Cat,Lee\r\n",  # CRLF, one LF
        b"Employee No,Forename,Surname\nE1,Ann,Lee\nE2,Bob,Lee\nE3,Cat,Lee\n\r\n",  # a stray final CRLF
        b"Employee No,Forename,Surname\r\nE1,Ann,Lee\nE2,Bob,Lee\rE3,Cat,Lee\n",  # and an old Mac '\r'
    ],
)
def test_mixed_line_endings_load_every_row(tmp_path: Path, data: bytes) -> None:
    sub = ingest(tmp_path, "mixed.csv", data)
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (3, 3, 0)
    assert [r["record_id"] for r in loaded(sub)] == ["E1", "E2", "E3"]
    assert [r["surname"] for r in loaded(sub)] == ["LEE"] * 3


def test_a_bad_line_in_a_file_of_mixed_line_endings_has_its_own_line_number(tmp_path: Path) -> None:
    data = b"Employee No,Forename,Surname\r\nE1,Ann,Lee\nE2,Bob\r\nE3,Cat,Lee\n"
    sub = ingest(tmp_path, "mixed.csv", data)
    [bad] = rejected(sub)
    assert (bad["line"], bad["reason"], bad["raw_line"]) == ("3", "has 2 fields where the header has 3", "E2,Bob")


STRAY_QUOTE = """Employee No|Forename|Surname|DOB
E1|Ann|Lee|01/02/1980
E2|Bob "Bobby"|Lee|01/02/1980
E3|"Cat" Kay|Lee|01/02/1980
E4|Dan|Lee|01/02/1980
E5|Eve|Lee|01/02/1980
"""


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_one_stray_quote_rejects_its_line_whatever_the_line_ending(tmp_path: Path, end: str) -> None:
    sub = ingest(tmp_path, "q.csv", lines(STRAY_QUOTE, end))
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (5, 4, 1)
    [bad] = rejected(sub)
    assert (bad["line"], bad["reason"]) == ("4", "a quoted value is never closed")
    assert bad["raw_line"] == 'E3|"Cat" Kay|Lee|01/02/1980'


RAGGED = """Employee No,Forename,Surname,DOB,Gross Pay
E1,Ann,"Lee
Smith",01/02/1980,100

E2,Bob,Lee,01/02/1980,200,extra
E3,Cat,Lee,01/02/1980
E4,Dan,Lee,01/02/1980,400
"""


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_short_and_long_lines_are_reported_as_the_file_has_them(tmp_path: Path, end: str) -> None:
    """After a value with a line break in it and a blank line, each bad line has the file's
    line number, its real count of fields and its text without the line end before it."""
    sub = ingest(tmp_path, "ragged.csv", lines(RAGGED, end))
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (4, 2, 2)
    assert [(r["line"], r["reason"], r["raw_line"]) for r in rejected(sub)] == [
        ("5", "has 6 fields where the header has 5", "E2,Bob,Lee,01/02/1980,200,extra"),
        ("6", "has 4 fields where the header has 5", "E3,Cat,Lee,01/02/1980"),
    ]


def test_a_never_closed_quote_in_a_crlf_file_names_its_line(tmp_path: Path) -> None:
    from matching.errors import UnusableFileError

    data = lines('Employee No,Forename,Surname\nE1,Ann,Lee\nE2,Bob,Lee\n\nE3,"Cat,Lee\nE4,Dan,Lee\n', "\r\n")
    with pytest.raises(UnusableFileError, match=r"line 5: a quoted value is never closed, so the rest of the file \(2 lines\)"):
        ingest(tmp_path, "q.csv", data)


def test_the_end_of_file_mark_is_not_a_record(tmp_path: Path) -> None:
    sub = ingest(tmp_path, "eof.csv", b"Employee No,Forename,Surname\r\nE1,Ann,Lee\r\nE2,Bob,Lee\r\n\x1a")
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (2, 2, 0)


# --- encodings (item 5) ---------------------------------------------------------------------

def test_one_windows_1252_byte_leaves_the_utf8_text_alone(tmp_path: Path) -> None:
    data = "Employee No,Forename,Surname,Address 1\nE1,Siân,Llŵyd,1 Heol\n".encode() + b"E2,Zo\xeb,Lee,2 Rd\n"
    sub = ingest(tmp_path, "mixed.csv", data)
    first, second = loaded(sub)
    assert (first["forenames"], first["surname"]) == ("SIAN", "LLWYD")
    assert second["forenames"] == "ZOE"


def test_a_line_of_windows_1252_and_utf8_reads_each_as_itself(tmp_path: Path) -> None:
    data = b"Employee No,Forename,Surname,Job Title\nE1,Zo\xeb,Ni\xc3\xb1o,Officer \x96 \xa325k\n"
    [row] = loaded(ingest(tmp_path, "mixed.csv", data))
    assert (row["forenames"], row["surname"], row["job_title"]) == ("ZOE", "NINO", "Officer – £25k")


def test_a_byte_order_mark_is_not_part_of_the_first_header_in_a_file_not_all_utf8(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfDate of Birth,Employee No,Forename,Surname\n01/02/1980,E1,Ann,Lee\n01/02/1980,E2,Zo\xeb,Lee\n"
    sub = ingest(tmp_path, "bom.csv", data)
    assert sub.header_mapping["dob"] == "Date of Birth"
    assert [r["dob"] for r in loaded(sub)] == [dt.date(1980, 2, 1)] * 2
    assert loaded(sub)[1]["forenames"] == "ZOE"


def test_a_file_all_windows_1252_is_still_read_as_it(tmp_path: Path) -> None:
    data = "Employee No,Forename,Surname,Job Title\r\nE1,Zoë,Brontë,Officer – £25k band\r\n".encode("cp1252") * 1
    [row] = loaded(ingest(tmp_path, "w.csv", data))
    assert (row["forenames"], row["surname"], row["job_title"]) == ("ZOE", "BRONTE", "Officer – £25k band")


# --- blank and repeated header rows (item 7) -------------------------------------------------

@pytest.mark.parametrize("before", ["\n", "\n\n", "\r\n \r\n"])
def test_blank_lines_before_the_header_are_skipped(tmp_path: Path, before: str) -> None:
    sub = ingest(tmp_path, "lead.csv", (before + "Employee No,Forename,Surname\nE1,Ann,Lee\nE2,Bob\n").encode())
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (2, 1, 1)
    assert [r["record_id"] for r in loaded(sub)] == ["E1"]
    [bad] = rejected(sub)
    assert bad["line"] == str(before.count("\n") + 3)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_header_row_repeated_in_the_file_is_rejected_as_such(tmp_path: Path, end: str) -> None:
    text = (
        "Employee No,Forename,Surname,DOB\nE1,Ann,Lee,01/02/1980\n"
        "Employee No,Forename,Surname,DOB\nE2,Bob,Lee,01/02/1980\n"
        '"Employee No", Forename ,Surname,DOB\nE2,Bob,Lee,01/02/1980\n'
    )
    sub = ingest(tmp_path, "joined.csv", lines(text, end))
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (5, 2, 3)
    assert sub.rejects_by_reason == {"malformed line: repeats the header row": 2, "employee_ref: duplicate record": 1}
    assert [r["record_id"] for r in loaded(sub)] == ["E1", "E2"]
    reports = rejected(sub)
    assert [(r["row"], r["line"], r["reason"]) for r in reports] == [
        ("3", "", "duplicate record: same as row 2"),  # rows count records: repeated headers are lines
        ("", "3", "repeats the header row"),
        ("", "5", "repeats the header row"),
    ]
    assert reports[1]["raw_line"] == "Employee No,Forename,Surname,DOB"


# --- defect counts (item 6) ----------------------------------------------------------------

def test_field_defects_count_only_the_rows_kept(tmp_path: Path) -> None:
    data = b"Employee No,Forename,Surname,DOB\nE1,Ann,Lee,31/04/1980\nE2,Bob,,31/04/1980\n"
    sub = ingest(tmp_path, "d.csv", data)
    assert (sub.rows_loaded, sub.rows_rejected) == (1, 1)
    assert sub.quality["dob"]["defects"] == {"not a real date": 1}


# --- house numbers a spreadsheet made dates (item 8) ---------------------------------------

def test_every_form_excel_gives_a_house_number_it_made_a_date_is_repaired_alike(tmp_path: Path) -> None:
    text = (
        "Employee No,Forename,Surname,Address 1,Address 2\n"
        "E1,Ann,Lee,01-Mar,High Street\n"  # '1-3' or '1/3' as Excel shows it
        "E2,Bob,Lee,1-Mar,High Street\n"
        "E3,Cat,Lee,01/03/2026,High Street\n"  # the cell formatted as a date
        "E4,Dan,Lee,2026-03-01 00:00:00,High Street\n"
        "E5,Eve,Lee,Dec-14,High Street\n"  # '12-14': 14 is no month, so December 2014
        "E6,Fay,Lee,1-3 High Street,\n"  # typed as text: left alone
        "E7,Gus,Lee,March 2026,High Street\n"  # not a form Excel gives a number
    )
    rows = loaded(ingest(tmp_path, "addr.csv", text.encode()))
    got = [(r["address_flat"], r["address_number"], r["address_street"]) for r in rows]
    assert got[:4] == [("1", "3", "HIGH STREET")] * 4
    assert got[4] == ("12", "14", "HIGH STREET")
    assert got[5] == (None, "1-3", "HIGH STREET")
    assert got[6][:2] == (None, "2026")


# --- XLSX (items 1 and 9) ------------------------------------------------------------------

openpyxl = pytest.importorskip("openpyxl")


def test_xlsx_money_formatted_in_pounds_reads_as_pounds(tmp_path: Path) -> None:
    """1500.00 shown as £1,500.00 is £1,500 (150000 pence), not 1500 pence."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Payment Ref", "Creditor Ref", "Creditor Name", "Invoice Number", "Payment Date", "Invoice Amount", "VAT Amount"])
    sheet.append(["P1", "C1", "ACME LTD", "INV-1", dt.date(2026, 10, 1), 1500.00, 250.00])
    sheet.append(["P2", "C1", "ACME LTD", "INV-2", dt.date(2026, 10, 2), 1234.56, 205.76])
    sheet.append(["P3", "C2", "Bobs Ltd", "INV-3", dt.date(2026, 10, 3), -99.5, 0])
    for row in sheet.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].number_format = '"£"#,##0.00'
    for row in sheet.iter_rows(min_row=2, min_col=7, max_col=7):
        row[0].number_format = "#,##0.00"
    book.save(tmp_path / "tcp.xlsx")
    sub = ingest_file("trade_creditor_payments", tmp_path / "tcp.xlsx", body="kingston", workspace=tmp_path / "ws").submission
    got = [(r["invoice_amount"], r["vat_amount"]) for r in loaded(sub)]
    assert got == [(150000, 25000), (123456, 20576), (-9950, 0)]


def test_xlsx_whole_pounds_beside_pence_keep_their_decimal_point_without_a_format(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Employee No", "Forename", "Surname", "Gross Pay", "Sort Code"])
    sheet.append([1001, "Ann", "Lee", 1500.0, 123456])
    sheet.append([1002, "Bob", "Lee", 1234.56, 200000])
    book.save(tmp_path / "p.xlsx")
    sub = ingest_file("payroll", tmp_path / "p.xlsx", body="kingston", workspace=tmp_path / "ws").submission
    got = [(r["record_id"], r["gross_pay_to_date"], r["sort_code"]) for r in loaded(sub)]
    assert got == [("1001", 150000, "123456"), ("1002", 123456, "200000")]


def test_xlsx_rejects_name_the_spreadsheet_row(tmp_path: Path) -> None:
    """Blank rows are not records, but count as the sheet's rows: E6 in sheet row 8 is row 8."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [
        ["Employee No", "Forename", "Surname"],  # row 1
        ["E1", "Ann", "Lee"],
        ["E2", "Bob", "Lee"],
        [],
        [],
        ["E5", "Eve", "Lee"],  # row 6
        ["E1", "Ann", "Lee"],
        ["E6", "Fay", None],  # row 8
    ]:
        sheet.append(row)
    book.save(tmp_path / "p.xlsx")
    sub = ingest_file("payroll", tmp_path / "p.xlsx", body="kingston", workspace=tmp_path / "ws").submission
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (5, 3, 2)
    assert [(r["row"], r["reason"]) for r in rejected(sub)] == [
        ("7", "duplicate record: same as row 2"),
        ("8", "missing"),
    ]


def test_xlsx_rows_are_the_sheets_when_the_table_starts_lower_down(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"], sheet["C3"], sheet["D3"] = "Employee No", "Forename", "Surname"
    sheet["B5"], sheet["C5"], sheet["D5"] = "E1", "Ann", None
    book.save(tmp_path / "p.xlsx")
    sub = ingest_file("payroll", tmp_path / "p.xlsx", body="kingston", workspace=tmp_path / "ws").submission
    assert [(r["row"], r["field"]) for r in rejected(sub)] == [("5", "surname")]


# --- Parquet written by pandas (item 2) ---------------------------------------------------

def test_parquet_from_pandas_reads_as_typed(tmp_path: Path) -> None:
    """pandas makes an integer column with a gap float64 and keeps time zones: ids and bank
    details lose no '.0', money keeps its pounds, and dates stay on their own day."""
    london = pa.timestamp("ns", tz="Europe/London")
    table = pa.table(
        {
            "Employee No": pa.array([1001.0, 1002.0, None]),
            "Forename": ["Ann", "Bob", "Cat"],
            "Surname": ["Lee", "Lee", "Lee"],
            "Date of Birth": pa.array([dt.datetime(1980, 2, 1), None, dt.datetime(1980, 7, 1)], pa.timestamp("ns", tz="UTC")),
            "Date Started": pa.array([dt.datetime(2020, 5, 31, 23, tzinfo=dt.UTC), dt.datetime(2020, 1, 6, 9, 30, tzinfo=dt.UTC), None], london),
            "Date Left": pa.array([dt.datetime(2021, 6, 30), None, None], pa.timestamp("us")),
            "Sort Code": pa.array([123456.0, 200000.0, None]),
            "Account No": pa.array([12345678.0, None, 1234567.0]),
            "Gross Pay": pa.array([1500.0, 1234.56, None]),
            "Hours": pa.array([37.5, float("nan"), 1.0]),
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    sub = ingest_file("payroll", tmp_path / "p.parquet", body="kingston", workspace=tmp_path / "ws").submission
    assert (sub.rows_loaded, sub.rows_rejected) == (2, 1)
    a, b = loaded(sub)
    assert (a["record_id"], b["record_id"]) == ("1001", "1002")
    assert (a["sort_code"], a["account_number"]) == ("123456", "12345678")
    assert a["dob"] == dt.date(1980, 2, 1)
    assert a["date_started"] == dt.date(2020, 6, 1)  # midnight in London, 23:00 the day before in UTC
    assert b["date_started"] == dt.date(2020, 1, 6)
    assert a["date_left"] == dt.date(2021, 6, 30)
    assert (a["gross_pay_to_date"], b["gross_pay_to_date"]) == (150000, 123456)
    assert not any(q["defects"] for q in sub.quality.values())


def test_parquet_decimals_keep_their_scale(tmp_path: Path) -> None:
    duckdb.connect().execute(
        f"""COPY (SELECT 'E1' AS "Employee No", 'Ann' AS "Forename", 'Lee' AS "Surname",
                   CAST(1500 AS DECIMAL(12, 2)) AS "Gross Pay", DATE '1980-02-01' AS "DOB")
            TO '{tmp_path / "d.parquet"}' (FORMAT parquet)"""
    )
    sub = ingest_file("payroll", tmp_path / "d.parquet", body="kingston", workspace=tmp_path / "ws").submission
    [row] = loaded(sub)
    assert (row["gross_pay_to_date"], row["dob"]) == (150000, dt.date(1980, 2, 1))


def test_parquet_money_of_whole_floats_reads_as_pence_and_says_so(tmp_path: Path, run_cli) -> None:
    """A float column of whole numbers is what pandas writes for whole pence with a gap, and
    for whole pounds: it reads as pence, as whole numbers do, and ingest says so, naming the
    column, so whole pounds do not pass unnoticed as a hundredth of themselves."""
    table = pa.table({
        "Employee No": ["E1", "E2"], "Forename": ["Ann", "Bob"], "Surname": ["Lee", "Lee"],
        "Gross Pay": pa.array([25000.0, None]), "Hours": pa.array([37.0, 20.0]),
    })
    pq.write_table(table, tmp_path / "whole.parquet")
    r = run_cli("ingest", "payroll", str(tmp_path / "whole.parquet"), "--body", "kingston")
    assert r.exit_code == 0, r.stderr
    assert "Warning: whole.parquet: column 'Gross Pay' (gross_pay_to_date) holds whole numbers stored as floating point, read as pence" in " ".join(r.stdout.split())
    assert "'Hours'" not in r.stdout  # not money
    with_pence = pa.table({
        "Employee No": ["E1", "E2"], "Forename": ["Ann", "Bob"], "Surname": ["Lee", "Lee"],
        "Gross Pay": pa.array([25000.0, 1234.56]),
    })
    pq.write_table(with_pence, tmp_path / "pence.parquet")
    sub = ingest_file("payroll", tmp_path / "pence.parquet", body="kingston", workspace=tmp_path / "ws").submission
    assert sub.warnings == [] and [row["gross_pay_to_date"] for row in loaded(sub)] == [2500000, 123456]
