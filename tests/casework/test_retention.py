"""Retention: `matching purge` deletes what is older than a date, files and rows, and records it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from matching.casework import lifecycle
from matching.casework.models import (
    AuditEvent,
    Body,
    Declaration,
    Exercise,
    Match,
    Note,
    Outcome,
    Run,
    SetAside,
    Submission,
)
from matching.casework.publish import publish
from matching.casework.retention import purge
from matching.workspace import Workspace
from tests.casework.fixtures import inconsistency, make_bundle
from tests.ingest.test_ingest import write_csv

pytestmark = pytest.mark.django_db
HEADER = ["Record Ref", "Forename", "Surname", "DOB"]


def _ingest(run_cli, tmp_path: Path, name: str, extract_date: str) -> dict:
    f = write_csv(tmp_path / f"{name}.csv", HEADER, [[f"{name}1", "Gemma", "Francis", "01/10/1956"], [f"{name}2", "", "", "x"]])
    r = run_cli("ingest", "person", str(f), "--body", "kingston", "--extract-date", extract_date, "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


@pytest.fixture
def two_exercises(run_cli, workspace, tmp_path):
    """Exercises of 1 Oct 2025 and 1 Oct 2026, each with a published run, a declared match
    and a submission; the old match has an outcome and a note; an unpublished old bundle."""
    from django.contrib.auth.models import User

    ws = Workspace.at(workspace)
    old_sub = _ingest(run_cli, tmp_path, "old", "2025-09-30")
    new_sub = _ingest(run_cli, tmp_path, "new", "2026-09-30")
    old_run = make_bundle(workspace, [inconsistency(1), inconsistency(2)], as_at="2025-10-01",
                          created_at=datetime(2025, 11, 1, tzinfo=UTC))
    stray = make_bundle(workspace, [inconsistency(3)], as_at="2025-10-01", created_at=datetime(2025, 11, 2, tzinfo=UTC))
    new_run = make_bundle(workspace, [inconsistency(1)], as_at="2026-10-01", job="hb-to-deceased-2",
                          created_at=datetime(2026, 11, 1, tzinfo=UTC))
    # One inconsistency of the old run was set aside (tests/web/test_set_aside.py has the page).
    pq.write_table(pa.Table.from_pylist([{
        "owning_body": "kingston", "left_kind": "housing_benefit", "left_body": "kingston", "left_submission_id": "s1",
        "left_record_id": "HB000009", "right_kind": "deceased_persons", "right_body": "dwp", "right_submission_id": "s2",
        "right_record_id": "DR000009", "match_probability": 0.99,
        "explanation": "...", "also_linked_right_body": "dwp", "also_linked_right_record_id": "DR000010",
        "also_linked_match_probability": 0.999}]), workspace / "runs" / old_run / "set_aside.parquet")
    publish(ws, old_run)
    publish(ws, new_run)
    admin = User.objects.create_superuser("admin", password="x-not-used-x")
    kingston = Body.objects.get(code="kingston")
    for exercise in Exercise.objects.all():
        for body in (kingston, Body.objects.get(code="dwp")):
            Declaration.objects.create(body=body, exercise=exercise, declared_by="t")
    k_inv = User.objects.create_user("k_inv", password="x-not-used-x")
    kingston.memberships.create(user=k_inv, role="key_contact")
    old = Match.objects.get(job="hb-to-deceased", left_record_id="HB000001")
    old = lifecycle.allocate(old, k_inv, admin, old.version)
    lifecycle.add_note(old, k_inv, "Called the claimant", old.version)
    old = Match.objects.get(pk=old.pk)
    lifecycle.record_outcome(old, k_inv, lifecycle.OutcomeInput("no_issue", "same"), old.version)
    return {"old_sub": old_sub, "new_sub": new_sub, "old_run": old_run, "stray": stray, "new_run": new_run}


def test_dry_run_counts_and_deletes_nothing(run_cli, workspace, two_exercises):
    r = run_cli("purge", "--before", "2026-01-01", "--dry-run", "--json")
    assert r.exit_code == 0, r.stderr
    data = r.json()
    assert data["case_store"] == {"exercises": 1, "matches": 2, "matches_kept_for_a_later_exercise": 0, "outcomes": 1,
                                  "notes": 1, "runs": 1, "set_aside": 1, "submissions": 2, "declarations": 2}
    assert data["files"] == {"run_bundles": 2, "dataset_files": 1, "rejects_files": 1, "submission_records": 1,
                             "left_by_interrupted_work": 0}
    assert Match.objects.count() == 3 and Path(two_exercises["old_sub"]["dataset_path"]).exists()
    assert not AuditEvent.objects.filter(action="purge").exists()


def test_purge_asks_first_unless_told_yes(run_cli, workspace, two_exercises):
    from click.testing import CliRunner

    from matching.cli import cli

    result = CliRunner().invoke(cli, ["--workspace", str(workspace), "purge", "--before", "2026-01-01"], input="n\n")
    assert result.exit_code == 1 and "Would delete" in result.stdout and "Delete all of this permanently?" in result.stdout
    assert Match.objects.count() == 3 and not AuditEvent.objects.filter(action="purge").exists()


def test_purge_with_nothing_before_the_date_says_so_and_asks_nothing(run_cli, workspace, two_exercises):
    events = AuditEvent.objects.count()
    r = run_cli("purge", "--before", "2020-01-01")  # no --yes: it would ask if there were anything
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("Nothing to purge: nothing held is dated before 1 January 2020.")
    assert "Delete all of this permanently?" not in r.stdout
    assert AuditEvent.objects.count() == events and Match.objects.count() == 3


def test_purge_deletes_old_rows_and_files_and_keeps_the_later_exercise(run_cli, workspace, two_exercises):
    ws = Workspace.at(workspace)
    events_before = AuditEvent.objects.count()
    r = run_cli("purge", "--before", "2026-01-01", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "Deleted: everything dated before 1 January 2026" in r.stdout and "recorded in the audit trail" in r.stdout
    # The case store keeps only the later exercise.
    assert list(Exercise.objects.values_list("as_at", flat=True)) == [date(2026, 10, 1)]
    assert list(Match.objects.values_list("job", flat=True)) == ["hb-to-deceased-2"]
    assert list(Run.objects.values_list("run_id", flat=True)) == [two_exercises["new_run"]]
    assert (Outcome.objects.count(), Note.objects.count(), Declaration.objects.count(), SetAside.objects.count()) == (0, 0, 2, 0)
    assert Submission.objects.filter(exercise__as_at__lt=date(2026, 1, 1)).count() == 0
    # Files: old bundles (published or not) and the old submission's files are gone.
    assert not (ws.runs / two_exercises["old_run"]).exists() and not (ws.runs / two_exercises["stray"]).exists()
    assert (ws.runs / two_exercises["new_run"] / "manifest.json").exists()
    old, new = two_exercises["old_sub"], two_exercises["new_sub"]
    assert not Path(old["dataset_path"]).exists() and not Path(old["rejects_path"]).exists()
    assert not ws.submission_record_path(old["submission_id"]).exists()
    assert Path(new["dataset_path"]).exists() and ws.submission_record_path(new["submission_id"]).exists()
    # One event records it in the trail of each body whose data went, and the trail (never
    # purged) still verifies.
    purges = AuditEvent.objects.filter(action="purge").order_by("seq")
    assert AuditEvent.objects.count() == events_before + len(purges)
    assert [e.body for e in purges] == ["dwp", "kingston"]
    event = purges.get(body="kingston")
    assert event.detail["matches"] == 2 and event.detail["run_bundles"] == 2 and event.detail["exercise_dates"] == ["2025-10-01"]
    assert run_cli("audit", "verify").exit_code == 0
    # Nothing more to do the second time.
    again = purge(ws, date(2026, 1, 1), "test", dry_run=True)
    assert sum(again.counts.values()) == 0 and sum(again.file_counts().values()) == 0


def test_a_bad_date_is_a_message(run_cli, workspace):
    r = run_cli("purge", "--before", "31/12/2025", "--yes")
    assert r.exit_code == 2 and "--before" in r.stderr and "Traceback" not in r.stderr


def test_what_a_later_exercise_still_uses_is_kept(run_cli, workspace, two_exercises):
    """A closed match of the old exercise that a later run saw again, with its outcome, and
    the old submission a later bundle was made from, stay when the old exercise goes."""
    later = make_bundle(workspace, [inconsistency(1)], as_at="2026-10-01", created_at=datetime(2026, 11, 2, tzinfo=UTC))
    manifest = workspace / "runs" / later / "manifest.json"
    data = json.loads(manifest.read_text())
    data["inputs"][0]["submission_id"] = two_exercises["old_sub"]["submission_id"]
    manifest.write_text(json.dumps(data))
    publish(Workspace.at(workspace), later)
    seen = Match.objects.get(job="hb-to-deceased", left_record_id="HB000001")
    assert seen.status == "closed" and seen.last_run.run_id == later
    r = run_cli("purge", "--before", "2026-01-01", "--yes", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["case_store"]["matches_kept_for_a_later_exercise"] == 1
    seen.refresh_from_db()
    assert seen.exercise.as_at.isoformat() == "2026-10-01" and seen.outcomes.count() == 1
    assert not Match.objects.filter(job="hb-to-deceased", left_record_id="HB000002").exists()
    assert Path(two_exercises["old_sub"]["dataset_path"]).exists()


def test_files_no_exercise_accounts_for_are_named_not_purged(run_cli, workspace, two_exercises):
    chart = workspace / "charts" / "hb-to-deceased" / "comparison.html"
    chart.parent.mkdir(parents=True)
    chart.write_text("FRANCIS", encoding="utf-8")
    r = run_cli("purge", "--before", "2026-01-01", "--yes")
    assert r.exit_code == 0 and "Not purged: 1 file in the workspace that no exercise accounts for" in r.stdout
    assert str(chart) in r.stdout and chart.exists()
