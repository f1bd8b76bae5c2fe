"""Address lines and the address forms derived from them."""

from __future__ import annotations

import duckdb
import pytest

from matching.ingest.standardise import standardise_value
from matching.ingest.standardise.addresses import address_columns, clean_address_line
from matching.ingest.standardise.sql import binding, literal
from matching.specs import FieldSpec

LINE = FieldSpec(name="address_line_1", type="text", address_line=1)


def derive(*lines: str) -> dict[str, str | None]:
    with binding() as bindings:
        cols = address_columns([clean_address_line(literal(line), LINE)[0] for line in lines])
    select = ", ".join(f"{sql} AS {name}" for name, sql in cols)
    row = duckdb.connect().execute(f"SELECT {select} FROM ({bindings.wrap('(SELECT 1)')})").fetchall()[0]
    return dict(zip([name for name, _ in cols], row, strict=True))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 High St., London", "12 HIGH ST, LONDON"),
        ("Flat 3 , 4 Station Rd", "FLAT 3, 4 STATION RD"),
        ("St John's  Close", "ST JOHNS CLOSE"),
        ("12 - 14 Church Rd", "12-14 CHURCH RD"),
        ("A & B House", "A AND B HOUSE"),
        ("Café Row", "CAFE ROW"),
        ("03/12/2024", "3/12"),
        ("2024-12-03 00:00:00", "3/12"),
    ],
)
def test_lines_are_cleaned(raw: str, expected: str) -> None:
    assert standardise_value("text", raw, address_line=1) == (expected, None)


@pytest.mark.parametrize(
    ("lines", "single", "flat", "number", "street"),
    [
        (["12 High St", "Kingston"], "12 HIGH STREET KINGSTON", None, "12", "HIGH STREET"),
        (["Flat 3, 4 Station Rd", "TW9 1DN"], "FLAT 3 4 STATION ROAD", "3", "4", "STATION ROAD"),
        (["Flt 3A", "4 Station Rd"], "FLAT 3A 4 STATION ROAD", "3A", "4", "STATION ROAD"),
        (["3/12 High St.", "Surbiton"], "3/12 HIGH STREET SURBITON", "3", "12", "HIGH STREET"),
        (["03/12/2024", "High Street"], "3/12 HIGH STREET", "3", "12", "HIGH STREET"),
        (["Rose Cottage", "5 Mill Lane", "St Albans"], "ROSE COTTAGE 5 MILL LANE ST ALBANS", None, "5", "MILL LANE"),
        (["Ground Floor Flat", "12 St John's Rd"], "GROUND FLOOR FLAT 12 ST JOHNS ROAD", "GROUND FLOOR", "12", "ST JOHNS ROAD"),
        (["12-14 Church Road", "Kingston upon Thames, KT1 1AA"], "12-14 CHURCH ROAD KINGSTON UPON THAMES", None, "12-14", "CHURCH ROAD"),
        (["12, High St, London"], "12 HIGH STREET LONDON", None, "12", "HIGH STREET"),
        (["Flat A", "The Maltings", "Mill Rd"], "FLAT A THE MALTINGS MILL ROAD", "A", None, "MILL ROAD"),
        (["12A Victoria Cres", "Apt 2"], "12A VICTORIA CRESCENT FLAT 2", "2", "12A", "VICTORIA CRESCENT"),
    ],
)
def test_address_forms(lines: list[str], single: str, flat: str | None, number: str | None, street: str | None) -> None:
    assert derive(*lines) == {"address_single": single, "address_flat": flat, "address_number": number, "address_street": street}


def test_no_lines_means_no_address() -> None:
    with binding() as bindings:
        cols = address_columns(["NULL::VARCHAR", "NULL::VARCHAR"])
    row = duckdb.connect().execute(f"SELECT {', '.join(sql for _, sql in cols)} FROM ({bindings.wrap('(SELECT 1)')})").fetchall()[0]
    assert row == (None, None, None, None)
