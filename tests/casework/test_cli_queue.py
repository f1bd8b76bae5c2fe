"""Working the queue and exporting from the command line, acting as a named user."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from matching.casework.models import AuditEvent, Match, Outcome, Status
from matching.cli_casework import parse_pence
from matching.errors import UserError


def test_money_in_pounds_becomes_pence():
    assert parse_pence("1234.56", "--actual") == 123456
    assert parse_pence("£1,234.56", "--actual") == 123456
    assert parse_pence("£12", "--actual") == 1200
    assert parse_pence(None, "--actual") is None
    assert parse_pence("1 234.5", "--actual") == 123450
    assert parse_pence("1\u00a0234.56", "--actual") == 123456 and parse_pence(".50", "--actual") == 50
    # Read as the web form reads it: "1,50" is not £150 (commas only between thousands), and
    # "1e3" is not £1,000.
    for bad in ("twelve", "1.234", "£1,2x", "1e400", "NaN", "-Infinity", "1,50", "1e3", "12,34.00", "\u0661\u0662\u0663", "."):
        with pytest.raises(UserError, match="is not an amount of money"):
            parse_pence(bad, "--actual")
    with pytest.raises(UserError, match="must be £0 or more"):
        parse_pence("-5", "--actual")


@pytest.mark.parametrize("limit", ["0", "-1", "99999999999999999999"])
def test_a_queue_limit_out_of_range_is_a_message(run_cli, casework, limit):
    r = run_cli("queue", "list", "--as", "k_kc", "--limit", limit)
    assert r.exit_code == 2 and "--limit" in r.stderr and "1<=x<=10000" in r.stderr


def test_queue_list_shows_what_the_user_may_see(run_cli, casework):
    kc = run_cli("queue", "list", "--as", "k_kc", "--json").json()
    assert len(kc) == 6 and {m["body"] for m in kc} == {"kingston"}
    assert [m["priority_score"] for m in kc] == sorted((m["priority_score"] for m in kc), reverse=True)
    inv = run_cli("queue", "list", "--as", "k_inv", "--json").json()
    assert [m["id"] for m in inv] == [casework.matches["kingston"][0].pk]
    assert run_cli("queue", "list", "--as", "r_kc", "--body", "kingston", "--json").json() == []
    high = run_cli("queue", "list", "--as", "admin", "--band", "high", "--limit", "2", "--json").json()
    assert len(high) == 2 and all(m["band"] == "high" for m in high)
    text = run_cli("queue", "list", "--as", "k_kc", "--allocated-to", "k_inv")
    assert text.exit_code == 0 and "1 shown of 1" in text.stdout and "not evidence of fraud" in text.stdout


def test_queue_list_is_audited_as_the_web_queue_is(run_cli, casework):
    """A listing shows explanations, which name people: each body whose matches it shows gets
    an event naming them, as a web queue page does."""
    from matching.casework.audit import summary

    before = AuditEvent.objects.count()
    listed = run_cli("queue", "list", "--as", "admin", "--limit", "3", "--json").json()
    events = list(AuditEvent.objects.filter(action="view_queue").order_by("seq"))
    assert AuditEvent.objects.count() == before + len(events) and events
    assert {e.actor for e in events} == {"admin"}
    assert sorted({pk for e in events for pk in e.detail["matches"]}) == sorted(m["id"] for m in listed)
    assert summary("view_queue", events[0].detail).endswith("shown from the command line")


def test_queue_list_shows_the_work_still_to_do_unless_asked_for_more(run_cli, casework):
    """As the web queue: open matches (new and in progress) by default; closed or all on request."""
    closed = casework.matches["kingston"][0]
    Match.objects.filter(pk=closed.pk).update(status=Status.CLOSED)

    def listed(*status: str) -> set[int]:
        return {m["id"] for m in run_cli("queue", "list", "--as", "k_kc", *status, "--json").json()}

    everything = {m.pk for m in casework.matches["kingston"]}
    assert listed() == listed("--status", "open") == everything - {closed.pk}
    assert listed("--status", "closed") == {closed.pk}
    assert listed("--status", "all") == everything


def test_unknown_acting_user_is_a_message(run_cli, casework):
    r = run_cli("queue", "list", "--as", "nobody")
    assert r.exit_code == 2 and "No active user 'nobody'" in r.stderr and "Traceback" not in r.stderr


def test_show_is_audited_and_a_match_out_of_sight_does_not_exist(run_cli, casework):
    mine = casework.matches["kingston"][0]
    shown = run_cli("queue", "show", str(mine.pk), "--as", "k_inv", "--json").json()
    assert shown["left"]["record_id"] == mine.left_record_id and shown["allocated_to"] == "k_inv"
    event = AuditEvent.objects.filter(action="view").get()
    assert (event.actor, event.object_id) == ("k_inv", str(mine.pk))
    text = run_cli("queue", "show", str(mine.pk), "--as", "k_kc")
    assert f"({mine.priority_score:.1f} of 100)" in text.stdout and "Why they matched" in text.stdout
    assert "an inconsistency requiring investigation" in text.stdout and mine.left_record_id in text.stdout
    for other in (casework.matches["kingston"][1], casework.matches["richmond"][0]):
        r = run_cli("queue", "show", str(other.pk), "--as", "k_inv")
        assert r.exit_code == 2 and f"No match {other.pk} visible to k_inv" in r.stderr
    assert run_cli("queue", "show", "999999", "--as", "admin").stderr.strip().endswith("No match 999999 visible to admin.")


def test_allocate_goes_through_the_lifecycle(run_cli, casework):
    m = casework.matches["kingston"][2]
    r = run_cli("queue", "allocate", str(m.pk), "k_inv2", "--as", "k_kc")
    assert r.exit_code == 0 and f"Match {m.pk} allocated to k_inv2" in r.stdout
    assert Match.objects.get(pk=m.pk).allocated_to.username == "k_inv2"
    by_investigator = run_cli("queue", "allocate", str(casework.matches["kingston"][0].pk), "k_inv2", "--as", "k_inv")
    assert by_investigator.exit_code == 2 and "may not allocate" in by_investigator.stderr
    outsider = run_cli("queue", "allocate", str(m.pk), "r_inv", "--as", "k_kc")
    assert outsider.exit_code == 2 and "not an investigator or key contact of kingston" in outsider.stderr


def test_allocate_several_by_id_or_by_filter_leaving_and_naming_those_it_may_not(run_cli, casework):
    k = casework.matches["kingston"]
    r = run_cli("queue", "allocate", str(k[1].pk), str(k[2].pk), str(k[0].pk), "k_inv", "--as", "k_kc")
    assert r.exit_code == 0, r.stderr
    assert f"2 matches allocated to k_inv: {k[1].pk}, {k[2].pk}." in r.stdout and f"1 already allocated to k_inv: {k[0].pk}." in r.stdout
    assert {m.pk for m in Match.objects.filter(allocated_to__username="k_inv")} == {k[0].pk, k[1].pk, k[2].pk}
    events = AuditEvent.objects.filter(action="allocate", actor="k_kc", object_id__in=[str(k[1].pk), str(k[2].pk)])
    assert events.count() == 2 and all(e.body == "kingston" for e in events)
    # Chosen by filter: the unallocated ones, highest priority first, at most --limit.
    top = run_cli("queue", "allocate", "k_inv2", "--unallocated", "--limit", "2", "--as", "k_kc", "--json").json()
    assert top == {"allocated": [k[3].pk, k[4].pk], "unchanged": [], "not_allocated": []}
    # Closed ones are left and named; the rest are still allocated; exit 2.
    Match.objects.filter(pk=k[5].pk).update(status=Status.CLOSED)
    mixed = run_cli("queue", "allocate", str(k[5].pk), str(k[3].pk), "k_inv", "--as", "k_kc")
    assert mixed.exit_code == 2 and f"Match {k[3].pk} allocated to k_inv." in mixed.stdout
    assert "1 of 2 matches were not allocated" in mixed.stderr and f"Match {k[5].pk} is closed" in mixed.stderr
    assert Match.objects.get(pk=k[5].pk).allocated_to is None
    assert run_cli("queue", "allocate", str(k[3].pk), "nobody", "--as", "k_kc").stdout == f"Match {k[3].pk} unallocated.\n"
    assert Match.objects.get(pk=k[3].pk).allocated_to is None
    # Another body's matches do not exist for a key contact; ids and filters do not mix.
    other = run_cli("queue", "allocate", str(casework.matches["richmond"][1].pk), "k_inv", "--as", "k_kc")
    assert other.exit_code == 2 and "No match" in other.stderr
    # Named with one it may allocate: that one is allocated, the other named.
    mixed = run_cli("queue", "allocate", str(casework.matches["richmond"][1].pk), str(k[4].pk), "k_inv", "--as", "k_kc")
    assert mixed.exit_code == 2 and f"Match {k[4].pk} allocated to k_inv." in mixed.stdout
    assert f"1 of 2 matches were not allocated:\nNo match {casework.matches['richmond'][1].pk} visible to k_kc." in mixed.stderr
    # To someone who cannot work them: each match left is named with the reason.
    outsider = run_cli("queue", "allocate", str(k[3].pk), str(k[4].pk), "r_inv", "--as", "k_kc")
    assert outsider.exit_code == 2
    assert (f"2 of 2 matches were not allocated:\nMatch {k[3].pk}: r_inv is not an investigator or key contact of kingston"
            in outsider.stderr) and f"\nMatch {k[4].pk}: r_inv is not" in outsider.stderr
    both = run_cli("queue", "allocate", str(k[1].pk), "k_inv", "--band", "high", "--as", "k_kc")
    assert both.exit_code == 2 and "not both" in both.stderr
    neither = run_cli("queue", "allocate", "k_inv", "--as", "k_kc")
    assert neither.exit_code == 2 and "Name the match ids" in neither.stderr


def test_close_records_an_outcome_with_money_in_pence(run_cli, casework):
    m = casework.matches["kingston"][0]
    no_ref = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "fraud", "--linkage", "same")
    assert no_ref.exit_code == 2 and "--case-reference: Enter the case reference" in no_ref.stderr
    both = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "no_issue", "--linkage", "same",
                   "--actual", "£5", "--estimated", "£7")
    assert both.exit_code == 2 and f"Match {m.pk} was not closed:" in both.stderr
    assert "--actual: An outcome of no issue has no amount" in both.stderr and "--estimated: An outcome of no issue" in both.stderr
    assert "actual_pence" not in both.stderr
    bad = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "error", "--linkage", "same", "--actual", "lots")
    assert bad.exit_code == 2 and "--actual 'lots' is not an amount of money" in bad.stderr
    r = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "fraud", "--linkage", "same",
                "--case-reference", "K/2026/17", "--actual", "£1,234.56", "--estimated", "5200",
                "--basis", "52 weeks of benefit", "--note", "Confirmed with the registrar")
    assert r.exit_code == 0, r.stderr
    outcome = Outcome.objects.get(match=m)
    assert (outcome.actual_pence, outcome.estimated_pence, outcome.case_reference) == (123456, 520000, "K/2026/17")
    assert Match.objects.get(pk=m.pk).status == Status.CLOSED
    shown = " ".join(run_cli("queue", "show", str(m.pk), "--as", "k_inv").stdout.split())
    assert "Outcome: Fraud, case K/2026/17 (same person; actual £1,234.56; estimated £5,200.00) by k_inv at" in shown
    again = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "no_issue", "--linkage", "same")
    assert again.exit_code == 2 and "already closed" in again.stderr
    other = casework.matches["kingston"][1]
    r = run_cli("queue", "close", str(other.pk), "--as", "k_inv", "--outcome", "no_issue", "--linkage", "not_sure")
    assert r.exit_code == 2 and f"No match {other.pk} visible to k_inv" in r.stderr


def test_close_with_the_version_reviewed_refuses_a_match_changed_since(run_cli, casework):
    m = casework.matches["kingston"][0]
    shown = " ".join(run_cli("queue", "show", str(m.pk), "--as", "k_inv").stdout.split())
    assert f"version {m.version} (queue close {m.pk} --version {m.version} ..." in shown
    seen = m.version
    Match.objects.filter(pk=m.pk).update(version=seen + 1)  # a newer run's records, published since
    stale = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "no_issue", "--linkage", "same",
                    "--version", str(seen))
    assert stale.exit_code == 2
    assert f"Match {m.pk} was changed" in stale.stderr and f"since version {seen}, which you reviewed" in stale.stderr
    assert f"matching queue show {m.pk} --as k_inv" in stale.stderr
    assert Match.objects.get(pk=m.pk).status != Status.CLOSED and not Outcome.objects.filter(match=m).exists()
    never = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "no_issue", "--linkage", "same",
                    "--version", "99")
    assert never.exit_code == 2 and f"Match {m.pk} has never been version 99: it is now version {seen + 1}" in never.stderr
    current = run_cli("queue", "close", str(m.pk), "--as", "k_inv", "--outcome", "no_issue", "--linkage", "same",
                      "--version", str(seen + 1))
    assert current.exit_code == 0, current.stderr
    assert Match.objects.get(pk=m.pk).status == Status.CLOSED


def test_export_writes_a_marked_file_for_those_who_may(run_cli, casework, tmp_path):
    out = tmp_path / "out" / "kingston.csv"
    r = run_cli("export", "--as", "k_aud", "--format", "csv", "--out", str(out), "--band", "high")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["OFFICIAL-SENSITIVE"] and "Exported by k_aud" in rows[1][0]
    assert {row[2] for row in rows[4:]} == {"kingston"} and len(rows) - 4 == 3
    assert not list(out.parent.glob(".*.tmp"))
    xlsx = tmp_path / "all.xlsx"
    assert run_cli("export", "--as", "admin", "--format", "xlsx", "--out", str(xlsx)).exit_code == 0
    assert openpyxl.load_workbook(xlsx).active.max_row == 4 + 8
    # kingston's export, then admin's of both bodies: one event per body whose matches or
    # records are in each file (every death registration is DWP's)
    events = AuditEvent.objects.filter(action="export").order_by("seq")
    assert [(e.actor, e.body) for e in events] == [
        ("k_aud", "dwp"), ("k_aud", "kingston"), ("admin", "dwp"), ("admin", "kingston"), ("admin", "richmond")]
    assert [e.detail["rows"] for e in events] == [3, 3, 8, 6, 2]  # each body sees only its own count


def test_export_is_refused_to_those_who_may_not(run_cli, casework, tmp_path):
    out = tmp_path / "x.csv"
    inv = run_cli("export", "--as", "k_inv", "--format", "csv", "--out", str(out))
    assert inv.exit_code == 2 and "k_inv may not export matches" in inv.stderr
    other = run_cli("export", "--as", "k_kc", "--format", "csv", "--out", str(out), "--body", "richmond")
    assert other.exit_code == 2 and "may not export matches for richmond" in other.stderr
    unknown = run_cli("export", "--as", "k_kc", "--format", "csv", "--out", str(out), "--body", "camden")
    assert unknown.exit_code == 2 and "No body 'camden'" in unknown.stderr
    assert not out.exists() and not AuditEvent.objects.filter(action="export").exists()


def test_allocating_is_refused_before_anything_is_called_done(run_cli, casework):
    """An auditor naming a match already with its investigator is refused, not told it is
    done; a key contact who also audits another body chooses only matches they may allocate."""
    from matching.casework.models import Membership, Role

    mine = casework.matches["kingston"][0]  # allocated to k_inv by the fixture
    r = run_cli("queue", "allocate", str(mine.pk), "k_inv", "--as", "k_aud")
    assert r.exit_code == 2 and f"You may not allocate match {mine.pk}" in r.stderr and "already" not in r.stdout
    Membership.objects.create(user=casework.users["k_kc"], body=casework.bodies["richmond"], role=Role.AUDITOR)
    Match.objects.filter(owning_body__code="richmond").update(priority_score=99.0)  # first in their view
    top = run_cli("queue", "allocate", "k_inv2", "--unallocated", "--limit", "3", "--as", "k_kc", "--json")
    assert top.exit_code == 0, top.stderr
    chosen = top.json()["allocated"]
    assert len(chosen) == 3 and set(Match.objects.filter(pk__in=chosen).values_list("owning_body__code", flat=True)) == {"kingston"}


def test_a_mistyped_job_body_or_user_is_refused_with_the_nearest_name(run_cli, casework, tmp_path):
    for args, says in (
        (("queue", "list", "--job", "hb-to-decesed"), "Unknown job 'hb-to-decesed': no job config and no matches of it in the case store. Did you mean 'hb-to-deceased'?"),
        (("queue", "list", "--body", "kingstn"), "No body 'kingstn'. Did you mean 'kingston'?"),
        (("queue", "list", "--allocated-to", "k_invv"), "No user 'k_invv'."),
        (("queue", "allocate", "k_inv", "--job", "hb-to-decesed"), "Did you mean 'hb-to-deceased'?"),
        (("export", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--job", "hb-to-decesed"), "Did you mean 'hb-to-deceased'?"),
    ):
        r = run_cli(*args, "--as", "k_kc")
        assert r.exit_code == 2, args
        assert says in " ".join(r.stderr.split()), (args, r.stderr)
    assert not (tmp_path / "x.csv").exists()
    # Spelled right, the same options work.
    assert run_cli("queue", "list", "--job", "hb-to-deceased", "--as", "k_kc").exit_code == 0
