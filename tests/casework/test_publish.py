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
    # (Made later by an engine from before the change, elsewhere: not an older run.)
    result = publish(ws, make_bundle(workspace, [inconsistency(7, **pair)], job="payroll-to-payroll", created_at=later(9)),
                     actor="test")
    assert Match.objects.count() == 2 and Match.objects.get(owning_body__code="kingston").times_seen == 2
    # It gives the pair one match, so it did not look for richmond's own: not marked as not found.
    assert result.not_found == 0 and Match.objects.get(owning_body__code="richmond").not_found_by is None


@pytest.mark.django_db
def test_an_older_run_is_refused_once_a_newer_one_of_its_job_is_published(casework, run_cli):
    from matching.casework.publish import OlderRun

    ws = Workspace.at(casework.workspace)
    earlier = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)
    older = make_bundle(casework.workspace, [inconsistency(1, left={"weekly_amount": "£166.06"})], created_at=earlier)
    newer = make_bundle(casework.workspace, [inconsistency(1, left={"weekly_amount": "£170.00"})], created_at=later(9))
    publish(ws, newer)
    m = casework.matches["kingston"][1]
    m.refresh_from_db()
    lifecycle.allocate(m, casework.users["k_inv"], casework.users["k_kc"], m.version)
    m.refresh_from_db()
    lifecycle.record_outcome(m, casework.users["k_inv"], lifecycle.OutcomeInput("no_issue", "same"), m.version)
    with pytest.raises(OlderRun, match=f"Run {older} was made before run {newer} of hb-to-deceased, which is already published"):
        publish(ws, older)
    m.refresh_from_db()
    assert m.status == Status.CLOSED and m.left_record["weekly_amount"] == "£170.00"  # not reopened with older records
    assert not Run.objects.filter(run_id=older).exists()
    # publish --all passes over it, names it, and publishes the rest.
    other = make_bundle(casework.workspace, [inconsistency(2)], created_at=later(10))
    r = run_cli("publish", "--all")
    assert r.exit_code == 0, r.stderr
    assert f"Runs published: {other}" in r.stdout
    said = " ".join(r.stderr.split())  # on stderr: --json's output stays JSON
    assert f"Not published, as older than a run of the same job published already (they would put older records back over newer ones): {older}." in said
    assert run_cli("publish", "--all", "--json").json() == []
    # A run for one body does not meet a later run for another body: each may be published.
    for_kingston = make_bundle(casework.workspace, [inconsistency(1), inconsistency(2)], created_at=later(12),
                               manifest_extra={"body": "kingston"})
    for_richmond = make_bundle(casework.workspace, [inconsistency(9, body="richmond")], created_at=later(11),
                               manifest_extra={"body": "richmond"})
    publish(ws, for_kingston)
    assert publish(ws, for_richmond).new == 1
    # A second run in the same second ("<id>-2") is the newer of the two.
    first = make_bundle(casework.workspace, [inconsistency(2)], created_at=later(20), run_id="20261102T200000-hb-to-deceased-0000000a")
    second = make_bundle(casework.workspace, [inconsistency(2)], created_at=later(20), run_id="20261102T200000-hb-to-deceased-0000000a-2")
    publish(ws, second)
    with pytest.raises(OlderRun):
        publish(ws, first)


@pytest.mark.django_db
def test_an_open_match_a_later_run_did_not_find_is_marked_until_found_again(workspace):
    ws = Workspace.at(workspace)
    publish(ws, make_bundle(workspace, [inconsistency(n) for n in (1, 2, 3)]))
    two = Match.objects.get(left_record_id="HB000002")
    closed = Match.objects.get(left_record_id="HB000003")
    Match.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    second = make_bundle(workspace, [inconsistency(1)], created_at=later(9))
    result = publish(ws, second)
    assert result.not_found == 1
    two.refresh_from_db()
    assert two.not_found_by.run_id == second and two.status == Status.NEW and two.version == 2
    assert Match.objects.get(pk=closed.pk).not_found_by is None  # a closed match is left as it was
    event = AuditEvent.objects.get(action="not_found")
    assert (event.object_id, event.body, event.detail) == (str(two.pk), "kingston", {"run_id": second})
    assert "did not find it" in audit.summary(event.action, event.detail)
    assert AuditEvent.objects.filter(action="publish", body="kingston").last().detail["not_found"] == 1
    # A run that did not read kingston's claims did not look for the pair: nothing more is marked.
    dwp_only = make_bundle(workspace, [], created_at=later(10), manifest_extra={"inputs": [
        {"side": "right", "submission_id": "sub-dwp", "kind": "deceased_persons", "body": "dwp", "file_name": "d.csv",
         "sha256": "0" * 64, "rows_loaded": 1, "dataset_path": ""}]})
    assert publish(ws, dwp_only).not_found == 0
    assert Match.objects.get(left_record_id="HB000001").not_found_by is None
    # Found again: no longer marked, and its history says so.
    third = make_bundle(workspace, [inconsistency(1), inconsistency(2)], created_at=later(11))
    assert publish(ws, third).not_found == 0
    two.refresh_from_db()
    assert two.not_found_by is None and two.version == 3  # found again: what its page says has changed
    # A match closed while marked loses the mark when a run finds it again, unchanged.
    Match.objects.filter(pk=two.pk).update(status=Status.CLOSED)
    publish(ws, make_bundle(workspace, [inconsistency(1)], created_at=later(12)))
    assert Match.objects.get(pk=two.pk).not_found_by is None  # (closed: not marked again)
    Match.objects.filter(pk=two.pk).update(not_found_by=Run.objects.get(run_id=second))
    publish(ws, make_bundle(workspace, [inconsistency(1), inconsistency(2)], created_at=later(13)))
    two.refresh_from_db()
    assert two.seen_since_closed and two.not_found_by is None


@pytest.mark.django_db
def test_only_a_change_an_investigator_would_see_makes_a_new_version_and_says_who(casework):
    ws = Workspace.at(casework.workspace)
    m = casework.matches["kingston"][2]
    m = lifecycle.allocate(m, casework.users["k_inv"], casework.users["k_kc"], m.version)
    seen = m.version
    same = make_bundle(casework.workspace, [inconsistency(2)], created_at=later(9))
    assert publish(ws, same, actor="publisher").updated == 1
    m.refresh_from_db()
    assert m.version == seen and m.times_seen == 2  # found again unchanged: a form opened before still applies
    changed = make_bundle(casework.workspace, [inconsistency(2, priority_score=55.0, priority_band="medium")],
                          created_at=later(10))
    publish(ws, changed, actor="publisher")
    m.refresh_from_db()
    assert m.version == seen + 1
    # The match weight and why they matched are shown on the match page too.
    reweighed = inconsistency(2, priority_score=55.0, priority_band="medium", match_weight=12.0, contributions="[]")
    publish(ws, make_bundle(casework.workspace, [reweighed], created_at=later(11)), actor="publisher")
    assert Match.objects.get(pk=m.pk).version == seen + 2
    # A form opened before is refused, naming the publish (not the last person to touch it).
    reweighed_run = Run.objects.order_by("-published_at").first().run_id
    with pytest.raises(lifecycle.Conflict, match=f"Match {m.pk} was changed by the publishing of run {reweighed_run} \\(by publisher\\)"):
        lifecycle.record_outcome(m, casework.users["k_inv"], lifecycle.OutcomeInput("no_issue", "same"), seen)
    assert Match.objects.get(pk=m.pk).status != Status.CLOSED


@pytest.mark.django_db
def test_a_body_whose_only_row_was_set_aside_has_the_publish_in_its_trail(workspace):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from matching.casework.publish import SET_ASIDE_COLUMNS

    run_id = make_bundle(workspace, [inconsistency(1)])
    row = {c: "x" for c in SET_ASIDE_COLUMNS} | {
        "owning_body": "windsor", "left_body": "windsor", "right_body": "dwp", "also_linked_right_body": "slough",
        "match_probability": 0.99, "also_linked_match_probability": 0.999}
    pq.write_table(pa.Table.from_pylist([row]), workspace / "runs" / run_id / "set_aside.parquet")
    assert publish(Workspace.at(workspace), run_id).set_aside == 1
    trails = set(AuditEvent.objects.filter(action="publish").values_list("body", flat=True))
    assert {"windsor", "slough", "kingston", "dwp"} <= trails


@pytest.mark.django_db
@pytest.mark.parametrize("damage, says", [
    ("drop priority_band", "no column priority_band"),
    ("bad json", "row 1: a record or its contributions is not JSON"),
    ("bad created_at", "created_at 'yesterday' is not a date and time"),
])
def test_a_bundle_damaged_inside_publishes_nothing_and_says_where(workspace, damage, says):
    import json

    import pyarrow.parquet as pq

    run_id = make_bundle(workspace, [inconsistency(1)])
    folder = workspace / "runs" / run_id
    table = pq.read_table(folder / "inconsistencies.parquet")
    if damage == "drop priority_band":
        pq.write_table(table.drop(["priority_band"]), folder / "inconsistencies.parquet")
    elif damage == "bad json":
        rows = table.to_pylist()
        rows[0]["left_record"] = "{not json"
        pq.write_table(table.from_pylist(rows, schema=table.schema), folder / "inconsistencies.parquet")
    else:
        manifest = json.loads((folder / "manifest.json").read_text())
        (folder / "manifest.json").write_text(json.dumps(manifest | {"created_at": "yesterday"}))
    with pytest.raises(UserError, match=says) as raised:
        publish(Workspace.at(workspace), run_id)
    assert "Nothing was published" in str(raised.value)
    assert Match.objects.count() == 0 and Run.objects.count() == 0 and AuditEvent.objects.count() == 0
