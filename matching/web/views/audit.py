"""The audit trail: who saw and changed what, for auditors (their bodies) and superusers (all)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from matching.casework import access
from matching.casework import audit as trail
from matching.casework.explained import body_names
from matching.casework.models import AuditEvent, Body
from matching.web.forms import AuditFilterForm
from matching.web.views.common import PAGE_SIZE, error_list, page_window, require


def _events(request: HttpRequest) -> Any:
    events = AuditEvent.objects.all()
    if not request.user.is_superuser:
        codes = list(access.bodies_for(request.user, "view_audit").values_list("code", flat=True))
        events = events.filter(body__in=codes)
    return events


def _page(request: HttpRequest, verification: trail.Verification | None = None, status: int = 200,
          anchor: str = "", anchor_error: str = "") -> HttpResponse:
    require(request, "view_audit")
    actions = list(_events(request).order_by("action").values_list("action", flat=True).distinct())
    form = AuditFilterForm(request.GET, actions=actions)
    events = _events(request)
    if form.is_valid():
        d = form.cleaned_data
        if d.get("action"):
            events = events.filter(action=d["action"])
        if d.get("actor"):
            events = events.filter(actor=d["actor"].strip())
        if d.get("date_from"):
            events = events.filter(at__gte=timezone.make_aware(datetime.combine(d["date_from"], time.min)))
        if d.get("date_to"):
            end = datetime.combine(d["date_to"] + timedelta(days=1), time.min)
            events = events.filter(at__lt=timezone.make_aware(end))
    paginator = Paginator(events.order_by("-seq"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    # The page names people and bodies as people read them: a user by username, a body by
    # name (an event keeps ids and codes, which outlive a rename).
    def ids(kind: str) -> set[int]:
        return {int(e.object_id) for e in page if e.object_type == kind and e.object_id.isdigit()}

    shown = {("user", str(pk)): f"user {name}" for pk, name in get_user_model().objects.filter(pk__in=ids("user")).values_list("pk", "username")}
    shown |= {("body", str(pk)): f"body {code}" for pk, code in Body.objects.filter(pk__in=ids("body")).values_list("pk", "code")}
    names = body_names()
    for e in page:
        e.shown_object = shown.get((e.object_type, e.object_id), f"{e.object_type} {e.object_id}".strip())
        e.shown_body = names.get(e.body, e.body)
    return render(request, "web/audit.html", {
        "form": form,
        "errors": ([("#anchor", anchor_error)] if anchor_error else []) + (error_list(form) if form.is_bound and form.errors else []),
        "page": page,
        "window": page_window(page.number, paginator.num_pages),
        "verification": verification,
        "anchor": anchor,
        "anchor_error": anchor_error,
        "nav": "audit",
    }, status=status)


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    """Recompute the whole hash chain on request (it can be slow; nothing is cached), and
    check it against an anchor recorded earlier, if one is given."""
    require(request, "view_audit")
    text = request.POST.get("anchor", "").strip()
    if not text:
        return _page(request, verification=trail.verify())
    try:
        anchor = trail.parse_anchor(text[:200])
    except ValueError as exc:
        return _page(request, anchor_error=str(exc), status=400)
    return _page(request, verification=trail.verify(anchor), anchor=text)
