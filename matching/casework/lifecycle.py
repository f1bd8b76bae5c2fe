"""The rules of a match's life: allocate, start, note, record an outcome, reopen.

Each operation checks permission through ``access.allowed``, changes the match only if it
is still at the version the user saw (optimistic locking), and writes its audit event in
the same transaction. Views and the CLI call these; none of them change a match directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from matching.casework import audit
from matching.casework.access import allowed, forget, may_be_allocated, role_in
from matching.casework.models import (
    AuditEvent,
    Body,
    Category,
    LinkageLabel,
    Match,
    Note,
    Outcome,
    Run,
    Status,
)
from matching.casework.queries import OPEN
from matching.errors import UserError
from matching.wording import plural

MAX_PENCE = 10**13  # £100bn: anything larger is a typing error


class NotAllowed(UserError):
    """The user may not do this to this match."""


class Conflict(UserError):
    """Somebody else changed the match since the user loaded it; nothing was saved."""

    def __init__(self, match: Match) -> None:
        last = (  # who changed it: a view changes nothing (and who viewed it is not for this message)
            AuditEvent.objects.filter(object_type="match", object_id=str(match.pk)).exclude(action="view")
            .order_by("-seq").first()
        )
        who = f" by {last.actor} at {timezone.localtime(last.at):%H:%M on %-d %B %Y}" if last else ""
        updated = Match.objects.filter(pk=match.pk).values_list("updated_at", flat=True).first() or match.updated_at
        if last is None or updated > last.at:
            # Changed after its last event: by a publish, which records one event a body, not
            # one a match (a person's change records its event after the change, never before).
            run = Run.objects.filter(job=match.job, published_at__lte=updated).order_by("-published_at").first()
            if run is not None:
                who = (f" by the publishing of run {run.run_id} (by {run.published_by}) at "
                       f"{timezone.localtime(run.published_at):%H:%M on %-d %B %Y}")
        self.changed = f"was changed{who}"  # for a list of several matches' outcomes
        super().__init__(
            f"Match {match.pk} was changed{who} after you opened it, so your change was not saved. "
            f"It is now {match.get_status_display().lower()}. Review the match as it is now; "
            "what you entered is kept in the form so you can submit it again if it still applies."
        )
        self.match = match


class InvalidOutcome(UserError):
    """The outcome form has errors: ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


def _require(user: Any, action: str, match: Match, doing: str) -> None:
    if not allowed(user, action, match):
        raise NotAllowed(f"You may not {doing} match {match.pk}.")


def _current(match: Match, expected_version: int) -> None:
    """A stale form is a conflict, whatever else has changed since (checked before status)."""
    if match.version != expected_version:
        raise Conflict(match)


def _change(match: Match, expected_version: int, **changes: Any) -> Match:
    """Apply ``changes`` only if the match is still at ``expected_version``."""
    now = timezone.now()
    updated = Match.objects.filter(pk=match.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    fresh = Match.objects.get(pk=match.pk)
    if updated == 0:
        raise Conflict(fresh)
    return fresh


def _refuse_allocation_to(to_user: Any, match: Match) -> None:
    """NotAllowed unless ``to_user`` could work the match once it is theirs (``access``'s rule)."""
    if may_be_allocated(to_user, match.owning_body):
        return
    code = match.owning_body.code
    if to_user.is_superuser and role_in(to_user, match.owning_body) is not None:
        raise NotAllowed(
            f"{to_user.username} is a superuser: a superuser administers and oversees, and cannot record notes or "
            f"outcomes, so cannot be allocated a match. Allocate it to an investigator or key contact of {code}."
        )
    raise NotAllowed(
        f"{to_user.username} is not an investigator or key contact of {code}; "
        "add them to the body first (matching users add)."
    )


def allocate(match: Match, to_user: Any, by: Any, expected_version: int) -> Match:
    """Give the match to someone who can work it (an investigator or key contact of its owning
    body, not a superuser: ``access.may_be_allocated``); None unallocates. The match as it is,
    unchanged and unrecorded, when it is already so allocated."""
    _require(by, "allocate_match", match, "allocate")
    _current(match, expected_version)
    if match.status == Status.CLOSED:
        raise NotAllowed(f"Match {match.pk} is closed; reopen it before allocating it.")
    wanted = to_user.pk if to_user is not None else None
    if match.allocated_to_id == wanted and Match.objects.filter(pk=match.pk, version=expected_version,
                                                                allocated_to_id=wanted).exists():
        return match  # already so, as stored now: nothing changes, so nothing is recorded
    if to_user is not None:
        _refuse_allocation_to(to_user, match)
    with transaction.atomic():
        previous = match.allocated_to.username if match.allocated_to else None
        fresh = _change(match, expected_version, allocated_to=to_user)
        audit.record(by, "allocate", fresh, body=match.owning_body.code,
                     detail={"from": previous, "to": to_user.username if to_user else None})
    return fresh


def returned_to_queue(count: int, holder: str) -> str:
    """What ``return_to_queue`` did, as a confirmation says it: "2 open matches allocated to
    bob were returned to the queue, unallocated"."""
    return (f"{plural(count, 'open match', 'open matches')} allocated to {holder} "
            f"{'was' if count == 1 else 'were'} returned to the queue, unallocated")


def return_to_queue(person: Any, body: Body, by: Any, because: str) -> int:
    """Unallocate the open matches of ``body`` allocated to ``person`` once they can no longer
    work them (removed from the body, no longer an investigator or key contact, made a
    superuser), each audited as an allocation is, with ``because`` (an ``audit.RETURNED_BECAUSE``
    key, the membership change's own audit action); nothing while they still may. Called by
    whatever changed the membership, in its transaction, after its right to (managing the
    body's users) was checked. Returns how many matches went back to the queue."""
    forget(person)  # the membership has just changed
    if may_be_allocated(person, body):
        return 0
    returned = 0
    with transaction.atomic():
        for match in Match.objects.filter(owning_body=body, allocated_to=person, status__in=OPEN).order_by("pk"):
            # Whatever else changed since, the match is no longer theirs: only that is changed.
            if Match.objects.filter(pk=match.pk, allocated_to=person, status__in=OPEN).update(
                    allocated_to=None, version=F("version") + 1, updated_at=timezone.now()):
                audit.record(by, "allocate", match, body=body.code,
                             detail={"from": person.username, "to": None, "because": because})
                returned += 1
    return returned


@dataclass
class Allocation:
    """What ``allocate_many`` did: the matches allocated, those already with the person, and
    each it left as it was with the reason."""

    allocated: list[Match]
    unchanged: list[Match]
    left: list[tuple[Match, str]]


def allocate_many(chosen: list[tuple[Match, int]], to_user: Any, by: Any) -> Allocation:
    """Allocate each (match, version the user saw) to ``to_user`` (None unallocates), each by
    ``allocate``'s rules: a match changed since the user saw it, closed, or of a body the
    person does not work for is left as it was, with the reason, and the rest are allocated.
    One transaction, so the whole list is saved or (on a database failure) none of it."""
    result = Allocation([], [], [])
    with transaction.atomic():
        for match, version in chosen:
            try:
                _require(by, "allocate_match", match, "allocate")  # before saying it is done already
                if match.allocated_to_id == (to_user.pk if to_user else None):  # what the user wants, whoever changed it since
                    result.unchanged.append(match)
                    continue
                result.allocated.append(allocate(match, to_user, by, version))
            except Conflict as e:
                result.left.append((match, f"Match {match.pk} {e.changed} after the page was shown; open it to see why."))
            except NotAllowed as e:
                # Each reason names its match: "alice does not work for kingston" alone, said of
                # two matches, does not say which two were left.
                said = str(e)
                result.left.append((match, said if said.startswith(f"Match {match.pk} ") else f"Match {match.pk}: {said}"))
    return result


def start(match: Match, by: Any, expected_version: int) -> Match:
    """Mark a new match as in progress."""
    _require(by, "work_match", match, "work on")
    _current(match, expected_version)
    if match.status != Status.NEW:
        raise NotAllowed(f"Match {match.pk} is {match.get_status_display().lower()}, not new.")
    with transaction.atomic():
        fresh = _change(match, expected_version, status=Status.IN_PROGRESS)
        audit.record(by, "status", fresh, body=match.owning_body.code,
                     detail={"from": Status.NEW, "to": Status.IN_PROGRESS})
    return fresh


def add_note(match: Match, by: Any, text: str, expected_version: int) -> Note:
    """Add a note; a new match becomes in progress. A closed match stays closed: what happens
    after an outcome (money recovered, a case heard) is noted without reopening it, and the
    history and the trail say the note was added after the match was closed."""
    _require(by, "work_match", match, "add a note to")
    _current(match, expected_version)
    text = (text or "").strip()
    if not text:
        raise InvalidOutcome({"note": "Enter a note"})
    if len(text) > 10_000:
        raise InvalidOutcome({"note": "Note must be 10,000 characters or fewer"})
    with transaction.atomic():
        changes: dict[str, Any] = {}
        if match.status == Status.NEW:
            changes["status"] = Status.IN_PROGRESS
        fresh = _change(match, expected_version, **changes)
        if changes:  # the history and the trail say the note started the work, as start() does
            audit.record(by, "status", fresh, body=match.owning_body.code,
                         detail={"from": Status.NEW, "to": Status.IN_PROGRESS, "by": "note"})
        note = Note.objects.create(match=fresh, author=by, text=text)
        detail: dict[str, Any] = {"note_id": note.pk}
        if match.status == Status.CLOSED:
            detail["after_closed"] = True
        audit.record(by, "note", fresh, body=match.owning_body.code, detail=detail)
    return note


@dataclass
class OutcomeInput:
    category: str
    linkage_label: str
    case_reference: str = ""
    actual_pence: int | None = None
    estimated_pence: int | None = None
    estimate_basis: str = ""
    note: str = ""


def validate_outcome(data: OutcomeInput) -> dict[str, str]:
    """Field → message for everything wrong with an outcome, in the words of the form."""
    errors: dict[str, str] = {}
    if data.category not in Category.values:
        errors["category"] = "Select the outcome"
    if data.linkage_label not in LinkageLabel.values:
        errors["linkage_label"] = "Select whether the two records are the same person"
    data.case_reference = (data.case_reference or "").strip()
    if data.category == Category.FRAUD and not data.case_reference:
        errors["case_reference"] = "Enter the case reference: a fraud outcome is recorded only with one"
    if len(data.case_reference) > 100:
        errors["case_reference"] = "Case reference must be 100 characters or fewer"
    for field in ("actual_pence", "estimated_pence"):
        value = getattr(data, field)
        if value is not None and not (0 <= value <= MAX_PENCE):
            errors[field] = "Amount must be £0 or more and less than £100,000,000,000"
    if data.category == Category.NO_ISSUE:
        # "No issue" finds no overpayment and saves nothing: an amount with it would be
        # counted as money found.
        for field, what in (("actual_pence", "an actual amount"), ("estimated_pence", "an estimated amount")):
            if getattr(data, field) and field not in errors:
                errors[field] = f"An outcome of no issue has no amount: remove {what}, or choose error or fraud"
    data.estimate_basis = (data.estimate_basis or "").strip()
    if data.estimated_pence and not data.estimate_basis:
        errors["estimate_basis"] = "Enter the basis of the estimate (for example, 52 weeks of pension)"
    if len(data.estimate_basis) > 500:
        errors["estimate_basis"] = "Basis must be 500 characters or fewer"
    if len(data.note or "") > 10_000:
        errors["note"] = "Note must be 10,000 characters or fewer"
    return errors


def record_outcome(match: Match, by: Any, data: OutcomeInput, expected_version: int) -> Outcome:
    """Close the match with a person's outcome. The engine never calls this on its own."""
    _require(by, "work_match", match, "record an outcome for")
    _current(match, expected_version)
    if match.status == Status.CLOSED:
        raise NotAllowed(f"Match {match.pk} is already closed; a key contact can reopen it.")
    errors = validate_outcome(data)
    if errors:
        raise InvalidOutcome(errors)
    with transaction.atomic():
        now = timezone.now()
        fresh = _change(match, expected_version, status=Status.CLOSED, closed_at=now,
                        seen_since_closed=False)
        outcome = Outcome.objects.create(
            match=fresh, category=data.category, case_reference=data.case_reference,
            actual_pence=data.actual_pence, estimated_pence=data.estimated_pence,
            estimate_basis=data.estimate_basis, note=(data.note or "").strip(),
            linkage_label=data.linkage_label, recorded_by=by, recorded_at=now,
        )
        audit.record(by, "outcome", fresh, body=match.owning_body.code, detail={
            "outcome_id": outcome.pk, "category": data.category, "linkage_label": data.linkage_label,
            "actual_pence": data.actual_pence, "estimated_pence": data.estimated_pence,
            "from": match.status, "to": Status.CLOSED,
        })
    return outcome


def reopen(match: Match, by: Any, reason: str, expected_version: int) -> Match:
    """A key contact reopens a closed match (its outcome stays in the history)."""
    if not allowed(by, "allocate_match", match):
        raise NotAllowed(f"Only a key contact may reopen match {match.pk}.")
    _current(match, expected_version)
    if match.status != Status.CLOSED:
        raise NotAllowed(f"Match {match.pk} is not closed.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidOutcome({"reason": "Enter why the match is being reopened"})
    with transaction.atomic():
        fresh = _change(match, expected_version, status=Status.IN_PROGRESS, closed_at=None,
                        times_reopened=F("times_reopened") + 1)
        # The reason may name people: it is kept as a note (purged with the match), and the
        # audit event, which outlives a purge, points at it.
        note = Note.objects.create(match=fresh, author=by, text=f"Reopened: {reason}")
        audit.record(by, "reopen", fresh, body=match.owning_body.code,
                     detail={"note_id": note.pk, "from": Status.CLOSED, "to": Status.IN_PROGRESS})
    return fresh
