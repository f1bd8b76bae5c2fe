"""A match: both records side by side, why they matched, its history, and the forms that
change it. Every change goes through ``matching.casework.lifecycle``."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from matching.casework import access, audit, lifecycle
from matching.casework.explained import body_names, explanation_of
from matching.casework.models import Match, Status
from matching.casework.queries import OPEN
from matching.errors import UserError
from matching.web.forms import AllocateForm, NoteForm, OutcomeForm, ReopenForm, VersionForm
from matching.web.templatetags.web_tags import humanise
from matching.web.views.common import error_list, match_for, person_label, workers_of
from matching.web.views.match_display import chart, history, record_rows
from matching.web.views.queue import QUEUE_QUERY

FORM_IDS = {"outcome": "outcome-%s", "allocate": "allocate-%s", "start": "start-%s", "note": "note-%s",
            "reopen": "reopen-%s"}


@lru_cache(maxsize=128)
def job_subject(job: str) -> str:
    """What the job links ("person" or "property"), from its config; "person" for a job
    whose config this server does not hold."""
    from matching.jobs.config import load_job

    try:
        return load_job(job).subject
    except UserError:
        return "person"


def _forms(request: HttpRequest, match: Match, bound: dict[str, Any]) -> dict[str, Any]:
    """The forms this user may use on this match now (a bound one replaces its blank twin)."""
    user = request.user
    initial = {"version": match.version}
    forms: dict[str, Any] = {}
    works = access.allowed(user, "work_match", match)
    allocates = access.allowed(user, "allocate_match", match)
    is_closed = match.status == Status.CLOSED
    if works and not is_closed:
        forms["outcome"] = OutcomeForm(initial=initial, auto_id=FORM_IDS["outcome"], subject=job_subject(match.job))
    if works and match.status == Status.NEW:
        forms["start"] = VersionForm(initial=initial, auto_id=FORM_IDS["start"])
    if works:
        forms["note"] = NoteForm(initial=initial, auto_id=FORM_IDS["note"], closed=is_closed)
    if allocates and not is_closed:
        forms["allocate"] = AllocateForm(
            initial={**initial, "allocated_to": match.allocated_to_id}, auto_id=FORM_IDS["allocate"],
            people=allocation_choices(match),
        )
    if allocates and is_closed:
        forms["reopen"] = ReopenForm(initial=initial, auto_id=FORM_IDS["reopen"])
    # What the user submitted is shown again even if the match has moved on (a conflict), so
    # nothing they typed is lost.
    forms.update(bound)
    return forms


def allocation_choices(match: Match) -> list[tuple[int, str]]:
    """Who the match may be allocated to, and whoever holds it now though they may no longer
    work it (removed from the body, say), named as such: the list shows the allocation as it
    is, so saving it unchanged does not quietly unallocate the match."""
    people = workers_of([match.owning_body_id])
    holder = match.allocated_to
    if holder is not None and holder.pk not in dict(people):
        why = ("no longer a member" if access.role_in(holder, match.owning_body) is None
               else "can no longer work matches")
        people.append((holder.pk, f"{person_label(holder)} ({why})"))
    return people


def _render(request: HttpRequest, match: Match, *, bound: dict[str, Any] | None = None,
            errors: list[tuple[str, str]] | None = None, status: int = 200,
            version: int | None = None) -> HttpResponse:
    """Draw the match. ``version`` is what the forms carry back: the version the user's
    submission was based on when it is re-shown for a correction (so a change made meanwhile
    is still caught), else the current one."""
    audit.record_view(request.user, match)
    names = body_names()
    return render(request, "web/match.html", {
        "match": match,
        "explanation": explanation_of(match, names),
        "left_heading": f"{humanise(match.left_kind)} — {names.get(match.left_body) or match.left_body}",
        "right_heading": f"{humanise(match.right_kind)} — {names.get(match.right_body) or match.right_body}",
        "rows": record_rows(match.left_record, match.right_record),
        "chart": chart(match.contributions),
        "history": history(match),
        "outcome": match.current_outcome,
        "next_open": _next_open(request, match),
        "queue_query": request.session.get(QUEUE_QUERY, ""),
        "forms": _forms(request, match, bound or {}),
        "form_version": match.version if version is None else version,
        "errors": errors or [],
        "nav": "queue",
    }, status=status)


def _next_open(request: HttpRequest, match: Match) -> int | None:
    """Once a match is closed: the user's next open match allocated to them, highest priority
    first (the queue keeps closed matches in it, sorted by priority as well)."""
    if match.status != Status.CLOSED:
        return None
    return (
        access.visible_matches(request.user)
        .filter(allocated_to=request.user, status__in=OPEN)
        .order_by("-priority_score", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, match_for(request, pk))


def _act(request: HttpRequest, pk: int, *, action: str, name: str, form: Any,
         perform: Callable[[Match, Any], Any], done: str | Callable[[Any], tuple[int, str]]) -> HttpResponse:
    """Validate ``form`` (or the form a callable makes for the match), check the version the
    user saw, ``perform`` the lifecycle operation, and redirect (PRG); on any problem re-render
    the match with the user's input kept."""
    try:
        match = match_for(request, pk, action)
    except (Http404, PermissionDenied) as exc:
        # Reallocated (or closed) while the user was typing: say so, and give back what they
        # typed rather than a bare error page that loses it (the same page whether or not the
        # match exists, so it tells another body's user nothing).
        if not _typed(request):
            raise
        return _not_saved(request, pk, forbidden=isinstance(exc, PermissionDenied))
    if callable(form):
        form = form(match)
    try:
        # The version comes first: a change made since the page was drawn is a conflict,
        # whatever else is wrong with the submission.
        seen: int | None = int(request.POST.get("version", ""))
    except ValueError:
        seen = None  # no version at all: a malformed request, answered by the form's errors
    try:
        if seen is not None and seen != match.version:
            raise lifecycle.Conflict(match)
        if not form.is_valid():
            return _render(request, match, bound={name: form}, errors=error_list(form), status=400, version=seen)
        result = perform(match, form)
    except lifecycle.Conflict as exc:
        return _render(request, exc.match, bound={name: form}, errors=[("#main-content", str(exc))], status=409)
    except lifecycle.InvalidOutcome as exc:
        for field, message in exc.errors.items():
            if hasattr(form, "add_lifecycle_error"):
                form.add_lifecycle_error(field, message)
            else:
                form.add_error(field if field in form.fields else None, message)
        return _render(request, match, bound={name: form}, errors=error_list(form), status=400, version=seen)
    except lifecycle.NotAllowed as exc:
        fresh = Match.objects.select_related("owning_body", "allocated_to").get(pk=match.pk)
        return _render(request, fresh, bound={name: form}, errors=[("#main-content", str(exc))], status=409)
    if callable(done):
        level, text = done(result)
        messages.add_message(request, level, text)
    else:
        messages.success(request, done)
    return redirect("web:match", pk=match.pk)


# What a user may have typed into a form on the match page, as the page labels it.
TYPED = {"text": "Note", "note": "Note", "reason": "Reason", "case_reference": "Case reference",
         "actual_amount": "Actual amount", "estimated_amount": "Estimated amount", "estimate_basis": "Basis of the estimate"}


def _typed(request: HttpRequest) -> list[tuple[str, str]]:
    return [(label, request.POST[key].strip()) for key, label in TYPED.items() if request.POST.get(key, "").strip()]


def _not_saved(request: HttpRequest, pk: int, *, forbidden: bool) -> HttpResponse:
    return render(request, "web/not_saved.html", {"pk": pk, "forbidden": forbidden, "kept": _typed(request)},
                  status=403 if forbidden else 404)


@login_required
@require_POST
def record_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    def form(match: Match) -> OutcomeForm:
        return OutcomeForm(request.POST, auto_id=FORM_IDS["outcome"], subject=job_subject(match.job))

    return _act(request, pk, action="work_match", name="outcome", form=form, done="Outcome recorded and match closed",
                perform=lambda m, f: lifecycle.record_outcome(m, request.user, f.outcome_input(),
                                                              f.cleaned_data["version"]))


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    form = VersionForm(request.POST, auto_id=FORM_IDS["start"])
    return _act(request, pk, action="work_match", name="start", form=form, done="Match marked as in progress",
                perform=lambda m, f: lifecycle.start(m, request.user, f.cleaned_data["version"]))


@login_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    def form(match: Match) -> NoteForm:
        return NoteForm(request.POST, auto_id=FORM_IDS["note"], closed=match.status == Status.CLOSED)

    return _act(request, pk, action="work_match", name="note", form=form, done="Note added",
                perform=lambda m, f: lifecycle.add_note(m, request.user, f.cleaned_data["text"],
                                                        f.cleaned_data["version"]))


@login_required
@require_POST
def allocate(request: HttpRequest, pk: int) -> HttpResponse:
    match = match_for(request, pk, "allocate_match")
    form = AllocateForm(request.POST, auto_id=FORM_IDS["allocate"], people=allocation_choices(match))

    def perform(m: Match, f: Any) -> Any:
        user_id = f.cleaned_data["allocated_to"]
        to_user = User.objects.get(pk=user_id) if user_id else None
        return lifecycle.allocate(m, to_user, request.user, f.cleaned_data["version"])

    def done(result: Match) -> tuple[int, str]:
        if result.version != match.version:  # every change bumps it; an allocation already so is not one
            return messages.SUCCESS, "Allocation saved"
        who = result.allocated_to.username if result.allocated_to else None
        return messages.INFO, (f"No change: the match was already allocated to {who}." if who
                               else "No change: the match was already unallocated.")

    return _act(request, pk, action="allocate_match", name="allocate", form=form, done=done, perform=perform)


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReopenForm(request.POST, auto_id=FORM_IDS["reopen"])
    return _act(request, pk, action="allocate_match", name="reopen", form=form, done="Match reopened",
                perform=lambda m, f: lifecycle.reopen(m, request.user, f.cleaned_data["reason"],
                                                      f.cleaned_data["version"]))

