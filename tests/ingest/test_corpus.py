"""The bad-file corpus: each awkward file a body might send, and exactly what a user sees.

Unusable files exit 2 with a short message and write nothing; usable ones account for
every row (read = loaded + rejected) and say why each rejected row was rejected.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from tests.conftest import CORPUS, written_files


def load(result_json: dict) -> list[dict]:
    con = duckdb.connect()
    rel = con.execute(f"SELECT * FROM read_parquet('{result_json['dataset_path']}') ORDER BY _row")
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]


def rejects(result_json: dict) -> list[dict]:
    with open(result_json["rejects_path"], encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def ingest_ok(run_cli, name: str, kind: str = "payroll") -> dict:
    r = run_cli("ingest", kind, str(CORPUS / name), "--body", "kingston", "--json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["rows_read"] == data["rows_loaded"] + data["rows_rejected"]
    return data


UNUSABLE = {
    "empty.csv": ["empty.csv: the file is empty."],
    "header_only.csv": ["header_only.csv: the file has a header row but no records."],
    "binary.csv": ["binary.csv: this is not a text file"],
    "semicolon.csv": ["semicolon.csv: the header row is separated by ';'"],
    "wrong_delimiter.csv": [
        "wrong_delimiter.csv: none of the 2 records could be split into the header's 8 fields",
        "line 2: has 1 field where the header has 8",
        "The header uses comma but the records seem to use pipe",
    ],
    "unterminated_quote.csv": [
        "unterminated_quote.csv: line 2: a quoted value is never closed",
        "the rest of the file (3 lines) cannot be split into fields",
    ],
    "missing_required.csv": [
        "missing_required.csv: required column 'surname' (Payroll) is missing.",
        "Headers found: 'Employee Number', 'Forename(s)', 'Surnme', 'Date of Birth'",
        "Closest header in the file: 'Surnme'",
        '"<your header>" = "surname"',
    ],
}


@pytest.mark.parametrize("name", sorted(UNUSABLE))
def test_unusable_file_exits_2_names_the_problem_and_writes_nothing(run_cli, workspace: Path, name: str) -> None:
    r = run_cli("ingest", "payroll", str(CORPUS / name), "--body", "kingston")
    assert r.exit_code == 2
    for fragment in UNUSABLE[name]:
        assert fragment in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert len(r.stderr.strip().splitlines()) <= 8
    assert written_files(workspace) == []


def test_windows_1252_is_detected_and_folded(run_cli) -> None:
    data = ingest_ok(run_cli, "windows1252.csv")
    [row] = load(data)
    assert row["forename"] == "ZOE"
    assert row["surname"] == "BRONTE"
    assert row["job_title"] == "Officer – £25k band"


def test_utf8_bom_does_not_hide_the_first_header(run_cli) -> None:
    data = ingest_ok(run_cli, "bom.csv")
    [row] = load(data)
    assert row["employee_ref"] == "E001"
    assert row["record_id"] == "E001"


@pytest.mark.parametrize("name", ["pipe.psv", "tab.tsv"])
def test_pipe_and_tab_delimiters_are_detected(run_cli, name: str) -> None:
    data = ingest_ok(run_cli, name)
    [row] = load(data)
    assert (row["employee_ref"], row["surname"], row["postcode"]) == ("E001", "SMITH", "KT1 1AA")


def test_a_10000_character_field_is_kept_whole(run_cli) -> None:
    data = ingest_ok(run_cli, "long_field.csv")
    assert data["rows_loaded"] == 2
    assert len(load(data)[0]["job_title"]) == 10_000


def test_formula_cells_are_neutralised_in_the_rejects_file(run_cli) -> None:
    data = ingest_ok(run_cli, "formulas.csv")
    assert (data["rows_loaded"], data["rows_rejected"]) == (2, 1)
    assert data["rejects_by_reason"] == {"surname: missing": 1}
    [rej] = rejects(data)
    assert rej["row"] == "2"
    assert rej["Employee Number"] == "'=cmd|' /C calc'!A0"
    assert rej["Job Title"] == "'@SUM(A1)"
    for value in rej.values():
        assert not value.startswith(("=", "+", "-", "@"))


def test_html_in_names_is_stored_as_inert_text(run_cli) -> None:
    data = ingest_ok(run_cli, "html_names.csv")
    assert data["rows_rejected"] == 0
    rows = load(data)
    assert all("<" not in (r["forenames"] or "") and "<" not in (r["surname"] or "") for r in rows)
    assert rows[1]["surname"] == "JONES"


def test_duplicate_keys_keep_the_first_and_say_which_row_they_repeat(run_cli) -> None:
    data = ingest_ok(run_cli, "duplicate_keys.csv")
    assert (data["rows_read"], data["rows_loaded"], data["rows_rejected"]) == (4, 2, 2)
    assert data["rejects_by_reason"] == {
        "employee_ref: duplicate record": 1,
        "employee_ref: duplicate record key": 1,
    }
    by_row = {r["row"]: r["reason"] for r in rejects(data)}
    assert by_row == {
        "3": "duplicate record: same as row 1",
        "4": "duplicate record key: row 2 has the same key",
    }
    assert [r["forename"] for r in load(data)] == ["JOHN", "MARY"]


def test_29_february_1900_is_a_field_defect_not_a_reject(run_cli) -> None:
    data = ingest_ok(run_cli, "leap_1900.csv")
    assert data["rows_rejected"] == 0
    rows = load(data)
    assert rows[0]["dob"] is None
    assert str(rows[1]["dob"]) == "2000-02-29"


def test_a_future_date_of_birth_is_nulled_and_counted(run_cli, workspace: Path) -> None:
    data = ingest_ok(run_cli, "future_dates.csv")
    assert data["rows_rejected"] == 0
    assert load(data)[0]["dob"] is None
    r = run_cli("ingest", "payroll", str(CORPUS / "future_dates.csv"), "--body", "richmond")
    assert "dob: date of birth in the future: 1" in r.stdout


def test_blank_lines_are_not_records(run_cli) -> None:
    data = ingest_ok(run_cli, "blank_lines.csv")
    assert (data["rows_read"], data["rows_loaded"], data["rows_rejected"]) == (2, 2, 0)


def test_trailing_delimiters_are_tolerated(run_cli) -> None:
    data = ingest_ok(run_cli, "trailing_delimiters.csv")
    assert (data["rows_read"], data["rows_loaded"]) == (2, 2)
    assert load(data)[1]["job_title"] == "Clerk"


def test_a_short_line_is_rejected_with_its_line_number_and_text(run_cli) -> None:
    data = ingest_ok(run_cli, "short_rows.csv")
    assert (data["rows_read"], data["rows_loaded"], data["rows_rejected"]) == (3, 2, 1)
    assert data["rejects_by_reason"] == {"malformed line: wrong number of fields": 1}
    [rej] = rejects(data)
    assert rej["line"] == "3"
    assert rej["reason"] == "has 3 fields where the header has 8"
    assert rej["raw_line"] == "E002,Mary,Jones"


def test_missing_key_or_required_value_rejects_only_that_row(run_cli) -> None:
    data = ingest_ok(run_cli, "missing_required_values.csv")
    assert (data["rows_loaded"], data["rows_rejected"]) == (1, 2)
    assert data["rejects_by_reason"] == {"employee_ref: missing": 1, "surname: missing": 1}
    assert [(r["row"], r["field"]) for r in rejects(data)] == [("2", "employee_ref"), ("3", "surname")]
