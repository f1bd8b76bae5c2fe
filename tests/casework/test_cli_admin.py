"""The administration commands: publish, runs, bodies, users, declare and audit verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from matching.casework.models import AuditEvent, Body, Declaration, Exercise, Match, Membership, Run
from tests.casework.fixtures import inconsistency, make_bundle

pytestmark = pytest.mark.django_db
STRONG = "kettle-orbit-lantern-42"


def test_publish_named_runs_then_all_the_rest(run_cli, workspace):
    first = make_bundle(workspace, [inconsistency(n) for n in range(3)])
    r = run_cli("publish", first)
    assert r.exit_code == 0, r.stderr
    assert "hb-to-deceased" in r.stdout and "a match is not evidence of fraud" in r.stdout
    # At 80 columns (CliRunner's) the counts do not fit beside a long job name: a line a run,
    # its name whole, rather than a name folded in pieces.
    assert "  hb-to-deceased: 3 found, 3 new, 0 updated, 0 seen again, 0 reopened, 0 set aside, 0 no longer found (" in r.stdout
    later = make_bundle(workspace, [inconsistency(n) for n in range(4)], as_at="2026-10-01")
    data = run_cli("publish", "--all", "--json").json()
    assert [(d["run_id"], d["new"], d["updated"]) for d in data] == [(later, 1, 3)]
    assert Match.objects.count() == 4 and Run.objects.count() == 2
    assert run_cli("publish", "--all").stdout.startswith("Nothing to publish")


def test_publish_all_stops_at_a_damaged_run_and_says_what_was_published(run_cli, workspace):
    first = make_bundle(workspace, [inconsistency(n) for n in range(3)], run_id="20261101T090000-hb-to-deceased-00000001")
    damaged = make_bundle(workspace, [inconsistency(n) for n in range(4)], run_id="20261102T090000-hb-to-deceased-00000002")
    last = make_bundle(workspace, [inconsistency(n) for n in range(4)], run_id="20261103T090000-hb-to-deceased-00000003")
    (workspace / "runs" / damaged / "inconsistencies.parquet").write_bytes(b"not parquet")
    r = run_cli("publish", "--all")
    assert r.exit_code == 2
    assert f"Runs published: {first}" in r.stdout
    assert f"Not published: {damaged}, {last}. The 1 run(s) before it were published." in r.stderr
    assert list(Run.objects.values_list("run_id", flat=True)) == [first]


@pytest.mark.parametrize("when", ["1999-01-01", "2999-01-01"])
def test_a_declaration_for_an_implausible_new_exercise_is_refused(run_cli, casework, when):
    r = run_cli("declare", "kingston", "--exercise", when)
    assert r.exit_code == 2 and "not a plausible date for a new one" in r.stderr
    assert not Exercise.objects.filter(as_at=when).exists()


def test_a_user_added_on_the_command_line_chooses_their_own_password(run_cli, casework, monkeypatch):
    from matching.casework.models import PasswordChangeRequired

    monkeypatch.setenv("MATCHING_PASSWORD", STRONG)
    assert run_cli("users", "add", "given", "--body", "kingston", "--role", "investigator").exit_code == 0
    assert run_cli("users", "add", "typed", "--body", "kingston", "--role", "investigator", "--password-is-theirs").exit_code == 0
    assert list(PasswordChangeRequired.objects.values_list("user__username", flat=True)) == ["given"]


def test_administrative_commands_are_attributed_to_the_account_that_ran_them(run_cli, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "jsmith")
    assert run_cli("bodies", "add", "camden", "--name", "London Borough of Camden").exit_code == 0
    assert AuditEvent.objects.get(action="body_created").actor == "jsmith (command line)"


def test_publish_errors_are_messages(run_cli, workspace):
    workspace.mkdir()
    r = run_cli("publish", "no-such-run")
    assert r.exit_code == 2 and "No run bundle 'no-such-run'" in r.stderr and "Traceback" not in r.stderr
    assert run_cli("publish").exit_code == 2


def test_an_administrator_sets_a_forgotten_password_and_ends_a_lockout(run_cli, monkeypatch):
    """`users add` keeps an existing user's password; `users set-password` gives a new one,
    to be changed at the next sign-in, forgets the failed sign-ins that locked them out, and
    is audited without the password."""
    from axes.models import AccessAttempt
    from django.contrib.auth.models import User

    from matching.casework.models import PasswordChangeRequired

    monkeypatch.setenv("MATCHING_PASSWORD", STRONG)
    run_cli("bodies", "add", "kingston")
    run_cli("users", "add", "alice", "--body", "kingston", "--role", "investigator", "--password-is-theirs")
    AccessAttempt.objects.create(username="alice", ip_address="10.0.0.1", user_agent="x", http_accept="x",
                                 path_info="/sign-in/", get_data="", post_data="", failures_since_start=5)
    monkeypatch.setenv("MATCHING_PASSWORD", "harbour-violet-sextant-77")
    r = run_cli("users", "set-password", "alice")
    assert r.exit_code == 0, r.stderr
    assert "Password set for alice. They must choose their own at their next sign-in. 5 failed sign-ins cleared." in r.stdout
    alice = User.objects.get(username="alice")
    assert alice.check_password("harbour-violet-sextant-77") and PasswordChangeRequired.objects.filter(user=alice).exists()
    assert not AccessAttempt.objects.filter(username="alice").exists()
    event = AuditEvent.objects.get(action="password_set")
    assert event.body == "kingston" and "harbour" not in json.dumps(event.detail)
    missing = run_cli("users", "set-password", "bob")
    assert missing.exit_code == 2 and "No user 'bob'" in missing.stderr
    monkeypatch.setenv("MATCHING_PASSWORD", "password")
    weak = run_cli("users", "set-password", "alice")
    assert weak.exit_code == 2 and "Password not accepted" in weak.stderr
    assert User.objects.get(username="alice").check_password("harbour-violet-sextant-77")


def test_bodies_add_rename_and_list(run_cli):
    assert run_cli("bodies", "add", "kingston").exit_code == 0
    r = run_cli("bodies", "add", "kingston", "--name", "Royal Borough of Kingston upon Thames")
    assert "Body kingston (Royal Borough of Kingston upon Thames): named." in r.stdout  # it had only its code
    again = run_cli("bodies", "add", "kingston", "--name", "Royal Borough of Kingston upon Thames")
    assert "): unchanged." in again.stdout
    assert "): renamed." in run_cli("bodies", "add", "kingston", "--name", "Kingston Council").stdout
    run_cli("bodies", "add", "kingston", "--name", "Royal Borough of Kingston upon Thames")
    assert run_cli("bodies", "list", "--json").json()[0]["name"] == "Royal Borough of Kingston upon Thames"
    assert [e.action for e in AuditEvent.objects.all()] == ["body_created", "body_renamed", "body_renamed", "body_renamed"]
    bad = run_cli("bodies", "add", "Kingston Council")
    assert bad.exit_code == 2 and "not a valid body name" in bad.stderr and "e.g. matching bodies add kingston-council" in bad.stderr


def test_users_add_with_a_password_from_the_environment(run_cli, monkeypatch):
    monkeypatch.setenv("MATCHING_PASSWORD", STRONG)
    run_cli("bodies", "add", "kingston")
    run_cli("bodies", "add", "richmond")
    r = run_cli("users", "add", "alice", "--body", "kingston", "--role", "key_contact", "--email", "a@example.org")
    assert r.exit_code == 0, r.stderr
    assert "Added alice: key_contact at kingston" in r.stdout
    from django.contrib.auth.models import User

    assert User.objects.get(username="alice").check_password(STRONG)
    # An existing user added to another body gains a membership there.
    assert run_cli("users", "add", "alice", "--body", "richmond", "--role", "auditor").exit_code == 0
    assert set(Membership.objects.values_list("body__code", "role")) == {("kingston", "key_contact"), ("richmond", "auditor")}
    listed = run_cli("users", "list", "--body", "richmond", "--json").json()
    assert listed == [{"username": "alice", "body": "richmond", "role": "auditor", "superuser": False, "active": True}]
    assert {"user_added", "membership_added"} <= set(AuditEvent.objects.values_list("action", flat=True))


def test_a_user_made_an_auditor_or_a_superuser_on_the_command_line_has_their_open_matches_returned(run_cli, casework):
    """As in the web app: someone who can no longer work matches keeps none open; each match
    goes back to the queue, audited as the command line's doing."""
    held = casework.matches["kingston"][0]  # k_inv's
    made = run_cli("users", "add", "k_inv", "--body", "kingston", "--role", "auditor")
    assert made.exit_code == 0
    assert "allocated to k_inv was returned to the queue, unallocated: they can no longer work them." in made.stdout
    assert Match.objects.get(pk=held.pk).allocated_to is None
    event = AuditEvent.objects.filter(action="allocate", object_id=str(held.pk)).latest("seq")
    assert event.actor.endswith("(command line)") and event.detail["because"] == "role_changed"
    theirs = casework.matches["richmond"][0]  # r_inv's
    assert run_cli("users", "add", "r_inv", "--body", "richmond", "--role", "investigator", "--superuser").exit_code == 0
    assert Match.objects.get(pk=theirs.pk).allocated_to is None
    assert AuditEvent.objects.filter(action="allocate", object_id=str(theirs.pk)).latest("seq").detail["because"] == "superuser_granted"


def test_users_add_prompts_for_the_password_twice(run_cli, monkeypatch):
    from click.testing import CliRunner

    from matching.cli import cli

    monkeypatch.delenv("MATCHING_PASSWORD", raising=False)
    run_cli("bodies", "add", "kingston")
    # A slip in the second entry is caught and both are asked for again, not saved as typed.
    slip = "kettle-orbit-lantern-43"
    result = CliRunner().invoke(cli, ["users", "add", "bob", "--body", "kingston", "--role", "investigator"],
                                input=f"{STRONG}\n{slip}\n{STRONG}\n{STRONG}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Password for bob:") == 2 and result.output.count("Repeat for confirmation:") == 2
    assert "The two entered values do not match." in result.output
    assert STRONG not in result.output and slip not in result.output
    from django.contrib.auth.models import User

    assert User.objects.get(username="bob").check_password(STRONG)


def test_users_add_refuses_a_weak_password_and_an_unknown_body(run_cli, monkeypatch):
    run_cli("bodies", "add", "kingston")
    monkeypatch.setenv("MATCHING_PASSWORD", "password")
    weak = run_cli("users", "add", "carol", "--body", "kingston", "--role", "investigator")
    assert weak.exit_code == 2 and "Password not accepted" in weak.stderr and "too common" in weak.stderr
    monkeypatch.setenv("MATCHING_PASSWORD", STRONG)
    unknown = run_cli("users", "add", "carol", "--body", "camden", "--role", "investigator")
    assert unknown.exit_code == 2 and "No body 'camden'" in unknown.stderr and "Traceback" not in unknown.stderr
    role = run_cli("users", "add", "carol", "--body", "kingston", "--role", "boss")
    assert role.exit_code == 2
    from django.contrib.auth.models import User

    assert not User.objects.filter(username="carol").exists()


def test_declare_needs_an_exercise_and_is_idempotent(run_cli, workspace):
    run_cli("bodies", "add", "kingston")
    none = run_cli("declare", "kingston")
    assert none.exit_code == 2 and "publish a run first" in none.stderr
    r = run_cli("declare", "kingston", "--exercise", "2026-10-01", "--by", "Jo Bloggs")
    assert r.exit_code == 0 and "Recorded: kingston's declaration for the exercise of 1 October 2026 by Jo Bloggs" in r.stdout
    again = run_cli("declare", "kingston", "--by", "Someone Else")
    assert again.stdout.startswith("Already recorded") and "Jo Bloggs" in again.stdout
    assert Declaration.objects.count() == 1 and Exercise.objects.count() == 1
    assert AuditEvent.objects.filter(action="declaration").count() == 1
    assert run_cli("declare", "nobody").exit_code == 2
    bad = run_cli("declare", "kingston", "--exercise", "1/10/2026")
    assert bad.exit_code == 2 and "--exercise" in bad.stderr


def test_declare_defaults_to_the_latest_exercise(run_cli, workspace):
    run_cli("publish", make_bundle(workspace, [inconsistency(1)], as_at="2026-10-01"))
    assert run_cli("declare", "kingston", "--by", "Jo").exit_code == 0
    assert Declaration.objects.get().exercise.as_at.isoformat() == "2026-10-01"
    assert Body.objects.get(code="kingston").declarations.count() == 1


def test_audit_verify_reports_intact_and_the_first_changed_event(run_cli):
    run_cli("bodies", "add", "kingston")
    run_cli("bodies", "add", "richmond")
    ok = run_cli("audit", "verify")
    assert ok.exit_code == 0 and ok.stdout.splitlines()[0] == "Audit trail intact: 2 events"
    AuditEvent.objects.filter(seq=1).update(actor="mallory")  # a queryset update bypasses save()
    broken = run_cli("audit", "verify")
    assert broken.exit_code == 1 and "event 1 was changed after it was written" in broken.stderr
    assert run_cli("audit", "verify", "--json").json()["seq"] == 1


def _truncate(keep: int) -> None:
    """What anyone able to write to the case store can do: drop the newest events and set the
    head to the last one kept (queryset calls bypass the model's refusals)."""
    from matching.casework.models import AuditHead

    AuditEvent.objects.filter(seq__gt=keep).delete()
    last = AuditEvent.objects.get(seq=keep)
    AuditHead.objects.filter(pk=1).update(seq=keep, hash=last.hash)


def _rewrite_from(seq: int, actor: str) -> None:
    """Change event ``seq`` and work the chain out again from it, as a forger would."""
    from matching.casework import audit
    from matching.casework.models import AuditHead

    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS
    for e in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        who = actor if e.seq == seq else e.actor
        digest = audit.chain_hash(prev, audit._canonical(e.seq, e.at, who, e.action, e.object_type, e.object_id, e.body, e.detail))
        AuditEvent.objects.filter(pk=e.pk).update(actor=who, prev_hash=prev, hash=digest)
        prev = digest
    AuditHead.objects.filter(pk=1).update(hash=prev)


def test_an_anchor_shows_events_removed_from_the_end_or_a_rewritten_chain(run_cli):
    for code in ("kingston", "richmond", "sutton", "merton"):
        run_cli("bodies", "add", code)
    ok = run_cli("audit", "verify")
    anchor = f"4:{AuditEvent.objects.get(seq=4).hash}"
    assert ok.exit_code == 0 and f"Anchor: {anchor}" in ok.stdout and "outside the case store" in ok.stdout
    assert run_cli("audit", "verify", "--json").json()["anchor"] == anchor
    run_cli("bodies", "add", "barnet")  # the trail grows after the anchor was recorded
    later = run_cli("audit", "verify", "--anchor", anchor[:2 + 16])  # the hash's first 16 characters will do
    assert later.exit_code == 0 and "5 events, the anchor's event 4 among them" in later.stdout

    _truncate(3)
    assert run_cli("audit", "verify").exit_code == 0  # the chain alone cannot tell
    cut = run_cli("audit", "verify", "--anchor", anchor)
    assert cut.exit_code == 1 and "event 4, the anchor's, is missing: events were removed from the end" in cut.stderr


def test_an_anchor_shows_a_chain_worked_out_again(run_cli):
    for code in ("kingston", "richmond", "sutton"):
        run_cli("bodies", "add", code)
    anchor = run_cli("audit", "verify", "--json").json()["anchor"]
    _rewrite_from(2, "mallory")
    assert run_cli("audit", "verify").exit_code == 0  # every hash worked out again: the chain fits
    forged = run_cli("audit", "verify", "--anchor", anchor)
    assert forged.exit_code == 1 and "event 3 is not the event the anchor recorded" in forged.stderr


@pytest.mark.parametrize("anchor", ["", "4", "4:", "x:0123456789abcdef", "0:0123456789abcdef", "4:0123", "4:0123456789abcdeg", "²:0123456789abcdef"])
def test_a_malformed_anchor_is_refused_with_what_one_looks_like(run_cli, anchor):
    run_cli("bodies", "add", "kingston")
    r = run_cli("audit", "verify", "--anchor", anchor)
    assert r.exit_code == 2 and "is not an anchor" in r.stderr and "as 'matching audit verify' prints it" in r.stderr
    assert "Traceback" not in r.stderr


def test_run_publish_publishes_each_new_run(run_cli, workspace, monkeypatch):
    from matching.jobs import run as run_module

    def fake_run_job(name, *, workspace, **_kwargs):  # the bundle a real run writes, without linking
        run_id = make_bundle(workspace.root, [inconsistency(1), inconsistency(7)], job=name)
        counts = {"pairs": 2, "inconsistencies": 2, "by_band": {"high": 1, "medium": 0, "low": 1}}
        return run_module.RunResult(run_id=run_id, job=name, path=workspace.runs / run_id, counts=counts, timings={"total": 0.1})

    monkeypatch.setattr(run_module, "run_job", fake_run_job)
    r = run_cli("run", "hb-to-deceased", "--publish")
    assert r.exit_code == 0, r.stderr
    run_id = Run.objects.get().run_id
    assert f"Published: {run_id} (2 new, 0 updated, 0 seen again, 0 reopened)" in r.stdout
    assert "  hb-to-deceased: 2 pairs, 2 inconsistencies (1 high, 0 medium, 1 low), 0.1 s" in r.stdout  # 80 columns
    data = run_cli("run", "hb-to-deceased", "--publish", "--json").json()
    assert data[0]["published"]["updated"] == 2 and Match.objects.count() == 2
    assert run_cli("run", "hb-to-deceased").exit_code == 0 and Run.objects.count() == 2  # without --publish


def test_an_analysts_link_is_reported_as_linked_pairs_not_inconsistencies(run_cli, workspace, monkeypatch):
    """person-link (review = false) keeps linked pairs for analysts: the run's report never
    calls them inconsistencies, nor says they require investigation."""
    from matching.jobs import run as run_module

    def fake_run_job(name, *, workspace, **_kwargs):
        run_id = make_bundle(workspace.root, [inconsistency(1)], job=name)
        counts = {"pairs": 83, "inconsistencies": 83, "by_band": {"high": 6, "medium": 48, "low": 29}}
        return run_module.RunResult(run_id=run_id, job=name, path=workspace.runs / run_id, counts=counts,
                                    timings={"total": 0.2}, review=name != "person-link")

    monkeypatch.setattr(run_module, "run_job", fake_run_job)
    alone = run_cli("run", "person-link")  # as in a terminal of 80 columns
    assert alone.exit_code == 0, alone.stderr
    assert "person-link: 83 linked pairs for analysis (not inconsistencies; never queued for review), 0.2 s" in alone.stdout
    assert "inconsistencies by priority band" not in alone.stdout and "requires investigation" not in alone.stdout
    both = run_cli("run", "person-link", "hb-to-deceased")
    assert "  hb-to-deceased: 83 pairs, 83 inconsistencies (6 high, 48 medium, 29 low), 0.2 s" in both.stdout
    assert "Each inconsistency requires investigation" in both.stdout and "Next: matching publish --all" in both.stdout


def test_runs_lists_what_each_run_found_and_whether_it_is_published(run_cli, workspace):
    older = make_bundle(workspace, [inconsistency(n) for n in range(4)])
    newer = make_bundle(workspace, [inconsistency(n) for n in range(2)], job="ctr-to-deceased", created_at=datetime(2026, 11, 2, tzinfo=UTC))
    manifest = workspace / "runs" / newer / "manifest.json"
    data = json.loads(manifest.read_text())
    data["counts"] |= {"pairs": 9, "by_band": {"high": 1, "medium": 0, "low": 1}, "inconsistencies_set_aside": 3}
    data["notes"] = ["electoral_register from kingston (sub-1) was ingested without household_surnames."]
    manifest.write_text(json.dumps(data))
    (workspace / "runs" / "20261102T000000-broken").mkdir()  # no manifest: named, not fatal
    assert run_cli("publish", older).exit_code == 0
    rows = run_cli("runs", "--json").json()
    assert [(r["run_id"], r["inconsistencies"], r["set_aside"], r["published"]) for r in rows] == [
        (newer, 2, 3, False), (older, 4, None, True)]
    assert [r["run_id"] for r in run_cli("runs", "--unpublished", "--json").json()] == [newer]
    assert [r["run_id"] for r in run_cli("runs", "hb-to-deceased", "--json").json()] == [older]
    shown = run_cli("runs")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[1:6] == [
        f"{newer}  not published",
        "  as at 2026-10-01, threshold 0.95: 2 inconsistencies (1 high, 0 medium, 1 low), 3 set aside, 9 linked pairs",
        "  Note: electoral_register from kingston (sub-1) was ingested without household_surnames.",
        f"{older}  published",
        "  as at 2026-10-01, threshold 0.95: 4 inconsistencies",
    ]
    assert "Skipped" in shown.stderr and "20261102T000000-broken" in shown.stderr
    assert run_cli("runs", "payroll-to-payroll").stdout.startswith("No runs of payroll-to-payroll in ")
    typo = run_cli("runs", "payroll-to-payrol")
    assert typo.exit_code == 2 and "Unknown job 'payroll-to-payrol'" in typo.stderr and "Did you mean 'payroll-to-payroll'?" in typo.stderr
    everything = run_cli("publish", "--all")
    assert everything.exit_code == 0
    assert "Not published, as their folders have no manifest.json" in everything.stderr and "20261102T000000-broken" in everything.stderr
    assert run_cli("publish", "--all").stdout.startswith("Nothing to publish: every finished run in the workspace")
    assert run_cli("runs", "--unpublished").stdout.startswith("Nothing to publish: every run in ")
    named = run_cli("publish", "20261102T000000-broken")
    assert named.exit_code == 2 and "the run folder has no manifest.json, so the run did not finish" in named.stderr


def test_runs_in_a_new_workspace_says_how_to_start(run_cli, workspace):
    r = run_cli("runs")
    assert r.exit_code == 0 and r.stdout.startswith("No runs in ") and "Start one: matching run JOB" in r.stdout
    assert not workspace.exists()  # and makes nothing there


@pytest.mark.parametrize("command", [("bodies", "list"), ("users", "list"), ("audit", "verify"),
                                     ("queue", "list", "--as", "alice"), ("export", "--as", "alice", "--format", "csv", "--out", "x.csv")])
def test_reading_a_workspace_that_is_not_there_is_refused_and_makes_nothing(run_cli, workspace, command, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # (the PostgreSQL suite's store is not in a folder to check)
    r = run_cli(*command)
    assert r.exit_code == 2 and f"There is no workspace at {workspace}" in r.stderr
    assert not workspace.exists()


def test_a_folder_without_a_case_store_is_not_given_one_by_a_reading_command(tmp_path):
    """In a real process (not the test suite's database): audit verify in an empty folder
    says there is no case store, and leaves the folder empty."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    proc = subprocess.run([sys.executable, "-m", "matching", "--workspace", str(tmp_path), "audit", "verify"],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 2 and f"The workspace {tmp_path} has no case store (casework.sqlite3)" in proc.stderr
    assert list(tmp_path.iterdir()) == []
