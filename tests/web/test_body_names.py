"""Explanations name bodies by their names wherever a person reads them: a run knows only
codes ("Employee 0042 of kingston"), and a body's name is set, and may be changed, in the case
store."""

from __future__ import annotations

import csv
import io
import re

import pytest

from matching.casework.explained import explained
from matching.casework.models import Body, Match
from matching.casework.publish import publish
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

KINGSTON, RICHMOND = "Royal Borough of Kingston upon Thames", "London Borough of Richmond upon Thames"


@pytest.fixture
def cross_council(casework):
    row = inconsistency(60, job="payroll-to-payroll", right_body="richmond", right_kind="payroll",
                        right={"death_ref": "EMP60", "employer": "KINGSTON COLLEGE"})
    row["explanation"] = ("Employee HB000060 of kingston (kingston-college's teacher) matches employee EMP60 of "
                          "richmond at KINGSTON COLLEGE; dwp holds nothing.")
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row], job="payroll-to-payroll"), actor="test")
    return Match.objects.get(job="payroll-to-payroll")


WANT = (f"Employee HB000060 of {KINGSTON} (kingston-college's teacher) matches employee EMP60 of "
        f"{RICHMOND} at KINGSTON COLLEGE; dwp holds nothing.")


def test_the_queue_match_page_cli_and_export_name_the_bodies(cross_council, casework, as_user, run_cli):
    kc = as_user("k_kc")
    queue = kc.get("/").content.decode().replace("&#x27;", "'")
    assert WANT[:139] + "…" in queue  # truncated at 140 characters
    listed = run_cli("queue", "list", "--as", "k_kc", "--json").json()
    assert [r["explanation"] for r in listed if r["id"] == cross_council.pk] == [WANT]
    page = kc.get(f"/matches/{cross_council.pk}/").content.decode().replace("&#x27;", "'")
    assert re.search(r'id="explanation">([^<]*)<', page).group(1) == WANT
    shown = run_cli("queue", "show", str(cross_council.pk), "--as", "k_kc")
    assert " ".join(shown.stdout.split()).count(" ".join(WANT.split())) == 1
    rows = list(csv.reader(io.StringIO(b"".join(kc.post("/export/", {"format": "csv"}).streaming_content).decode("utf-8-sig"))))
    header = rows[3]
    assert {dict(zip(header, r, strict=True))["explanation"] for r in rows[4:] if r and r[0] == str(cross_council.pk)} == {WANT}
    # The stored explanation keeps the codes: a body renamed later reads by its new name.
    assert cross_council.explanation.startswith("Employee HB000060 of kingston (")
    Body.objects.filter(code="richmond").update(name="Richmond Council")
    assert "EMP60 of Richmond Council at" in kc.get(f"/matches/{cross_council.pk}/").content.decode()


def test_the_set_aside_page_names_the_bodies(casework, as_user):
    """And the set-aside page's audit event counts the rows it showed."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from matching.casework.audit import summary
    from matching.casework.models import AuditEvent

    run_id = make_bundle(casework.workspace, [inconsistency(61)], job="payroll-to-payroll")
    aside = {
        "job": "payroll-to-payroll", "owning_body": "kingston", "left_kind": "payroll", "left_body": "kingston",
        "left_submission_id": "s1", "left_record_id": "E61", "right_kind": "payroll", "right_body": "richmond",
        "right_submission_id": "s2", "right_record_id": "EMP61", "match_probability": 0.985,
        "explanation": "Employee E61 of kingston matches employee EMP61 of richmond.",
        "also_linked_right_body": "richmond", "also_linked_right_record_id": "EMP62", "also_linked_match_probability": 0.999,
    }
    pq.write_table(pa.Table.from_pylist([aside]), casework.workspace / "runs" / run_id / "set_aside.parquet")
    publish(Workspace.at(casework.workspace), run_id, actor="test")
    page = as_user("k_kc").get("/set-aside/").content.decode()
    assert f"Employee E61 of {KINGSTON} matches employee EMP61 of {RICHMOND}." in page
    event = AuditEvent.objects.filter(action="view_set_aside", body="kingston").latest("seq")
    assert summary(event.action, event.detail) == "1 row shown"


def test_a_body_without_a_name_and_other_words_are_left_as_they_are():
    names = {"kingston": KINGSTON, "dwp": "Department for Work and Pensions", "37": "Body 37"}
    text = "kingston-college, KINGSTON, kingstonian, kingston.ac.uk, /kingston/, (kingston), kingston. dwp"
    assert explained(text, ["kingston"], names) == (
        f"kingston-college, KINGSTON, kingstonian, kingston.ac.uk, /kingston/, ({KINGSTON}), {KINGSTON}. dwp")
    assert explained(text, ["richmond"], names) == text
    assert explained("kingston", ["kingston"], names) == KINGSTON
    assert explained("37 hours a week", ["37"], names) == "37 hours a week"  # a code of digits is never looked for
