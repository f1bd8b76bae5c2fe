"""What the audit trail records of personal data shown, and in whose trail.

A body's auditors must see every access to its data: the queue's explanations name people,
a cross-council match shows another council's record, and publishing and purging load and
delete a body's data. A view is not a change: it never takes the blame for a conflict, and it
never pushes a note off a match's history.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from matching.casework import lifecycle
from matching.casework.models import AuditEvent, Match
from matching.casework.publish import publish
from matching.casework.retention import purge
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle

pytestmark = pytest.mark.django_db


def test_the_queue_page_shown_is_audited_in_each_concerned_bodys_trail(casework, as_user):
    m = casework.matches["kingston"][0]
    Match.objects.filter(pk=m.pk).update(explanation="JOHN SMITH (elector E123) is registered at 1 HIGH ST, KT1 1AA")
    html = as_user("k_aud").get("/").content.decode()
    assert "JOHN SMITH" in html
    shown = {int(i) for i in re.findall(r'href="/matches/(\d+)/"', html)}
    events = {e.body: e for e in AuditEvent.objects.filter(action="view_queue", actor="k_aud")}
    assert set(events) == {"kingston", "dwp"}  # the owner, and the body whose death registrations it shows
    assert set(events["kingston"].detail["matches"]) == shown and events["kingston"].detail["page"] == 1


@pytest.fixture
def cross_council(casework):
    """A payroll-to-payroll match: kingston owns it, its right record is richmond's employee."""
    row = inconsistency(50, job="payroll-to-payroll", right_body="richmond", right_kind="payroll",
                        right={"death_ref": "EMP77", "surname": "RICHMONDPERSON"})
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row], job="payroll-to-payroll"), actor="test")
    return Match.objects.get(job="payroll-to-payroll")


def test_another_bodys_record_shown_or_exported_is_in_that_bodys_trail(casework, as_user, cross_council):
    m = cross_council
    k = as_user("k_kc")
    assert "RICHMONDPERSON" in k.get(f"/matches/{m.pk}/").content.decode()
    assert b"RICHMONDPERSON" in b"".join(k.post("/export/", {"format": "csv", "job": "payroll-to-payroll"}).streaming_content)
    seen = AuditEvent.objects.get(action="view_record", actor="k_kc")
    assert (seen.body, seen.object_id, seen.detail["match"]) == ("richmond", f"payroll/richmond/{m.right_record_id}", m.pk)
    assert AuditEvent.objects.filter(action="export", actor="k_kc", body="richmond").count() == 1
    trail = as_user("r_aud").get("/audit/").content.decode()
    assert "view_record" in trail and "k_kc" in trail
    # The match's own history shows the view once.
    assert AuditEvent.objects.filter(object_type="match", object_id=str(m.pk), action="view").count() == 1


def test_a_conflict_names_who_changed_the_match_not_who_last_looked(casework, as_user):
    m = casework.matches["kingston"][0]
    seen = m.version
    lifecycle.add_note(m, casework.users["k_inv"], "checked", seen)
    as_user("k_aud").get(f"/matches/{m.pk}/")  # an auditor only looks
    r = as_user("k_kc").post(f"/matches/{m.pk}/note/", {"version": seen, "text": "x"})
    assert r.status_code == 409
    message = re.search(r"Match \d+ was changed[^.]*", r.content.decode())
    assert message and "by k_inv" in message.group(0) and "k_aud" not in message.group(0)


def test_many_views_never_push_a_note_off_the_history(casework, as_user):
    m = casework.matches["kingston"][0]
    lifecycle.add_note(m, casework.users["k_inv"], "NOTE-THAT-MATTERS", m.version)
    auditor = as_user("k_aud")
    for _ in range(205):
        auditor.get(f"/matches/{m.pk}/")
    assert "NOTE-THAT-MATTERS" in as_user("k_inv").get(f"/matches/{m.pk}/").content.decode()


def test_publish_and_purge_are_in_each_concerned_bodys_trail(casework, as_user):
    def actions_shown(user: str) -> set[str]:
        html = as_user(user).get("/audit/").content.decode()
        return set(re.findall(r">\s*(Published a run|Purged past retention)\s*<", html))

    assert actions_shown("k_aud") == {"Published a run"}
    purge(Workspace.at(casework.workspace), date(2030, 1, 1), actor="ops")
    assert set(AuditEvent.objects.filter(action="purge").values_list("body", flat=True)) == {"dwp", "kingston", "richmond"}
    assert actions_shown("k_aud") == actions_shown("r_aud") == {"Published a run", "Purged past retention"}


def test_the_audit_page_says_what_each_event_did(casework, as_user):
    """An auditor reads who was given a match, what status and outcome it got, what left in an
    export and what a publish loaded, without opening each event; a subject access search
    shows its counts and never its terms."""
    import io

    from matching.casework.export import export_matches
    from matching.casework.lifecycle import OutcomeInput, add_note, record_outcome, reopen
    from matching.casework.subject_access import subject_access

    m = casework.matches["kingston"][0]  # allocated to k_inv by k_kc
    inv = casework.users["k_inv"]
    add_note(m, inv, "Called the claimant's landlord.", m.version)
    m.refresh_from_db()
    record_outcome(m, inv, OutcomeInput(category="error", linkage_label="same", actual_pence=123456), m.version)
    export_matches(casework.users["k_kc"], Match.objects.filter(owning_body__code="kingston"), "csv", io.BytesIO(),
                   filters={"body": "kingston", "status": "open"}, body_label="Kingston")
    export_matches(casework.users["k_kc"], Match.objects.filter(pk=m.pk), "csv", io.BytesIO(),
                   filters={"body": "kingston", "search": "gemma francis"}, body_label="Kingston")
    m.refresh_from_db()
    reopen(m, casework.users["k_kc"], "Mrs Gemma FRANCIS phoned: wrong person", m.version)
    # A reopen recorded by an older version kept the person's reason in the event itself.
    AuditEvent.objects.filter(action="reopen").update(detail={"reason": "Mrs Gemma FRANCIS phoned", "from": "closed", "to": "new"})
    subject_access(Workspace.at(casework.workspace), casework.users["k_kc"], surname="FRANCIS", dob="1956-10-01")
    html = as_user("k_aud").get("/audit/").content.decode()
    cells = [re.sub(r"\s+", " ", c).strip() for c in re.findall(r'<td class="govuk-table__cell">(.*?)</td>', html, re.S)]
    assert "to k_inv" in cells
    assert "Royal Borough of Kingston upon Thames" in cells and "kingston" not in cells  # bodies by name
    assert "from New to In progress (on adding a note)" in cells
    assert "Error; same person; actual £1,234.56" in cells
    assert "CSV, 6 rows; filters: body=kingston, status=open" in cells
    assert "CSV, 1 row; filters: body=kingston, search given" in cells  # a search is a name: never shown
    assert "gemma" not in html.lower() and "phoned" not in html  # nor a reopen's reason, which names people
    assert "gemma" not in str(AuditEvent.objects.filter(action="export").values_list("detail", flat=True)).lower()
    assert "hb-to-deceased: 8 inconsistencies (8 new)" in cells
    searched = next(c for c in cells if c.endswith("(the terms are not kept)"))
    assert "FRANCIS" not in searched and "1956" not in searched and "searched kingston" in searched
