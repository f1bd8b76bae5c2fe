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
    assert WANT[:120] in kc.get("/").content.decode().replace("&#x27;", "'")
    page = kc.get(f"/matches/{cross_council.pk}/").content.decode().replace("&#x27;", "'")
    assert re.search(r'id="explanation">([^<]*)<', page).group(1) == WANT
    shown = run_cli("queue", "show", str(cross_council.pk), "--as", "k_kc")
    assert " ".join(shown.stdout.split()).count(" ".join(WANT.split())) == 1
    rows = list(csv.reader(io.StringIO(b"".join(kc.get("/export/?format=csv").streaming_content).decode("utf-8-sig"))))
    header = rows[3]
    assert {dict(zip(header, r, strict=True))["explanation"] for r in rows[4:] if r and r[0] == str(cross_council.pk)} == {WANT}
    # The stored explanation keeps the codes: a body renamed later reads by its new name.
    assert cross_council.explanation.startswith("Employee HB000060 of kingston (")
    Body.objects.filter(code="richmond").update(name="Richmond Council")
    assert "EMP60 of Richmond Council at" in kc.get(f"/matches/{cross_council.pk}/").content.decode()


def test_a_body_without_a_name_and_other_words_are_left_as_they_are():
    names = {"kingston": KINGSTON, "dwp": "Department for Work and Pensions"}
    text = "kingston-college, KINGSTON, kingstonian, kingston. dwp"
    assert explained(text, ["kingston"], names) == f"kingston-college, KINGSTON, kingstonian, {KINGSTON}. dwp"
    assert explained(text, ["richmond"], names) == text
