"""Messy files as bodies really send them: line endings, encodings, blank and repeated header
rows, spreadsheet money and rows, pandas Parquet, house numbers a spreadsheet made dates.

Each test states what a body would see: the values loaded, and each rejected row or line
with the row or line number it has in the file as the body opens it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matching.ingest import ingest_file
from matching.ingest.submissions import Submission
from tests.conftest import written_files
from tests.ingest.test_ingest import ingest_mapped


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
    sheet["B6"], sheet["C6"], sheet["D6"] = "E2", "Bob", "Lee"
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


# --- files a reviewer sent: UTF-16, 'sep=', title lines, blank rows, damaged Parquet -------

UNICODE_TEXT = "Employee No\tForename\tSurname\r\nE1\tSiân\tLee\r\nE2\tBob\t\r\n"


@pytest.mark.parametrize(
    "data",
    [
        UNICODE_TEXT.encode("utf-16"),  # what Excel's "Unicode Text" writes: a BOM, then little-endian
        codecs.BOM_UTF16_BE + UNICODE_TEXT.encode("utf-16-be"),
        UNICODE_TEXT.encode("utf-16-le"),  # no BOM
    ],
)
def test_a_utf16_file_is_read_as_its_text(tmp_path: Path, data: bytes) -> None:
    sub = ingest(tmp_path, "unicode.txt", data)
    assert sub.encoding is not None and sub.encoding.startswith("utf-16")
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (2, 1, 1)
    [row] = loaded(sub)
    assert (row["record_id"], row["forenames"], row["surname"]) == ("E1", "SIAN", "LEE")
    assert [(r["row"], r["field"], r["reason"]) for r in rejected(sub)] == [("2", "surname", "missing")]


def test_a_utf16_file_cut_short_says_to_save_it_as_utf8(run_cli, tmp_path: Path, workspace: Path) -> None:
    f = tmp_path / "unicode.txt"
    f.write_bytes(UNICODE_TEXT.encode("utf-16")[:-1])  # half a character at the end
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2
    assert "unicode.txt: saved as UTF-16 (Unicode Text), but not all of it is UTF-16" in r.stderr
    assert r.stderr.rstrip().endswith("Fix: save it as CSV UTF-8, and submit that.")
    assert written_files(workspace) == []


@pytest.mark.parametrize("sep, delimiter", [("sep=,", ","), ('"sep=|"', "|"), ("sep=\t", "\t")])
def test_excels_sep_line_names_the_delimiter_and_is_not_the_header(tmp_path: Path, sep: str, delimiter: str) -> None:
    text = f"{sep}\r\nEmployee No,Forename,Surname\r\nE1,Ann,Lee\r\nE2,Bob\r\n".replace(",", delimiter)
    sub = ingest(tmp_path, "sep.csv", text.encode())
    assert sub.delimiter == delimiter
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected) == (2, 1, 1)
    [bad] = rejected(sub)
    assert (bad["line"], bad["reason"]) == ("4", "has 2 fields where the header has 3")


def test_a_sep_line_naming_a_semicolon_is_refused_with_its_line(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "sep.csv"
    f.write_text("sep=;\nEmployee No;Forename;Surname\nE1;Ann;Lee\n")
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2
    assert "sep.csv: line 1, 'sep=;', says the values are separated by ';', which is not a supported delimiter." in r.stderr
    assert "Fix: export the file as comma, pipe or tab delimited text." in r.stderr


TITLED = "Kingston payroll extract, run 01/10/2026\n\nEmployee No,Forename,Surname\nE1,Ann,Lee\n"


@pytest.mark.parametrize("text", [TITLED, TITLED.replace("\n", ",,\n", 1), "Payroll\nNotes: October\n" + TITLED.split("\n", 2)[2]])
def test_a_title_above_the_header_says_which_line_the_header_is(run_cli, tmp_path: Path, workspace: Path, text: str) -> None:
    f = tmp_path / "titled.csv"
    f.write_text(text)
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2
    assert "titled.csv: required column 'employee_ref' (Payroll) is missing." in r.stderr
    assert "Fix: the header looks like line 3: delete the lines above it, and ingest the file again." in r.stderr
    assert "rename the column" not in r.stderr
    assert written_files(workspace) == []


def test_a_mapped_header_below_a_title_is_found_too(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "titled.csv"
    f.write_text("Payroll extract\nEmp Key,Given,Family\nK1,Ann,Lee\n")
    r = ingest_mapped(run_cli, f, '"Emp Key" = "employee_ref"\n"Given" = "forenames"\n"Family" = "surname"\n')
    assert r.exit_code == 2
    assert "mapping file: column 'Emp Key' is not in titled.csv." in r.stderr
    assert "Fix: the header looks like line 2: delete the lines above it, and ingest the file again." in r.stderr


def test_xlsx_title_rows_above_the_header_say_which_row_it_is(run_cli, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["Kingston payroll extract"], [], ["Employee No", "Forename", "Surname"], ["E1", "Ann", "Lee"]]:
        sheet.append(row)
    book.save(tmp_path / "p.xlsx")
    r = run_cli("ingest", "payroll", str(tmp_path / "p.xlsx"), "--body", "kingston")
    assert r.exit_code == 2
    assert "Fix: the header looks like row 3: delete the rows above it, and ingest the file again." in r.stderr


def test_xlsx_records_on_another_sheet_are_named(run_cli, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["Payroll extract for NFI"])
    data = book.create_sheet("Data")
    data.append(["Employee No", "Forename", "Surname"])
    data.append(["E1", "Ann", "Lee"])
    book.save(tmp_path / "p.xlsx")
    r = run_cli("ingest", "payroll", str(tmp_path / "p.xlsx"), "--body", "kingston")
    assert r.exit_code == 2
    assert "Fix: the records look to be on sheet 'Data': move that sheet first, or save it alone, and ingest the file again." in r.stderr
    del book["Notes"]
    book.create_sheet("Notes", 0)  # now empty
    book.save(tmp_path / "p.xlsx")
    r = run_cli("ingest", "payroll", str(tmp_path / "p.xlsx"), "--body", "kingston")
    assert r.exit_code == 2
    assert "p.xlsx: the first sheet is empty." in r.stderr and "on sheet 'Data': move that sheet first" in r.stderr


@pytest.mark.parametrize("blank", [",,", ", ,  ,", '"","",""', "\u00a0,\t,"])
def test_rows_of_delimiters_alone_are_blank_rows_not_records(run_cli, tmp_path: Path, blank: str) -> None:
    """Excel saves a formatted empty row as ',,': not a record, as a blank line is not; the rows
    after it keep their record numbers, and the blank rows are counted apart."""
    f = tmp_path / "p.csv"
    f.write_text(f"Employee No,Forename,Surname\nE1,Ann,Lee\n{blank}\n{blank}\nE2,Bob,\n{blank}\n", encoding="utf-8")
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert (data["rows_read"], data["rows_loaded"], data["rows_rejected"], data["blank_rows_skipped"]) == (2, 1, 1, 3)
    assert data["rejects_by_reason"] == {"surname: missing": 1}
    with open(data["rejects_path"], encoding="utf-8", newline="") as fh:
        assert [(r["row"], r["field"]) for r in csv.DictReader(fh)] == [("2", "surname")]
    assert any("blank rows skipped: 3" in w for w in data["warnings"])
    shown = run_cli("ingest", "payroll", str(f), "--body", "richmond")
    assert "blank rows skipped: 3" in " ".join(shown.stdout.split())


def test_many_blank_rows_keep_the_record_numbers_of_the_rows_after_them(tmp_path: Path) -> None:
    """More than 64 rows that are not records: the records are numbered in a table, not a view."""
    data = "Employee No,Forename,Surname\nE1,Ann,Lee\n" + ",,\n" * 70 + "Employee No,Forename,Surname\nE2,Bob,\n"
    sub = ingest(tmp_path, "p.csv", data.encode())
    assert (sub.rows_read, sub.rows_loaded, sub.rows_rejected, sub.blank_rows_skipped) == (3, 1, 2, 70)
    assert [(r["row"], r["line"], r["reason"]) for r in rejected(sub)] == [
        ("2", "", "missing"),
        ("", "73", "repeats the header row"),
    ]


def test_a_file_of_blank_rows_alone_has_no_records(run_cli, tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("Employee No,Forename,Surname\n,,\n,,\n")
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2 and "p.csv: the file has a header row but no records (only 2 blank rows)." in r.stderr


def test_xlsx_blank_rows_between_records_are_counted(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["Employee No", "Forename", "Surname"], ["E1", "Ann", "Lee"], [], [None, " ", None], ["E2", "Bob", "Lee"], []]:
        sheet.append(row)
    book.save(tmp_path / "p.xlsx")
    sub = ingest_file("payroll", tmp_path / "p.xlsx", body="kingston", workspace=tmp_path / "ws").submission
    assert (sub.rows_read, sub.rows_loaded, sub.blank_rows_skipped) == (2, 2, 2)
    assert [r["_row"] for r in loaded(sub)] == [2, 5]


def test_values_in_a_column_without_a_header_are_said_not_to_be_read(run_cli, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["Employee No", "Forename", "Surname", None], ["E1", "Ann", "Lee", "N"], ["E2", "Bob", "Lee", "Y"]]:
        sheet.append(row)
    sheet["F3"] = "see HR"
    book.save(tmp_path / "p.xlsx")
    out = " ".join(run_cli("ingest", "payroll", str(tmp_path / "p.xlsx"), "--body", "kingston").stdout.split())
    assert "Warning: p.xlsx: column D has no header, so its 2 values (the first in row 2) are not read." in out
    assert "Warning: p.xlsx: column F has no header, so its 1 value (the first in row 3) is not read." in out
    assert "give the column a header and ingest the file again with --force" in out
    f = tmp_path / "p.csv"
    f.write_text("Employee No,Forename,,Surname,\nE1,Ann,,Lee,\nE2,Bob,x,Lee,\n")
    out = " ".join(run_cli("ingest", "payroll", str(f), "--body", "kingston").stdout.split())
    assert "Warning: p.csv: column 3 has no header, so its 1 value (the first in row 2) is not read." in out
    assert "column 5" not in out  # a trailing delimiter: nothing in it


def test_record_keys_a_spreadsheet_rounded_are_said_to_be(run_cli, tmp_path: Path) -> None:
    """'1.00E+03' no longer finds the record in the body's system; a second rounded alike is a
    duplicate. A key that merely holds an E ('1E5', 'AB1E+2') is the body's own."""
    f = tmp_path / "p.csv"
    f.write_text("Employee No,Forename,Surname\n1E5,Cat,Lee\n1.00E+03,Ann,Lee\n1.00E+03,Bob,Lee\nAB1E+2,Dan,Lee\n")
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--json")
    data = r.json()
    assert r.exit_code == 0 and data["rows_loaded"] == 3 and data["rows_rejected"] == 1
    (warning,) = [w for w in data["warnings"] if "scientific notation" in w]
    assert warning.startswith("p.csv: 2 record keys (employee_ref) look like a number a spreadsheet rounded to "
                              "scientific notation ('1.00E+03', row 2)")
    assert "export the file again without opening it in a spreadsheet" in warning


def _damaged(path: Path, column: str) -> Path:
    """A Parquet file whose footer reads but one column's data pages are overwritten."""
    n = 2000
    pq.write_table(pa.table({
        "Employee No": [f"E{i}" for i in range(n)], "Forename": ["Ann"] * n,
        "Surname": [f"Lee{i}" for i in range(n)], "Hours": [i / 2 for i in range(n)],
    }), path)
    meta = pq.ParquetFile(path).metadata.row_group(0)
    chunk = next(meta.column(i) for i in range(meta.num_columns) if meta.column(i).path_in_schema == column)
    data = bytearray(path.read_bytes())
    middle = (chunk.dictionary_page_offset or chunk.data_page_offset) + chunk.total_compressed_size // 2
    data[middle : middle + 32] = b"\xff" * 32
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("column", ["Hours", "Surname"])  # read first for its fractions; read with the rest
def test_a_parquet_file_with_damaged_data_is_a_message(run_cli, tmp_path: Path, workspace: Path, column: str) -> None:
    f = _damaged(tmp_path / "p.parquet", column)
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2
    assert "p.parquet: the Parquet file is damaged: its columns are listed, but its data cannot be read" in r.stderr
    assert r.stderr.rstrip().endswith("Fix: export the file again, and submit that.")
    assert "Traceback" not in r.stderr + r.stdout
    assert written_files(workspace) == []


def test_a_parquet_column_name_given_twice_is_named_as_the_file_has_it(run_cli, tmp_path: Path) -> None:
    names = ["Employee No", "Forename", "Surname", "Surname"]
    pq.write_table(pa.Table.from_arrays([pa.array(["E1"]), pa.array(["Ann"]), pa.array(["Lee"]), pa.array(["Ray"])], names=names), tmp_path / "p.parquet")
    r = run_cli("ingest", "payroll", str(tmp_path / "p.parquet"), "--body", "kingston")
    assert r.exit_code == 2
    assert "p.parquet: the header 'Surname' appears 2 times (columns 3, 4), so field 'surname' is ambiguous." in r.stderr
    assert "Surname_1" not in r.stderr


def test_a_refused_windows_1252_file_is_named_as_submitted(run_cli, tmp_path: Path) -> None:
    """A Windows-1252 file is read from a UTF-8 copy; a message about it names the file the
    body sent, not the copy."""
    f = tmp_path / "semi1252.csv"
    f.write_bytes(b"Employee Ref;Forename;Surname\r\nE1;Si\xe2n;Evans\r\n")
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2
    assert "semi1252.csv: the header row is separated by ';'" in r.stderr and "rewrite-" not in r.stderr
