"""What every view shares: the one way to fetch a match for a user, and small page helpers.

Access decisions are ``matching.casework.access``'s; this module only turns its answers into
HTTP: a match the user may not see is 404 (ids cannot be probed), one they may see but not
act on is 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from matching.casework import access
from matching.casework.models import Body, Match

PAGE_SIZE = 50


def match_for(request: HttpRequest, pk: int, action: str = "view_match") -> Match:
    """The match ``pk`` if ``request.user`` may see it (else 404) and do ``action`` to it (else 403)."""
    match = (
        access.visible_matches(request.user)
        .select_related("owning_body", "allocated_to", "exercise")
        .filter(pk=pk)
        .first()
    )
    if match is None:
        raise Http404("No such match")
    if action != "view_match" and not access.allowed(request.user, action, match):
        raise PermissionDenied(f"You may not do this to match {pk}.")
    return match


def require(request: HttpRequest, action: str, target: Match | Body | None = None) -> None:
    """403 unless the user may do ``action`` (anywhere, or to ``target``)."""
    if not access.allowed(request.user, action, target):
        raise PermissionDenied


def workers_of(body_ids: Any) -> list[tuple[int, str]]:
    """(user id, label) for the people the bodies' matches may be allocated to: those who could
    then work them (``access.allocatable``)."""
    rows = access.allocatable(body_ids).select_related("user").order_by("user__username")
    seen: dict[int, str] = {}
    for m in rows:
        seen.setdefault(m.user_id, person_label(m.user))
    return list(seen.items())


def person_label(user: Any) -> str:
    """A person as lists name them: "Jo Bloggs (jbloggs)", or the username alone."""
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


def page_window(number: int, pages: int) -> list[int | None]:
    """Page numbers for GOV.UK pagination: first, last, and two either side; None is an ellipsis."""
    wanted = {1, pages, *range(number - 2, number + 3)}
    out: list[int | None] = []
    last = 0
    for n in sorted(p for p in wanted if 1 <= p <= pages):
        if n - last > 1:
            out.append(None)
        out.append(n)
        last = n
    return out


def error_list(form: Any) -> list[tuple[str, str]]:
    """(link, message) for a GOV.UK error summary, linking to each field (its first radio)."""
    out: list[tuple[str, str]] = []
    for name, errors in form.errors.items():
        if name in form.fields and not form.fields[name].widget.is_hidden:
            bound = form[name]
            radio = getattr(bound.field.widget, "input_type", "") == "radio"
            out.extend((f"#{bound.auto_id}{'_0' if radio else ''}", e) for e in errors)
        else:
            out.extend(("#main-content", e) for e in errors)
    return out
