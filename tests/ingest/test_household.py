"""Households: each elector carries the surnames of the others registered at the same property."""

from __future__ import annotations

from pathlib import Path

import duckdb

from matching.ingest import ingest_file
from matching.ingest.standardise.household import MAX_HOUSEHOLD
from matching.rules.compile import dataset_column_types
from matching.specs import load_spec
from tests.ingest.test_ingest import dataset, write_csv

HEADER = ["Elector Number", "Forename", "Surname", "Address 1", "Postcode", "UPRN"]
ROWS = [
    # One property by UPRN, its address written two ways: a couple and their lodger.
    ["A1-1", "Sarah", "Jones", "12 High St", "KT1 1AA", "100023336956"],
    ["A1-2", "David", "Smith", "12 High Street", "KT1 1AA", "100023336956"],
    ["A1-3", "Tom", "Smith", "12 High St", "KT1 1AA", "100023336956"],
    # Alone at a property (next door), and a rejected row (no surname) at the same address.
    ["A1-4", "Ann", "Lee", "14 High St", "KT1 1AA", "100023336957"],
    ["A1-5", "Bob", "", "14 High St", "KT1 1AA", "100023336957"],
    # Only one of a couple has a UPRN: the same address and postcode are the same property.
    ["A1-9", "Mia", "Hart", "6 Kappa Road", "KT1 4GH", "100023336960"],
    ["A1-10", "Leo", "Dunn", "6 Kappa Road", "KT1 4GH", ""],
    # No UPRN: the address line and postcode are the property.
    ["A1-6", "Amy", "Patel", "Flat 2, 3 Mill Lane", "KT1 2BB", ""],
    ["A1-7", "Raj", "Shah", "Flat 2, 3 Mill Lane", "KT1 2BB", ""],
    ["A1-8", "Ian", "Cole", "Flat 3, 3 Mill Lane", "KT1 2BB", ""],
]


def ingest(tmp_path: Path, rows: list[list[str]], body: str = "kingston") -> dict[str, dict]:
    f = write_csv(tmp_path / f"electoral_register_{body}.csv", HEADER, rows)
    result = ingest_file("electoral_register", f, body=body, workspace=tmp_path / "ws")
    return {r["record_id"]: r for r in dataset(result.submission.dataset_path)}


def test_each_elector_lists_the_other_surnames_at_the_property(tmp_path: Path) -> None:
    got = {k: r["household_surnames"] for k, r in ingest(tmp_path, ROWS).items()}
    assert sorted(got["A1-1"]) == ["SMITH"]  # the others, once each
    assert sorted(got["A1-2"]) == ["JONES", "SMITH"]  # the lodger shares the surname
    assert sorted(got["A1-3"]) == ["JONES", "SMITH"]
    assert got["A1-4"] is None  # alone: the rejected row is not a neighbour
    assert "A1-5" not in got
    assert got["A1-6"] == ["SHAH"] and got["A1-7"] == ["PATEL"]
    assert got["A1-8"] is None  # another flat at the same house number
    assert got["A1-9"] == ["DUNN"] and got["A1-10"] == ["HART"]


def test_a_property_with_more_than_a_household_lists_none(tmp_path: Path) -> None:
    """A care home, a hall of residence or a file with one placeholder address is not a household."""
    n = MAX_HOUSEHOLD + 1
    rows = [[f"B{i}", "Pat", f"Surname{chr(65 + i % 26)}", "1 Care Home Road", "KT1 3CC", "200000000001"] for i in range(n)]
    # As big as a household may be: listed.
    rows += [[f"D{i}", "Jo", f"Name{chr(65 + i % 26)}", "3 Care Home Road", "KT1 3CC", "200000000003"] for i in range(MAX_HOUSEHOLD)]
    rows.append(["C1", "Kim", "Ng", "2 Care Home Road", "KT1 3CC", "200000000002"])
    rows.append(["C2", "Lou", "Ng", "2 Care Home Road", "KT1 3CC", "200000000002"])
    got = {k: r["household_surnames"] for k, r in ingest(tmp_path, rows).items()}
    assert all(got[f"B{i}"] is None for i in range(n))
    assert all(got[f"D{i}"] for i in range(MAX_HOUSEHOLD))
    assert got["C1"] == ["NG"] and got["C2"] == ["NG"]


def test_households_are_within_one_body_s_file(tmp_path: Path) -> None:
    """The same UPRN in two bodies' registers (a border property listed twice) stays apart:
    each body's electors there list only the surnames of that body's own electors."""
    uprn = "100023336956"
    first = ingest(tmp_path, [
        ["K1", "Sarah", "Jones", "12 High St", "KT1 1AA", uprn],
        ["K2", "David", "Smith", "12 High St", "KT1 1AA", uprn],
    ], body="kingston")
    second = ingest(tmp_path, [
        ["R1", "Tom", "Brown", "12 High Street", "KT1 1AA", uprn],
        ["R2", "Ann", "Green", "12 High Street", "KT1 1AA", uprn],
    ], body="richmond")
    assert {k: r["household_surnames"] for k, r in first.items()} == {"K1": ["SMITH"], "K2": ["JONES"]}
    assert {k: r["household_surnames"] for k, r in second.items()} == {"R1": ["GREEN"], "R2": ["BROWN"]}


def test_the_written_columns_are_the_declared_ones(tmp_path: Path) -> None:
    """What jobs and rules know of an electoral register is what ingest writes."""
    path = tmp_path / "ws"
    ingest(tmp_path, ROWS)
    files = sorted(path.glob("datasets/electoral_register/*/*.parquet"))
    written = dict(duckdb.connect().execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{files[0]}'))").fetchall())
    assert written == dataset_column_types(load_spec("electoral_register"))
