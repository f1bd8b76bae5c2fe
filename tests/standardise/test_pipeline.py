"""``standardise`` on a small payroll submission: the columns it creates and ``_defects``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from matching.ingest.standardise import output_columns, register, standardise
from matching.ingest.standardise.sql import ident
from matching.specs import DatasetSpec, FieldSpec, load_spec

PAYROLL_COLUMNS = [
    "_row", "employee_ref", "title", "forenames", "middle_names", "surname", "dob", "ni_number",
    "address_line_1", "address_line_2", "address_line_3", "address_line_4", "postcode", "uprn", "email",
    "phone", "sort_code", "account_number", "employer", "job_title", "date_started", "date_left",
    "gross_pay_to_date", "hours_per_week", "teacher",
    "forename", "forename_canonical", "forename_phonetic", "surname_phonetic",
    "postcode_outward", "postcode_inward", "postcode_sector", "postcode_district", "postcode_area",
    "address_single", "address_flat", "address_number", "address_street", "_defects",
]

ROWS: list[dict[str, str]] = [
    {
        "employee_ref": "p1", "title": "Mrs.", "forenames": "Mr John Paul", "middle_names": "George", "surname": "smith",
        "dob": "01/02/1980", "ni_number": "ab 12 34 56 c", "address_line_1": "Flat 3, 12 High St", "address_line_3": "Kingston",
        "postcode": "kt1 1aa", "uprn": "100023336956.0", "email": "J.Smith@Example.org", "phone": "+44 (0)20 7946 0000",
        "sort_code": "12/03/1956", "account_number": "1234567", "employer": "St Mary's  School", "date_started": "2010-09-01",
        "date_left": "31/12/9999", "gross_pay_to_date": "£1,234.56", "hours_per_week": "37,5", "teacher": "Y",
    },
    {
        "employee_ref": "P2", "forenames": "Peggy", "surname": "O'Brien", "dob": "01/02/2099", "ni_number": "QQ123456C",
        "postcode": "SW1A", "sort_code": "1234", "teacher": "maybe",
    },
    {"employee_ref": "P3", "forenames": "<b>Bob</b>", "surname": "van der Berg"},
    # full names keyed into the forename field
    {"employee_ref": "P4", "forenames": "Mr John Paul Smith", "middle_names": "George", "surname": "Smith"},
    {"employee_ref": "P5", "forenames": "Jan van der Berg", "surname": "Van der Berg"},
    {"employee_ref": "P6", "forenames": "Peggy O'Brien", "surname": "O'Brien"},
    {"employee_ref": "P7", "forenames": "Smith", "surname": "Smith"},
    {"employee_ref": "P8", "forenames": "John Smithson", "surname": "Smith"},
    {"employee_ref": "P9", "forenames": "John Smith Jones", "surname": "Smith-Jones"},
    {"employee_ref": "P10", "forenames": "Mary Ann Mac Donald", "surname": "MacDonald"},
    {"employee_ref": "P11", "forenames": "Sean O Brien", "surname": "O'Brien"},
]


def build(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, rows: list[dict[str, str]]) -> None:
    cols = ", ".join(f"{ident(f.name)} VARCHAR" for f in spec.fields)
    con.execute(f"CREATE TABLE src (_row BIGINT, {cols})")
    for n, row in enumerate(rows, start=1):
        con.execute("INSERT INTO src VALUES (?, " + ", ".join("?" for _ in spec.fields) + ")", [n, *(row.get(f.name) for f in spec.fields)])


@pytest.fixture(scope="module")
def payroll() -> list[dict[str, Any]]:
    spec = load_spec("payroll")
    con = duckdb.connect()
    build(con, spec, ROWS)
    register(con)
    standardise(con, "src", spec, "std")
    rel = con.execute("SELECT * FROM std ORDER BY _row")
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def test_the_output_columns_are_the_fields_then_the_derived_ones(payroll: list[dict[str, Any]]) -> None:
    assert list(payroll[0]) == PAYROLL_COLUMNS
    assert output_columns(load_spec("payroll")) == PAYROLL_COLUMNS


def test_a_full_row_is_standardised_and_typed(payroll: list[dict[str, Any]]) -> None:
    row = payroll[0]
    assert (row["employee_ref"], row["title"], row["forenames"], row["forename"]) == ("P1", "MRS", "JOHN PAUL", "JOHN")
    assert (row["middle_names"], row["surname"]) == ("PAUL GEORGE", "SMITH")
    assert (row["dob"], row["date_started"], row["date_left"]) == (dt.date(1980, 2, 1), dt.date(2010, 9, 1), None)
    assert (row["ni_number"], row["uprn"], row["email"], row["phone"]) == ("AB123456C", 100023336956, "j.smith@example.org", "02079460000")
    assert (row["sort_code"], row["account_number"]) == ("120356", "01234567")
    assert (row["gross_pay_to_date"], row["hours_per_week"], row["teacher"]) == (123456, 37.5, True)
    assert row["employer"] == "St Mary's School"
    assert [row[f"postcode{p}"] for p in ("", "_outward", "_inward", "_sector", "_district", "_area")] == [
        "KT1 1AA", "KT1", "1AA", "KT1 1", "KT1", "KT",
    ]
    assert (row["address_line_1"], row["address_line_2"], row["address_line_3"]) == ("FLAT 3, 12 HIGH ST", None, "KINGSTON")
    assert (row["address_single"], row["address_flat"], row["address_number"], row["address_street"]) == (
        "FLAT 3 12 HIGH STREET KINGSTON", "3", "12", "HIGH STREET",
    )
    assert (row["forename_canonical"], row["forename_phonetic"], row["surname_phonetic"]) == ("JOHN", "JN", "SM0")
    assert row["_defects"] == []


def test_each_nulled_value_is_a_defect_in_spec_order(payroll: list[dict[str, Any]]) -> None:
    row = payroll[1]
    assert row["_defects"] == [
        {"field": "dob", "reason": "date of birth in the future", "value": "01/02/2099"},
        {"field": "ni_number", "reason": "invalid NI number prefix", "value": "QQ123456C"},
        {"field": "postcode", "reason": "incomplete postcode (outward code only)", "value": "SW1A"},
        {"field": "sort_code", "reason": "not a sort code (6 digits)", "value": "1234"},
        {"field": "teacher", "reason": "not a yes/no value", "value": "maybe"},
    ]
    assert (row["dob"], row["ni_number"], row["postcode"], row["postcode_outward"], row["teacher"]) == (None,) * 5
    assert (row["forename_canonical"], row["surname"], row["title"]) == ("MARGARET", "OBRIEN", None)


def test_markup_in_a_name_is_text_not_a_reason_to_reject(payroll: list[dict[str, Any]]) -> None:
    row = payroll[2]
    assert (row["forenames"], row["forename_canonical"], row["surname"], row["_defects"]) == ("BOB", "ROBERT", "VAN DER BERG", [])
    assert row["surname_phonetic"] == "FNTRBRK"


def test_a_full_name_in_the_forename_field_does_not_make_the_surname_a_middle_name(payroll: list[dict[str, Any]]) -> None:
    names = [(r["title"], r["forenames"], r["forename"], r["middle_names"], r["surname"]) for r in payroll[3:]]
    assert names == [
        ("MR", "JOHN PAUL", "JOHN", "PAUL GEORGE", "SMITH"),
        (None, "JAN", "JAN", None, "VAN DER BERG"),
        (None, "PEGGY", "PEGGY", None, "OBRIEN"),
        (None, "SMITH", "SMITH", None, "SMITH"),  # a forename that is the surname stays
        (None, "JOHN SMITHSON", "JOHN", "SMITHSON", "SMITH"),  # a whole word only
        # however the surname field writes it
        (None, "JOHN", "JOHN", None, "SMITH-JONES"),
        (None, "MARY ANN", "MARY", "ANN", "MACDONALD"),
        (None, "SEAN", "SEAN", None, "OBRIEN"),
    ]


def test_a_full_name_field_is_split_into_parts() -> None:
    spec = DatasetSpec(
        kind="people", title="People", description="", held_by="", record_key="ref", subject="person",
        fields=(FieldSpec("ref", "code"), FieldSpec("name", "name", part="full"), FieldSpec("title", "name", part="title")),
    )
    con = duckdb.connect()
    build(con, spec, [{"ref": "1", "name": "SMITH, Mr John Paul"}, {"ref": "2", "name": "Dr Jane van der Berg", "title": "Prof"}])
    standardise(con, "src", spec, "std")
    rows = con.execute("SELECT name, title, forenames, forename, middle_names, surname, forename_canonical FROM std ORDER BY _row").fetchall()
    assert rows == [
        ("JOHN PAUL SMITH", "MR", "JOHN PAUL", "JOHN", "PAUL", "SMITH", "JOHN"),
        ("JANE VAN DER BERG", "PROF", "JANE", "JANE", None, "VAN DER BERG", "JANE"),
    ]


def test_a_spec_without_names_or_addresses_needs_no_joins() -> None:
    spec = DatasetSpec(
        kind="payments", title="Payments", description="", held_by="", record_key="ref", subject="transaction",
        fields=(FieldSpec("ref", "code"), FieldSpec("amount", "money_pence"), FieldSpec("paid", "date")),
    )
    con = duckdb.connect()
    build(con, spec, [{"ref": "i1", "amount": "£10.00", "paid": "bad"}])
    standardise(con, "src", spec, "std")
    assert con.execute("SELECT * FROM std").fetchall() == [
        (1, "I1", 1000, None, [{"field": "paid", "reason": "not a recognised date", "value": "bad"}])
    ]
    assert output_columns(spec) == ["_row", "ref", "amount", "paid", "_defects"]


def test_standardise_leaves_no_temporary_tables_behind() -> None:
    spec = load_spec("payroll")
    con = duckdb.connect()
    build(con, spec, ROWS[:1])
    register(con)
    before = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    standardise(con, "src", spec, "std")
    after = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    assert sorted({*before, ("std",)}) == after


@pytest.mark.parametrize("kind", ["council_tax", "electoral_register", "trade_creditors", "pupils", "deceased_persons"])
def test_every_shipped_spec_standardises(kind: str) -> None:
    spec = load_spec(kind)
    con = duckdb.connect()
    build(con, spec, [{f.name: "x" for f in spec.fields}])
    standardise(con, "src", spec, "std")
    assert [d[0] for d in con.execute("SELECT * FROM std").description] == output_columns(spec)
