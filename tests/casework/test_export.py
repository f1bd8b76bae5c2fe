"""Exports: marked, attributed, audited, and never a formula when opened in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest

from matching.casework.export import export_matches, neutralise, pounds
from matching.casework.models import AuditEvent, Body, Declaration, Exercise, Match
from matching.casework.publish import publish
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

HOSTILE = {
    "address_line_1": '=HYPERLINK("http://evil.example/","Click")',
    "postcode": "+1",
    "title": "-2",
    "forenames": "@SUM(A1:A9)",
}


@pytest.fixture
def hostile(db, workspace):
    """One declared kingston match whose claim record holds formulas; an ordinary one besides."""
    from django.contrib.auth.models import User

    rows = [inconsistency(0, left=HOSTILE), inconsistency(1)]
    publish(Workspace.at(workspace), make_bundle(workspace, rows), actor="test")
    Declaration.objects.create(body=Body.objects.get(code="kingston"), exercise=Exercise.objects.get(), declared_by="t")
    return User.objects.create_superuser("admin", password="x-not-used-x")


def export(user, fmt: str, **filters) -> bytes:
    out = io.BytesIO()
    export_matches(user, Match.objects.all(), fmt, out, filters=filters, body_label="Kingston")
    return out.getvalue()


def test_neutralise_quotes_what_a_spreadsheet_would_run():
    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "\nx", "\0x", "  =HYPERLINK(1)", "\u00a0+1", " \t=1+1", " \r=1", "\u00a0\n@x"):
        assert neutralise(text) == "'" + text
    assert neutralise("O'BRIEN") == "O'BRIEN" and neutralise(None) == "" and neutralise(12) == "12"
    assert (pounds(123456), pounds(5), pounds(None)) == ("1234.56", "0.05", "")


def test_csv_is_marked_and_every_formula_is_neutralised(hostile):
    data = export(hostile, "csv", band="high")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["OFFICIAL-SENSITIVE"]
    assert rows[1][0].startswith("Inconsistencies requiring investigation — not evidence of fraud. Exported by admin at ")
    assert rows[1][0].endswith("from Kingston; filters: band=high")
    assert rows[2] == []
    header = rows[3]
    assert header[:3] == ["match id", "job", "owning body"]
    assert "left_address_line_1" in header and "right_date_of_death" in header
    record = dict(zip(header, next(r for r in rows[4:] if r[header.index("left record id")] == "HB000000"), strict=True))
    assert record["left_address_line_1"] == "'" + HOSTILE["address_line_1"]
    assert record["left_postcode"] == "'+1"
    assert record["left_title"] == "'-2"
    assert record["left_forenames"] == "'@SUM(A1:A9)"
    assert record["right_ni_number"] == "••••••94B"  # masked as stored
    assert record["why they matched"] == ("ni_number: exact match (+13.4); surname: exact match (+9.4); "
                                          "address: different house number (-2.1)")
    assert len(rows) == 6
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_xlsx_has_no_formula_and_is_marked(hostile):
    book = openpyxl.load_workbook(io.BytesIO(export(hostile, "xlsx")))
    sheet = book.active
    assert sheet["A1"].value == "OFFICIAL-SENSITIVE"
    assert "OFFICIAL-SENSITIVE" in sheet.oddHeader.center.text
    assert "not evidence of fraud" in sheet["A2"].value
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for value in HOSTILE.values():
        assert "'" + value in texts and value not in texts
    header = [c.value for c in sheet[4]]
    assert header[0] == "match id" and isinstance(sheet.cell(5, 1).value, int)
    assert isinstance(sheet.cell(5, header.index("priority score") + 1).value, int | float)


def test_xlsx_gives_a_records_money_and_dates_as_numbers_and_dates(db, workspace):
    """To sum the amounts at stake and sort by date in the spreadsheet; a reference that only
    looks like a number stays text."""
    import datetime as dt

    from django.contrib.auth.models import User

    row = inconsistency(3, left={"weekly_amount": "£1,265.18", "claim_ref": "000123", "dob": "1899-12-31",
                                 "overpaid": "£12,345,678,901,234.56", "refund": "-£0.05"},
                        right={"notes": "£5 or so", "dob": "0001-01-01"})
    publish(Workspace.at(workspace), make_bundle(workspace, [row]), actor="test")
    sheet = openpyxl.load_workbook(io.BytesIO(export(User.objects.create_superuser("a", password="x-not-used-x"), "xlsx"))).active
    header = [c.value for c in sheet[4]]
    cell = {name: sheet.cell(5, i + 1) for i, name in enumerate(header)}
    assert cell["left_weekly_amount"].value == 1265.18 and cell["left_weekly_amount"].number_format == "£#,##0.00"
    assert cell["left_payment_end_date"].value == dt.datetime(2026, 6, 22)
    assert cell["right_date_of_death"].value == dt.datetime(2026, 1, 23)
    assert (cell["left_claim_ref"].value, cell["right_notes"].value) == ("000123", "£5 or so")
    assert cell["left_refund"].value == -0.05
    # What a spreadsheet cannot hold exactly stays as the record shows it.
    assert (cell["left_dob"].value, cell["right_dob"].value) == ("1899-12-31", "0001-01-01")
    assert cell["left_overpaid"].value == "£12,345,678,901,234.56"


def test_an_export_is_audited_with_its_format_rows_and_filters(hostile):
    export(hostile, "csv", body="kingston", status=None)
    event = AuditEvent.objects.get(action="export", body="kingston")
    assert AuditEvent.objects.filter(action="export").exclude(body="kingston").count() == 1  # DWP's death registrations
    assert (event.actor, event.object_type, event.body) == ("admin", "export", "kingston")
    assert event.detail == {"format": "csv", "rows": 2, "filters": {"body": "kingston"}}


def test_a_closed_matchs_outcome_is_exported_whole(hostile):
    """What outcome reporting needs: the category, the case reference, the amounts, the basis
    of the estimate and when the outcome was recorded."""
    from matching.casework.models import Outcome, Status

    match = Match.objects.get(left_record_id="HB000001")
    Outcome.objects.create(match=match, category="fraud", linkage_label="same", case_reference="CF/2026/0142",
                           actual_pence=1234560, estimated_pence=400000, estimate_basis="52 weeks of housing benefit",
                           recorded_by=hostile)
    Match.objects.filter(pk=match.pk).update(status=Status.CLOSED)
    rows = list(csv.reader(io.StringIO(export(hostile, "csv").decode("utf-8-sig"))))
    header = rows[3]
    record = dict(zip(header, next(r for r in rows[4:] if r[header.index("left record id")] == "HB000001"), strict=True))
    assert (record["outcome category"], record["outcome case reference"], record["outcome actual (£)"],
            record["outcome estimated (£)"], record["outcome estimate basis"]) == (
        "fraud", "CF/2026/0142", "12345.60", "4000.00", "52 weeks of housing benefit")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", record["outcome recorded"])
