"""The life of a match: allocate, start, note, record an outcome, reopen — and conflicts."""

from __future__ import annotations

import threading

import pytest

from matching.casework import lifecycle
from matching.casework.lifecycle import Conflict, InvalidOutcome, NotAllowed, OutcomeInput
from matching.casework.models import AuditEvent, Match, Outcome, Status

pytestmark = pytest.mark.django_db


def test_an_outcome_closes_the_match_and_is_audited(casework):
    match = casework.matches["kingston"][0]
    outcome = lifecycle.record_outcome(
        match, casework.users["k_inv"],
        OutcomeInput("error", "same", actual_pence=123_456, estimated_pence=50_000,
                     estimate_basis="26 weeks of benefit", note="Overpayment recovered"),
        match.version,
    )
    match.refresh_from_db()
    assert match.status == Status.CLOSED and match.closed_at is not None
    assert match.current_outcome == outcome and outcome.actual_pence == 123_456
    event = AuditEvent.objects.filter(action="outcome", object_id=str(match.pk)).get()
    assert event.actor == "k_inv" and event.detail["category"] == "error"


def test_fraud_needs_a_case_reference(casework):
    match = casework.matches["kingston"][0]
    with pytest.raises(InvalidOutcome) as err:
        lifecycle.record_outcome(match, casework.users["k_inv"], OutcomeInput("fraud", "same"), match.version)
    assert "case reference" in err.value.errors["case_reference"]
    assert Match.objects.get(pk=match.pk).status != Status.CLOSED
    lifecycle.record_outcome(match, casework.users["k_inv"],
                             OutcomeInput("fraud", "same", case_reference="CF/2026/0042"), match.version)
    assert Match.objects.get(pk=match.pk).current_outcome.case_reference == "CF/2026/0042"


@pytest.mark.parametrize(("data", "field"), [
    (OutcomeInput("maybe", "same"), "category"),
    (OutcomeInput("no_issue", "perhaps"), "linkage_label"),
    (OutcomeInput("error", "same", actual_pence=-1), "actual_pence"),
    (OutcomeInput("error", "same", estimated_pence=100), "estimate_basis"),
    # no issue finds no money: an amount with it would be counted as money found
    (OutcomeInput("no_issue", "not_same", actual_pence=50000), "actual_pence"),
    (OutcomeInput("no_issue", "same", estimated_pence=100, estimate_basis="a year"), "estimated_pence"),
])
def test_an_incomplete_outcome_names_the_field(casework, data, field):
    match = casework.matches["kingston"][0]
    with pytest.raises(InvalidOutcome) as err:
        lifecycle.record_outcome(match, casework.users["k_inv"], data, match.version)
    assert field in err.value.errors
    assert not Outcome.objects.exists()


def test_only_the_allocated_investigator_or_a_key_contact_may_work_a_match(casework):
    match = casework.matches["kingston"][0]
    for name in ("k_inv2", "k_aud", "r_kc", "admin"):
        with pytest.raises(NotAllowed):
            lifecycle.record_outcome(match, casework.users[name], OutcomeInput("no_issue", "same"), match.version)
    lifecycle.add_note(match, casework.users["k_kc"], "Checked the tenancy file.", match.version)
    assert Match.objects.get(pk=match.pk).status == Status.IN_PROGRESS


def test_allocation_is_to_people_of_the_owning_body_only(casework):
    match = casework.matches["kingston"][1]
    with pytest.raises(NotAllowed, match="not an investigator or key contact of kingston"):
        lifecycle.allocate(match, casework.users["r_inv"], casework.users["k_kc"], match.version)
    with pytest.raises(NotAllowed):
        lifecycle.allocate(match, casework.users["k_inv2"], casework.users["k_inv"], match.version)
    fresh = lifecycle.allocate(match, casework.users["k_inv2"], casework.users["k_kc"], match.version)
    assert fresh.allocated_to == casework.users["k_inv2"] and fresh.version == match.version + 1


def test_two_people_closing_the_same_match_one_wins_the_other_is_told(casework):
    match = casework.matches["kingston"][0]
    seen_by_both = match.version  # both opened the page at this version
    lifecycle.record_outcome(match, casework.users["k_inv"], OutcomeInput("no_issue", "same"), seen_by_both)
    with pytest.raises(Conflict) as err:
        lifecycle.record_outcome(match, casework.users["k_kc"],
                                 OutcomeInput("error", "same", note="Found an error"), seen_by_both)
    assert "was changed by k_inv" in err.value.message
    assert "your change was not saved" in err.value.message
    assert Outcome.objects.filter(match=match).count() == 1
    assert Match.objects.get(pk=match.pk).current_outcome.category == "no_issue"


@pytest.mark.django_db(transaction=True)
def test_concurrent_closes_in_two_threads_store_exactly_one_outcome(casework):
    from django.db import connection

    match = casework.matches["kingston"][0]
    version = match.version
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def close(name: str) -> None:
        try:
            barrier.wait()
            lifecycle.record_outcome(Match.objects.get(pk=match.pk), casework.users[name],
                                     OutcomeInput("no_issue", "same"), version)
            results[name] = "saved"
        except Conflict:
            results[name] = "conflict"
        except NotAllowed:
            results[name] = "not allowed"
        finally:
            connection.close()

    threads = [threading.Thread(target=close, args=(n,)) for n in ("k_inv", "k_kc")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == ["conflict", "saved"]
    assert Outcome.objects.filter(match=match).count() == 1


def test_a_key_contact_reopens_a_closed_match_with_a_reason(casework):
    match = casework.matches["kingston"][0]
    lifecycle.record_outcome(match, casework.users["k_inv"], OutcomeInput("no_issue", "same"), match.version)
    match.refresh_from_db()
    with pytest.raises(NotAllowed):
        lifecycle.reopen(match, casework.users["k_inv"], "new evidence", match.version)
    with pytest.raises(InvalidOutcome):
        lifecycle.reopen(match, casework.users["k_kc"], "  ", match.version)
    fresh = lifecycle.reopen(match, casework.users["k_kc"], "Tenancy file shows a later payment", match.version)
    assert fresh.status == Status.IN_PROGRESS and fresh.times_reopened == 1


def test_a_first_note_on_a_new_match_starts_the_work_in_the_history_too(casework):
    """A note on a new match puts it in progress: the trail records that change as starting
    work does, so the history does not show a status nobody set."""
    from matching.casework.models import AuditEvent

    match = casework.matches["kingston"][0]
    lifecycle.add_note(match, casework.users["k_inv"], "Called the claimant", match.version)
    fresh = Match.objects.get(pk=match.pk)
    assert fresh.status == Status.IN_PROGRESS
    events = list(AuditEvent.objects.filter(action__in=("status", "note")).order_by("pk").values_list("action", "detail"))
    assert [a for a, _ in events] == ["status", "note"] and events[0][1]["to"] == Status.IN_PROGRESS
    lifecycle.add_note(fresh, casework.users["k_inv"], "And again", fresh.version)  # already in progress
    assert AuditEvent.objects.filter(action="status").count() == 1


def test_a_superuser_key_contact_is_not_allocated_a_match_they_could_not_work(casework):
    from matching.casework.models import Membership

    admin = casework.users["admin"]
    Membership.objects.create(user=admin, body=casework.bodies["kingston"], role="key_contact")
    match = casework.matches["kingston"][1]
    with pytest.raises(NotAllowed, match="admin is a superuser: a superuser administers and oversees, and cannot record"):
        lifecycle.allocate(match, admin, casework.users["k_kc"], match.version)
    done = lifecycle.allocate_many([(match, match.version)], admin, casework.users["k_kc"])
    assert not done.allocated and "admin is a superuser" in done.left[0][1]
    assert Match.objects.get(pk=match.pk).allocated_to is None
    assert not AuditEvent.objects.filter(action="allocate", object_id=str(match.pk)).exists()


def test_a_note_on_a_closed_match_leaves_it_closed_and_is_audited_as_added_after(casework):
    match = casework.matches["kingston"][0]
    inv = casework.users["k_inv"]
    lifecycle.record_outcome(match, inv, OutcomeInput("error", "same", actual_pence=5000), match.version)
    closed = Match.objects.get(pk=match.pk)
    note = lifecycle.add_note(closed, inv, "£50 recovered by invoice", closed.version)
    after = Match.objects.get(pk=match.pk)
    assert after.status == Status.CLOSED and after.version == closed.version + 1
    event = AuditEvent.objects.get(action="note", object_id=str(match.pk))
    assert event.actor == "k_inv" and event.detail == {"note_id": note.pk, "after_closed": True}


def test_a_member_who_can_no_longer_work_matches_has_their_open_ones_returned(casework):
    """Each returned match is unallocated and audited; a closed match keeps who worked it, and
    someone who still works matches (made a key contact) keeps theirs."""
    from matching.casework.models import Membership

    kingston, kc = casework.bodies["kingston"], casework.users["k_kc"]
    held = casework.matches["kingston"][0]  # k_inv's
    done = Match.objects.get(pk=casework.matches["kingston"][2].pk)
    done = lifecycle.allocate(done, casework.users["k_inv"], kc, done.version)
    lifecycle.record_outcome(done, casework.users["k_inv"], OutcomeInput("no_issue", "same"), done.version)
    Membership.objects.filter(user__username="k_inv", body=kingston).update(role="key_contact")
    assert lifecycle.return_to_queue(casework.users["k_inv"], kingston, kc, "membership_changed") == 0
    Membership.objects.filter(user__username="k_inv", body=kingston).delete()
    assert lifecycle.return_to_queue(casework.users["k_inv"], kingston, kc, "membership_removed") == 1
    assert Match.objects.get(pk=held.pk).allocated_to is None
    assert Match.objects.get(pk=held.pk).version == held.version + 1
    assert Match.objects.get(pk=done.pk).allocated_to.username == "k_inv"
    event = AuditEvent.objects.filter(action="allocate", object_id=str(held.pk)).latest("seq")
    assert (event.actor, event.detail) == ("k_kc", {"from": "k_inv", "to": None, "because": "membership_removed"})
