"""Ingest end to end: formats, header mapping, re-submission, manifests and the accounting."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.ingest import ingest_file
from tests.conftest import CORPUS, written_files

HEADER = ["Payroll No", "First Name", "Last Name", "DOB", "NINO", "Addr1", "Postcode", "Sort Code", "Account No"]
ROWS = [
    ["P1", "Mr John Paul", "smith", "01/02/1980", "ab 12 34 56 c", "12 High St", "kt1 1aa", "12-34-56", "1234567"],
    ["P2", "Peggy", "O'Brien", "1975-12-31", "", "Flat 3, 4 Station Rd", "TW9 1DN", "", ""],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def dataset(path: str) -> list[dict]:
    rel = duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}') ORDER BY _row")
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def test_json_output_has_the_documented_keys(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--json")
    assert r.exit_code == 0
    data = r.json()
    assert set(data) == {
        "submission_id", "rows_read", "rows_loaded", "rows_rejected",
        "rejects_by_reason", "blank_rows_skipped", "dataset_path", "rejects_path", "warnings",
    }
    assert data["warnings"] == []
    assert (data["rows_read"], data["rows_loaded"], data["rows_rejected"]) == (2, 2, 0)
    assert "/datasets/payroll/kingston/" in data["dataset_path"]
    assert data["dataset_path"].endswith(f"{data['submission_id']}.parquet")
    assert data["rejects_path"].endswith(f"rejects/{data['submission_id']}.csv")


def test_standardised_columns_are_written(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    data = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--json").json()
    first, second = dataset(data["dataset_path"])
    assert (first["title"], first["forename"], first["middle_names"], first["surname"]) == ("MR", "JOHN", "PAUL", "SMITH")
    assert first["dob"] == dt.date(1980, 2, 1)
    assert first["ni_number"] == "AB123456C"
    assert first["postcode"] == "KT1 1AA"
    assert (first["sort_code"], first["account_number"]) == ("123456", "01234567")
    assert second["forename_canonical"] == "MARGARET"
    assert second["dob"] == dt.date(1975, 12, 31)
    assert first["record_id"] == "P1" and first["body"] == "kingston" and first["kind"] == "payroll"
    assert first["submission_id"] == data["submission_id"]


def test_blanks_around_values_are_trimmed_and_blank_values_are_missing(tmp_path: Path) -> None:
    """Exports pad values with spaces, tabs, carriage returns and no-break spaces; a value of
    blanks alone is missing, and a row whose required field is blank quotes it as it came."""
    nbsp = "\u00a0"
    rows = [
        ["P1", f" {nbsp}John\t", "Smith  ", "01/02/1980", f"\tAB123456C{nbsp}", " 12 High St ", "KT1 1AA", "", ""],
        ["P2", "Ann", "Jones", "1975-12-31", f" {nbsp} ", "\r", "TW9 1DN", "", ""],
        ["P3", "Bo", f" {nbsp}\t", "1975-12-31", "", "", "", "", ""],
        ["P 4", "Al Mary", "Ng", "", "", "", "", "", ""],
    ]
    f = write_csv(tmp_path / "payroll.csv", HEADER, rows)
    result = ingest_file("payroll", f, body="kingston", workspace=tmp_path / "ws").submission
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    first, second, fourth = dataset(result.dataset_path)
    assert (first["forename"], first["surname"], first["ni_number"]) == ("JOHN", "SMITH", "AB123456C")
    assert first["address_single"] == "12 HIGH STREET"
    assert (second["ni_number"], second["address_single"]) == (None, None)
    assert result.quality["ni_number"]["defects"] == {}
    assert (fourth["record_id"], fourth["forename"], fourth["middle_names"]) == ("P 4", "AL", "MARY")
    with open(result.rejects_path, encoding="utf-8", newline="") as fh:
        (reject,) = list(csv.DictReader(fh))
    assert (reject["row"], reject["field"], reject["reason"]) == ("3", "surname", "missing")
    assert reject["Last Name"] == f"' {nbsp}\t"  # quoted: a tab after spaces is a cell a spreadsheet may run


@pytest.mark.parametrize("damage", ['{"kind":', "{}", "\xff\xfe"])
def test_a_damaged_submission_record_is_named(run_cli, tmp_path: Path, workspace: Path, damage: str) -> None:
    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    assert run_cli("ingest", "payroll", str(f), "--body", "kingston").exit_code == 0
    (record,) = (workspace / "submissions").glob("*.json")
    record.write_bytes(damage.encode("latin-1"))
    for args in (("ingest", "payroll", str(f), "--body", "richmond"), ("run", "payroll-to-payroll")):
        r = run_cli(*args)
        assert r.exit_code == 2
        assert f"{record}: this submission record is damaged" in r.stderr and "Fix: restore it" in r.stderr


def test_an_extract_date_in_the_future_is_refused(run_cli, tmp_path: Path, workspace: Path) -> None:
    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--extract-date", "2999-01-01")
    assert r.exit_code == 2 and "--extract-date 2999-01-01: is in the future" in r.stderr
    assert not list(workspace.glob("submissions/*.json"))


def test_a_workspace_that_cannot_be_written_is_a_message(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    (tmp_path / "a-file").write_text("")
    r = run_cli("--workspace", str(tmp_path / "a-file" / "ws"), "ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2 and "Not a directory." in r.stderr and "is a folder you may write to" in r.stderr

    def refused(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "ws" / "tmp"))

    monkeypatch.setattr(Path, "mkdir", refused)
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2 and f"{tmp_path / 'ws' / 'tmp'}: Permission denied." in r.stderr


def test_a_formula_in_a_header_is_neutralised_in_the_rejects_file(tmp_path: Path) -> None:
    f = write_csv(
        tmp_path / "payroll.csv", [*HEADER, '=HYPERLINK("http://evil")'],
        [["P1", "A", "B", "", "", "", "", "", "", "x"], ["", "A", "B", "", "", "", "", "", "", "x"]],
    )
    result = ingest_file("payroll", f, body="kingston", workspace=tmp_path / "ws").submission
    with open(result.rejects_path, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert """'=HYPERLINK("http://evil")""" in header


def test_the_same_file_is_refused_unless_forced(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    first = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--json").json()
    again = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert again.exit_code == 2
    assert f"already ingested for payroll/kingston as submission {first['submission_id']}" in again.stderr
    assert "--force" in again.stderr
    # Another body may submit identical bytes: that is a different submission.
    assert run_cli("ingest", "payroll", str(f), "--body", "richmond").exit_code == 0
    forced = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--force", "--json")
    assert forced.exit_code == 0


def ingest_mapped(run_cli, f: Path, columns: str, *args: str):
    """``matching ingest payroll F --body kingston --mapping M``, M's [columns] being ``columns``
    (lines of "Header" = "field")."""
    m = f.parent / "map.toml"
    m.write_text(f"[columns]\n{columns}")
    return run_cli("ingest", "payroll", str(f), "--body", "kingston", "--mapping", str(m), *args)


def test_a_mapping_file_maps_headers_no_alias_knows(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "odd.csv", ["Emp Key", "Given", "Family"], [["K1", "Ann", "Lee"]])
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2 and "required column 'employee_ref'" in r.stderr
    m = tmp_path / "map.toml"
    m.write_text('[columns]\n"Emp Key" = "employee_ref"\n"Given" = "forenames"\n"Family" = "surname"\n')
    data = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--mapping", str(m), "--json").json()
    assert data["rows_loaded"] == 1
    assert dataset(data["dataset_path"])[0]["surname"] == "LEE"


def test_a_mapping_to_an_unknown_field_is_named(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "odd.csv", ["Emp Key", "Given", "Family"], [["K1", "Ann", "Lee"]])
    r = ingest_mapped(run_cli, f, '"Family" = "surnam"\n')
    assert r.exit_code == 2
    assert "'Family' maps to unknown field 'surnam' of payroll. Did you mean 'surname'?" in r.stderr


def test_two_headers_mapped_to_one_field_are_refused_naming_both(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "p.csv", HEADER, ROWS)
    r = ingest_mapped(run_cli, f, '"Last Name" = "surname"\n"First Name" = "surname"\n')
    assert r.exit_code == 2
    assert "mapping file: 'Last Name' and 'First Name' are both mapped to field 'surname', which is read from one column." in r.stderr
    assert "Fix: keep the line for the column that holds surname; delete the other, or map it to another field." in r.stderr
    assert "required column" not in r.stderr


def test_a_mapping_file_header_not_in_the_file_is_refused_saying_what_to_do(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "p.csv", HEADER, ROWS)
    r = ingest_mapped(run_cli, f, '"Family Nm" = "surname"\n')
    assert r.exit_code == 2
    assert "mapping file: column 'Family Nm' is not in p.csv." in r.stderr
    assert r.stderr.rstrip().endswith("Fix: write the header as p.csv has it, or delete the line for 'Family Nm'.")


def test_a_column_a_mapping_passes_over_is_not_called_outside_the_specification(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "p.csv", HEADER, ROWS)
    m = tmp_path / "map.toml"
    m.write_text('[columns]\n"Addr1" = "forenames"\n')
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--mapping", str(m), "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["warnings"] == [
        "p.csv: column 'First Name' is not read: forenames is read from column 'Addr1' (as the mapping file says). "
        "If 'First Name' holds forenames, map 'First Name' to it in the mapping file instead and ingest the file again with --force."
    ]
    shown = run_cli("ingest", "payroll", str(f), "--body", "richmond", "--mapping", str(m))
    assert "not in the payroll specification" not in shown.stdout


def test_a_mapping_file_chooses_between_headers_that_differ_only_in_case(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "p.csv", ["Employee No", "Forename", "Surname", "SURNAME"], [["E1", "Ann", "Lee", "Ray"]])
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston")
    assert r.exit_code == 2
    assert "p.csv: the header 'Surname' appears 2 times (columns 3, 4), so field 'surname' is ambiguous." in r.stderr
    assert "Fix: rename one of the columns, or name the one to use in a mapping file (--mapping)." in r.stderr
    m = tmp_path / "map.toml"
    m.write_text('[columns]\n"SURNAME" = "surname"\n')
    data = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--mapping", str(m), "--json").json()
    assert dataset(data["dataset_path"])[0]["surname"] == "RAY"
    assert "column 'Surname' is not read: surname is read from column 'SURNAME'" in data["warnings"][0]


def test_headers_match_ignoring_case_space_and_punctuation(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "p.csv", ["EMPLOYEE_NUMBER", "forename (s)", "SUR-NAME"], [["E9", "Al", "Bo"]])
    data = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--json").json()
    assert data["rows_loaded"] == 1


def test_xlsx_dates_and_numbers_read_as_a_person_typed_them(run_cli, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Employee Number", "Forename", "Surname", "Date of Birth", "Account Number", "Sort Code"])
    sheet.append([1001, "Ann", "Lee", dt.datetime(1980, 2, 1), 12345678, dt.datetime(1956, 3, 12)])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["1002", "Bob", "Ray", "01/02/1970", "01234567", "12-34-56"])
    path = tmp_path / "payroll.xlsx"
    book.save(path)
    data = run_cli("ingest", "payroll", str(path), "--body", "kingston", "--json").json()
    assert (data["rows_read"], data["rows_loaded"]) == (2, 2)
    a, b = dataset(data["dataset_path"])
    assert a["employee_ref"] == "1001" and a["dob"] == dt.date(1980, 2, 1)
    assert a["account_number"] == "12345678" and a["sort_code"] == "120356"
    assert b["forename_canonical"] == "ROBERT"


def test_parquet_submissions_are_read(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "payroll.parquet"
    duckdb.connect().execute(
        f"""COPY (SELECT 'E1' AS "Employee Ref", 'Ann' AS "Forename", 'Lee' AS "Surname",
                   DATE '1980-02-01' AS "DOB", 12345 AS "Gross Pay to Date") TO '{path}' (FORMAT parquet)"""
    )
    data = run_cli("ingest", "payroll", str(path), "--body", "kingston", "--json").json()
    [row] = dataset(data["dataset_path"])
    assert row["dob"] == dt.date(1980, 2, 1) and row["gross_pay_to_date"] == 12345


def test_unknown_kind_and_bad_body_are_explained(run_cli) -> None:
    r = run_cli("ingest", "payrol", str(CORPUS / "bom.csv"), "--body", "kingston")
    assert r.exit_code == 2 and "Unknown dataset kind 'payrol'. Did you mean 'payroll'?" in r.stderr
    r = run_cli("ingest", "payroll", str(CORPUS / "bom.csv"), "--body", "Windsor and Maidenhead")
    assert r.exit_code == 2 and "e.g. --body windsor-and-maidenhead" in r.stderr


def test_ingest_dir_ingests_a_manifest_and_reports_bad_files_without_stopping(run_cli, tmp_path: Path, workspace: Path) -> None:
    folder = tmp_path / "exercise"
    folder.mkdir()
    write_csv(folder / "a.csv", HEADER, ROWS)
    (folder / "b.csv").write_text((CORPUS / "header_only.csv").read_text())
    (folder / "manifest.toml").write_text(
        '[[files]]\nkind = "payroll"\nbody = "kingston"\nfile = "a.csv"\n\n'
        '[[files]]\nkind = "payroll"\nbody = "richmond"\nfile = "b.csv"\n'
    )
    r = run_cli("ingest-dir", str(folder), "--json")
    assert r.exit_code == 2
    out = r.json()
    assert out[0]["rows_loaded"] == 2
    assert "header row but no records" in out[1]["error"]
    subs = sorted((workspace / "submissions").glob("*.json"))
    assert len(subs) == 1
    assert json.loads(subs[0].read_text())["body"] == "kingston"
    # The bad file fixed, the same command again ingests it and skips the one already in.
    write_csv(folder / "b.csv", HEADER, ROWS[:1])
    again = run_cli("ingest-dir", str(folder), "--json")
    assert again.exit_code == 0, again.stderr
    skipped, fixed = again.json()
    assert skipped == {"kind": "payroll", "body": "kingston", "file": str(folder / "a.csv"), "already_ingested": out[0]["submission_id"]}
    assert fixed["rows_loaded"] == 1
    assert len(list((workspace / "submissions").glob("*.json"))) == 2
    shown = run_cli("ingest-dir", str(folder))
    assert shown.exit_code == 0 and "already ingested" in shown.stdout


def test_a_failed_ingest_leaves_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills while the dataset and rejects are being written leaves neither half-written
    file behind: the workspace holds no submission and no hidden .tmp file to clear up by hand."""
    from matching.ingest import pipeline

    f = write_csv(tmp_path / "payroll.csv", HEADER, ROWS)
    ws = tmp_path / "ws"
    real_write_rejects = pipeline._write_rejects
    written: list[Path] = []

    def write_then_fill_the_disk(path: Path, *args: object) -> dict[str, int]:
        real_write_rejects(path, *args)
        written.extend(p for p in ws.rglob(".*.tmp") if p.is_file())
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(pipeline, "_write_rejects", write_then_fill_the_disk)
    with pytest.raises(OSError, match="No space left on device"):
        ingest_file("payroll", f, body="kingston", workspace=ws)
    # The failure came after both temporary files were written, or this test proves nothing.
    assert sorted(p.relative_to(ws).parts[0] for p in written) == ["datasets", "rejects"]
    assert [p for p in ws.rglob("*.tmp") if p.is_file()] == []
    assert written_files(ws) == []


cell = st.one_of(st.just(""), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cell, cell, cell, cell, cell), min_size=1, max_size=30))
def test_every_row_is_loaded_or_rejected(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, ...]]) -> None:
    """Every row is loaded, rejected or, if every cell is empty, skipped as blank. (The first
    row loads: a file none of whose records loads is not ingested at all.)"""
    tmp = tmp_path_factory.mktemp("acc")
    f = write_csv(tmp / "p.csv", ["Employee Ref", "Forename", "Surname", "DOB", "NI Number"], [["K0", "Ann", "Lee", "", ""], *map(list, rows)])
    result = ingest_file("payroll", f, body="kingston", workspace=tmp / "ws").submission
    assert result.rows_read + result.blank_rows_skipped == len(rows) + 1
    assert result.blank_rows_skipped == sum(1 for r in rows if not any(c.strip(" \t\r\n\u00a0") for c in r))
    assert result.rows_read == result.rows_loaded + result.rows_rejected
    with open(result.rejects_path, encoding="utf-8") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == result.rows_rejected
    assert len(dataset(result.dataset_path)) == result.rows_loaded


def test_duckdb_spills_into_the_workspace_even_when_its_tmp_folder_was_cleared(tmp_path: Path) -> None:
    """Someone freeing disk space deletes workspace/tmp: the next big query must still spill there."""
    from matching.ingest.pipeline import connect
    from matching.workspace import Workspace

    ws = Workspace.at(tmp_path / "ws")
    assert not ws.tmp.exists()
    with connect(ws, memory_limit="64MB") as con:
        con.execute("SET threads = 1")
        # Sorting ~10 million wide rows does not fit in 64 MB: DuckDB must spill to disk.
        n = con.execute(
            "SELECT count(*) FROM (SELECT i, md5(i::VARCHAR) AS h FROM range(10000000) t(i) ORDER BY h)"
        ).fetchall()[0][0]
        spilled = list(ws.tmp.glob("duckdb-*"))
    assert n == 10_000_000
    assert spilled, "the query did not spill, so this test proves nothing"
    assert not list(ws.tmp.glob("duckdb-*"))  # the spill folder goes with the connection


def test_two_digit_years_and_placeholders_in_required_dates(tmp_path: Path) -> None:
    """A badge expiring 28/02/27 expires in 2027 (read as 1927 it hid every badge used after
    its holder's death); 31/12/9999 where a date is required is rejected as a placeholder,
    not as "missing", since the cell holds a value."""
    f = tmp_path / "bb.csv"
    f.write_text(
        "Badge Number,Forename,Surname,Issue Date,Expiry Date\n"
        "BB1,Ann,Jones,01/03/24,28/02/27\n"
        "BB2,Bob,Jones,01/03/24,31/12/9999\n",
        encoding="utf-8",
    )
    result = ingest_file("blue_badges", f, body="kingston", workspace=tmp_path / "ws").submission
    (badge,) = dataset(result.dataset_path)
    assert (badge["issue_date"], badge["expiry_date"]) == (dt.date(2024, 3, 1), dt.date(2027, 2, 28))
    with open(result.rejects_path, encoding="utf-8", newline="") as fh:
        (reject,) = list(csv.DictReader(fh))
    assert (reject["row"], reject["field"]) == ("2", "expiry_date")
    assert reject["reason"] == "a placeholder for none (such as 31/12/9999), but a value is required"


def test_a_file_none_of_whose_records_loads_is_not_ingested_and_the_last_one_stays(
    run_cli, tmp_path: Path, workspace: Path
) -> None:
    """A file every record of which is rejected would become the body's latest submission and
    replace its data with none: it is refused, saying why, and the previous one stays in use."""
    from matching.ingest.submissions import latest
    from matching.workspace import Workspace

    good = run_cli("ingest", "payroll", str(write_csv(tmp_path / "a.csv", HEADER, ROWS)), "--body", "kingston", "--json").json()
    before = written_files(workspace)
    bad = write_csv(tmp_path / "bad.csv", HEADER, [["", *r[1:]] for r in ROWS])
    with bad.open("a") as fh:
        fh.write("P3,Ann\n")
    r = run_cli("ingest", "payroll", str(bad), "--body", "kingston")
    assert r.exit_code == 2
    assert r.stderr.splitlines() == [
        "Error: bad.csv: none of its 3 records could be loaded, so the file was not ingested.",
        "  employee_ref: missing: 2 (the first: row 1)",
        "  malformed line: wrong number of fields: 1 (the first: line 4)",
        f"  kingston's previous payroll submission, {good['submission_id']}, stays in use.",
        "  Fix: correct the file (or map the right columns with --mapping) and ingest it again.",
    ]
    assert written_files(workspace) == before
    assert [s.submission_id for s in latest(Workspace.at(workspace), "payroll", "kingston")] == [good["submission_id"]]
    one = write_csv(tmp_path / "one.csv", HEADER, [["", *ROWS[0][1:]]])
    r = run_cli("ingest", "payroll", str(one), "--body", "kingston")
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == "Error: one.csv: its one record could not be loaded, so the file was not ingested."
    # ingest-dir reports it as not ingested, and goes on with the next file.
    folder = tmp_path / "exercise"
    folder.mkdir()
    bad.rename(folder / "bad.csv")
    write_csv(folder / "b.csv", HEADER, ROWS)
    (folder / "manifest.toml").write_text(
        '[[files]]\nkind = "payroll"\nbody = "richmond"\nfile = "bad.csv"\n\n'
        '[[files]]\nkind = "payroll"\nbody = "sutton"\nfile = "b.csv"\n'
    )
    r = run_cli("ingest-dir", str(folder), "--json")
    assert r.exit_code == 2
    failed, ingested = r.json()
    assert "bad.csv: none of its 3 records could be loaded" in failed["error"]
    assert "Nothing was written: richmond has no payroll submission yet." in failed["error"]
    assert ingested["rows_loaded"] == 2
    assert not list((workspace / "datasets" / "payroll").glob("richmond*"))


def test_an_impossible_date_is_named_as_such(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "a.csv", HEADER, ROWS)
    r = run_cli("ingest", "payroll", str(f), "--body", "kingston", "--extract-date", "2026-02-30")
    assert r.exit_code == 2 and "'2026-02-30' is not a real date" in r.stderr
    r = run_cli("purge", "--before", "2026-13-01")
    assert r.exit_code == 2 and "'2026-13-01' is not a real date" in r.stderr


def test_a_new_body_nearly_named_as_one_with_data_is_warned_of(run_cli, tmp_path: Path) -> None:
    f = write_csv(tmp_path / "a.csv", HEADER, ROWS)
    assert run_cli("ingest", "payroll", str(f), "--body", "kingston").exit_code == 0
    g = write_csv(tmp_path / "b.csv", HEADER, ROWS[:1])
    r = run_cli("ingest", "payroll", str(g), "--body", "kingstn", "--json")
    assert r.exit_code == 0
    warned = " ".join(" ".join(r.json()["warnings"]).split())
    assert "--body kingstn is new to this workspace, and kingston has data here" in warned
    assert f"remove submission {r.json()['submission_id']}" in warned
    # A body of its own name, or one with data already, is not warned of.
    for body in ("richmond", "kingstn"):
        r = run_cli("ingest", "payroll", str(write_csv(tmp_path / f"{body}-2.csv", HEADER, ROWS)), "--body", body, "--json")
        assert not [w for w in r.json()["warnings"] if "new to this workspace" in w]
