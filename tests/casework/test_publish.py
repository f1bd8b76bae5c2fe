"""Publishing run bundles: one transaction, no duplicates, closed stays closed unless a record changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from matching.casework import audit, lifecycle
from matching.casework.models import AuditEvent, Match, Run, Status
from matching.casework.publish import publish, unpublished
from matching.errors import UserError
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle


def later(hour: int) -> datetime:
    return datetime(2026, 11, 2, hour, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_publish_creates_one_match_per_inconsistency(workspace):
    run_id = make_bundle(workspace, [inconsistency(n) for n in range(5)])
    result = publish(Workspace.at(workspace), run_id)
    assert (result.new, result.updated, result.seen_again, result.reopened) == (5, 0, 0, 0)
    assert Match.objects.count() == 5
    m = Match.objects.get(left_record_id="HB000002")
    assert m.status == Status.NEW
    assert m.right_record["death_ref"] == "DR000002"
    assert m.explanation.startswith("Housing benefit claim HB000002")
    assert m.contributions[0]["comparison"] == "ni_number"
    assert m.owning_body.code == "kingston"
    assert Run.objects.get().inconsistencies == 5
    assert unpublished(Workspace.at(workspace)) == []


@pytest.mark.django_db
def test_publishing_twice_is_refused_and_changes_nothing(workspace):
    run_id = make_bundle(workspace, [inconsistency(1)])
    publish(Workspace.at(workspace), run_id)
    with pytest.raises(UserError, match="already published"):
        publish(Workspace.at(workspace), run_id)
    assert Match.objects.count() == 1


@pytest.mark.django_db
def test_a_later_run_updates_open_matches_instead_of_duplicating(workspace):
    ws = Workspace.at(workspace)
    publish(ws, make_bundle(workspace, [inconsistency(1), inconsistency(2)]))
    second = make_bundle(workspace, [inconsistency(1, priority_score=99.0), inconsistency(3)], created_at=later(9))
    result = publish(ws, second)
    assert (result.new, result.updated) == (1, 1)
    assert Match.objects.count() == 3
    m = Match.objects.get(left_record_id="HB000001")
    assert m.priority_score == 99.0 and m.times_seen == 2 and m.last_run.run_id == second


@pytest.mark.django_db
def test_a_closed_match_seen_again_with_the_same_records_stays_closed(casework):
    match = casework.matches["kingston"][0]
    lifecycle.record_outcome(match, casework.users["k_inv"], lifecycle.OutcomeInput("no_issue", "same"), match.version)
    again = make_bundle(casework.workspace, [inconsistency(0)], created_at=later(10))
    result = publish(Workspace.at(casework.workspace), again)
    assert (result.seen_again, result.reopened, result.new) == (1, 0, 0)
    match.refresh_from_db()
    assert match.status == Status.CLOSED and match.seen_since_closed and match.times_seen == 2


@pytest.mark.django_db
def test_a_closed_match_reopens_when_a_record_changed(casework):
    match = casework.matches["kingston"][0]
    lifecycle.record_outcome(match, casework.users["k_inv"], lifecycle.OutcomeInput("error", "same"), match.version)
    changed = inconsistency(0, left={"payment_end_date": "2026-09-30"})
    result = publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [changed], created_at=later(11)))
    assert result.reopened == 1
    match.refresh_from_db()
    assert match.status == Status.NEW and match.times_reopened == 1
    assert match.allocated_to == casework.users["k_inv"]  # back to the same investigator
    assert match.left_record["payment_end_date"] == "2026-09-30"
    assert match.outcomes.count() == 1  # the earlier outcome stays in the history
    assert AuditEvent.objects.filter(action="reopen", object_id=str(match.pk)).exists()


@pytest.mark.django_db
def test_a_damaged_bundle_publishes_nothing(workspace):
    ws = Workspace.at(workspace)
    run_id = make_bundle(workspace, [inconsistency(1), inconsistency(2)])
    (workspace / "runs" / run_id / "inconsistencies.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError, match="damaged"):
        publish(ws, run_id)
    assert Match.objects.count() == 0 and Run.objects.count() == 0 and AuditEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("manifest", ["{}", '{"job": "hb-to-deceased"}', "[]", "{"])
def test_a_bundle_whose_manifest_is_damaged_publishes_nothing(workspace, manifest):
    ws = Workspace.at(workspace)
    run_id = make_bundle(workspace, [inconsistency(1)])
    (workspace / "runs" / run_id / "manifest.json").write_text(manifest)
    with pytest.raises(UserError, match=r"manifest.json: .*the run bundle is damaged\.\n  Fix: run the job again"):
        publish(ws, run_id)
    assert Match.objects.count() == 0 and Run.objects.count() == 0 and AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_run_names_the_ones_that_exist(workspace):
    make_bundle(workspace, [inconsistency(1)], run_id="20261101T090000-hb-to-deceased-abcd1234")
    with pytest.raises(UserError, match="20261101T090000-hb-to-deceased-abcd1234"):
        publish(Workspace.at(workspace), "nope")


@pytest.mark.django_db
def test_publishing_is_audited_and_the_chain_verifies(workspace):
    publish(Workspace.at(workspace), make_bundle(workspace, [inconsistency(1)]))
    # In the trail of the owner and of the body whose death registration it loaded.
    events = AuditEvent.objects.filter(action="publish").order_by("seq")
    assert [e.body for e in events] == ["dwp", "kingston"]
    assert all(e.detail["new"] == 1 for e in events)
    assert audit.verify().ok


@pytest.mark.django_db
def test_an_analysts_link_is_never_queued(workspace):
    import json

    run_id = make_bundle(workspace, [inconsistency(1)], job="person-link")
    manifest = workspace / "runs" / run_id / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "review": False}))
    assert unpublished(Workspace.at(workspace)) == []
    with pytest.raises(UserError, match="analysts' link"):
        publish(Workspace.at(workspace), run_id)
    assert Match.objects.count() == 0


@pytest.mark.django_db
def test_a_run_that_hands_a_match_to_another_body_is_refused(workspace):
    ws = Workspace.at(workspace)
    publish(ws, make_bundle(workspace, [inconsistency(1)]))
    moved = make_bundle(workspace, [inconsistency(1, owning_body="richmond")], created_at=later(12))
    with pytest.raises(UserError, match="belongs to kingston"):
        publish(ws, moved)
    assert Match.objects.get().owning_body.code == "kingston" and Run.objects.count() == 1


def test_a_job_that_becomes_each_bodys_keeps_the_owners_match_and_gives_the_other_body_one(workspace, db):
    """payroll-to-payroll published one match per pair (to the left body) before it made one
    for each body: the left body's match carries on (allocation, outcome, history), and the
    right body gets its own."""
    from matching.casework.models import Match, Status

    ws = Workspace.at(workspace)
    pair = {"job": "payroll-to-payroll", "left_kind": "payroll", "right_kind": "payroll", "right_body": "richmond"}
    before = inconsistency(7, **pair)
    publish(ws, make_bundle(workspace, [before], job="payroll-to-payroll"), actor="test")
    old = Match.objects.get()
    Match.objects.filter(pk=old.pk).update(status=Status.CLOSED)
    both = [inconsistency(7, **pair), inconsistency(7, **{**pair, "owning_body": "richmond"})]
    publish(ws, make_bundle(workspace, both, job="payroll-to-payroll", manifest_extra={"owning_body": "each"}), actor="test")
    mine, theirs = Match.objects.get(owning_body__code="kingston"), Match.objects.get(owning_body__code="richmond")
    assert mine.pk == old.pk and mine.status == Status.CLOSED and mine.seen_since_closed
    assert theirs.status == Status.NEW and theirs.key != mine.key
    publish(ws, make_bundle(workspace, both, job="payroll-to-payroll", manifest_extra={"owning_body": "each"}), actor="test")
    assert Match.objects.count() == 2


def test_a_bundle_from_before_each_body_got_a_match_updates_the_owners_match(workspace, db):
    from matching.casework.models import Match

    ws = Workspace.at(workspace)
    pair = {"job": "payroll-to-payroll", "left_kind": "payroll", "right_kind": "payroll", "right_body": "richmond"}
    both = [inconsistency(7, **pair), inconsistency(7, **{**pair, "owning_body": "richmond"})]
    publish(ws, make_bundle(workspace, both, job="payroll-to-payroll", manifest_extra={"owning_body": "each"}), actor="test")
    publish(ws, make_bundle(workspace, [inconsistency(7, **pair)], job="payroll-to-payroll"), actor="test")
    assert Match.objects.count() == 2 and Match.objects.get(owning_body__code="kingston").times_seen == 2
