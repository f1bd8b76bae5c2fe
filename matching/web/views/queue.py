"""My queue: the matches a user may see, filtered, sorted by priority and paginated."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from matching.casework import access, audit
from matching.casework.models import Run, Status
from matching.casework.queries import QueueFilters, filter_matches, sort_matches, status_counts
from matching.web.forms import QueueFilterForm
from matching.web.views.common import PAGE_SIZE, page_window, require, workers_of


def queue_form(request: HttpRequest) -> QueueFilterForm:
    """The queue's filter form for this user (the export reads the same form)."""
    user = request.user
    bodies = access.bodies_for(user, "view_queue")
    overseen = access.bodies_for(user, "allocate_match") | access.bodies_for(user, "view_audit")
    jobs = dict(Run.objects.order_by("job", "-created_at").values_list("job", "title"))
    body_choices = [(b.code, b.name) for b in bodies] if bodies.count() > 1 else []
    return QueueFilterForm(
        request.GET, jobs=sorted(jobs.items()), people=workers_of(overseen.values("pk")), bodies=body_choices,
        oversees=overseen.exists(),
    )


def filtered_queue(request: HttpRequest, f: QueueFilters) -> Any:
    """The visible matches with the filters applied (not sorted), for the queue and its export."""
    return filter_matches(access.visible_matches(request.user), f, request.user)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    require(request, "view_queue")
    form = queue_form(request)
    f = form.filters()
    unstatused = filter_matches(access.visible_matches(request.user), f, request.user, with_status=False)
    counts = status_counts(unstatused)
    total = counts.get(f.status, 0) if f.status else sum(counts.values())
    pages = max(1, -(-total // PAGE_SIZE))
    try:
        number = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        number = 1
    matches = unstatused.filter(status=f.status) if f.status else unstatused
    rows = list(
        sort_matches(matches, f.sort)
        .select_related("owning_body", "allocated_to")
        .defer("left_record", "right_record", "contributions", "owning_body__created_at")
        [(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
    )
    # The rows' explanations name people and their addresses: the page shown is audited.
    audit.record_listing(request.user, "view_queue", rows, detail={"page": number})
    bodies = list(access.bodies_for(request.user, "view_queue").order_by("name")[:2])
    return render(request, "web/queue.html", {
        "form": form,
        "filters": f,
        "rows": rows,
        "total": total,
        "counts": [(value, label, counts[value]) for value, label in Status.choices],
        "page": {"number": number, "pages": pages, "window": page_window(number, pages),
                 "first": (number - 1) * PAGE_SIZE + 1 if total else 0,
                 "last": min(number * PAGE_SIZE, total)},
        "show_body": len(bodies) > 1,
        "only_body": bodies[0] if len(bodies) == 1 else None,
        "show_allocated": "allocated" in form.fields,
        "may_export": access.allowed(request.user, "export"),
        "nav": "queue",
    })
