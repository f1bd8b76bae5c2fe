"""My queue: the matches a user may see, filtered, sorted by priority and paginated."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from matching.casework import access, audit, lifecycle
from matching.casework.explained import body_names, explanation_of
from matching.casework.models import Run, Status
from matching.casework.queries import (
    QueueFilters,
    counted,
    filter_matches,
    sort_matches,
    status_counts,
    with_status_of,
)
from matching.web.forms import BulkAllocateForm, QueueFilterForm
from matching.web.views.common import PAGE_SIZE, page_window, person_label, require, workers_of
from matching.wording import plural


def queue_form(request: HttpRequest, data: Any = None) -> QueueFilterForm:
    """The queue's filter form for this user, of ``data`` (the query string, or the export's
    form, which reads the same filters)."""
    user = request.user
    bodies = access.bodies_for(user, "view_queue")
    overseen = access.bodies_for(user, "allocate_match") | access.bodies_for(user, "view_audit")
    jobs = dict(Run.objects.order_by("job", "-created_at").values_list("job", "title"))
    body_choices = [(b.code, b.name) for b in bodies] if bodies.count() > 1 else []
    return QueueFilterForm(
        request.GET if data is None else data, jobs=sorted(jobs.items(), key=lambda jt: (jt[1].casefold(), jt[0])), people=workers_of(overseen.values("pk")), bodies=body_choices,
        oversees=overseen.exists(),
    )


# What the queue's and the export's forms carry besides the queue's filters.
NOT_FILTERS = ("csrfmiddlewaretoken", "format", "page", "filter", "match", "allocated_to")
# The search box's field. Its words are a name or a reference: they travel only in a form
# posted (the filter form, and the hidden fields of the page drawn in answer to it), never
# in an address, which browser history, proxies and the sign-in's "next" would keep.
SEARCH = "search"
# A search's matches are shown on one page (a POST has no addresses to page through) of
# PAGE_SIZE; a search finding more says so and asks for more words. (A page of 200 drew a
# search by a name in 141 ms (p50) against 62 ms for 50, with 66,668 matches visible.)


def address_filters(request: HttpRequest) -> QueryDict:
    """The queue's filters in the page's address: never a search (an old link's is ignored)."""
    data = request.GET.copy()
    data.pop(SEARCH, None)
    return data



def filter_fields(data: Any) -> list[tuple[str, str]]:
    """The queue's filters in ``data`` (a QueryDict) as (name, value) hidden fields of the
    export form, which posts them: a download is a POST, never a link."""
    return [(k, v) for k, values in data.lists() if k not in NOT_FILTERS for v in values if v]


def filtered_queue(request: HttpRequest, f: QueueFilters) -> Any:
    """The visible matches with the filters applied (not sorted), for the queue and its export."""
    return filter_matches(access.visible_matches(request.user), f, request.user)


QUEUE_QUERY = "queue_query"  # the session key of the queue's last filters, without its search
MOST_REASONS = 10  # reasons listed in the banner; the rest are counted


def allocate_selected(request: HttpRequest, bulk: BulkAllocateForm) -> None:
    """Allocate the ticked matches (each by lifecycle.allocate's rules) and say what happened."""
    chosen = bulk.chosen()
    found = {
        m.pk: m for m in access.visible_matches(request.user).select_related("owning_body", "allocated_to")
        .filter(pk__in=[pk for pk, _ in chosen])
    }
    person = bulk.person()
    to_user = User.objects.get(pk=person) if person is not None else None
    done = lifecycle.allocate_many([(found[pk], v) for pk, v in chosen if pk in found], to_user, request.user)
    name = person_label(to_user) if to_user else None
    if done.allocated:
        what = plural(len(done.allocated), "match", "matches")
        messages.success(request, f"{what} allocated to {name}." if name else f"{what} unallocated.")
    if done.unchanged:
        messages.info(request, f"{plural(len(done.unchanged), 'match was', 'matches were')} already "
                               f"{'allocated to ' + name if name else 'unallocated'}.")
    reasons = [reason for _, reason in done.left] + [f"No match {pk} is visible to you." for pk, _ in chosen if pk not in found]
    if reasons:
        more = f" And {len(reasons) - MOST_REASONS:,} more." if len(reasons) > MOST_REASONS else ""
        messages.warning(request, f"{plural(len(reasons), 'match was', 'matches were')} not allocated: "
                                  + " ".join(reasons[:MOST_REASONS]) + more)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def queue(request: HttpRequest) -> HttpResponse:
    """The queue. Filters without a search are an address (a link, a bookmark, "Back to your
    queue"): the filter form posted without one redirects to it. A search is posted, and its
    matches are drawn in answer, on one page, its words carried on in the page's forms."""
    require(request, "view_queue")
    data = address_filters(request)
    posted = request.method == "POST" and ("filter" in request.POST or bool(request.POST.get(SEARCH, "").strip()))
    if posted:  # the filter form, or allocating from a search's matches (its filters in hidden fields)
        data = request.POST
        if "filter" in data and not data.get(SEARCH, "").strip():
            query = urlencode([(k, v) for k, v in filter_fields(data) if k != SEARCH])
            return redirect(f"{reverse('web:queue')}?{query}" if query else reverse("web:queue"))
    form = queue_form(request, data)
    form.is_valid()  # a search applies even beside another filter's mistake, as filters() applies it
    searching = bool(form.cleaned_data.get(SEARCH))
    # The match page's "Back to your queue" returns to these filters, sort and page; not to a
    # search, whose words (a name) the session does not keep (the audit trail keeps only a
    # keyed hash of them).
    if request.method == "GET":
        kept = address_filters(request)
        if request.session.get(QUEUE_QUERY) != kept.urlencode():
            request.session[QUEUE_QUERY] = kept.urlencode()
    may_allocate = access.body_ids_for(request.user, "allocate_match")
    bulk = None
    if request.method == "POST" and "filter" not in request.POST:  # "allocate selected", posted to the page's own address
        if not may_allocate:
            raise PermissionDenied
        bulk = BulkAllocateForm(request.POST, auto_id="bulk-%s", people=workers_of(list(may_allocate)))
        if bulk.is_valid():
            allocate_selected(request, bulk)
            if not posted:
                return redirect(request.get_full_path())
            bulk = None  # the search's matches are drawn again below, as allocated now
    f = form.filters()
    unstatused = filter_matches(access.visible_matches(request.user), f, request.user, with_status=False)
    counts = status_counts(unstatused)
    total = counted(counts, f.status)
    # Filters posted (a search, or a search too long to apply) have no address to page through
    # or link to: one page, its filters carried on in its forms.
    pages = 1 if posted else max(1, -(-total // PAGE_SIZE))
    try:
        number = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        number = 1
    matches = with_status_of(unstatused, f.status)
    rows = list(
        sort_matches(matches, f.sort)
        .select_related("owning_body", "allocated_to")
        .defer("left_record", "right_record", "contributions", "owning_body__created_at")
        [(number - 1) * PAGE_SIZE: number * PAGE_SIZE]
    )
    # The rows' explanations name people and their addresses: the page shown is audited.
    audit.record_listing(request.user, "view_queue", rows, detail={"page": number})
    bodies = list(access.bodies_for(request.user, "view_queue").order_by("name")[:2])
    selectable = {m.pk for m in rows if m.owning_body_id in may_allocate and m.status != Status.CLOSED}
    names = body_names()
    for m in rows:
        m.seen = f"{m.pk}:{m.version}"  # what a ticked row posts
        m.shown_explanation = explanation_of(m, names)
    if selectable and bulk is None:
        bulk = BulkAllocateForm(auto_id="bulk-%s", people=workers_of(list(may_allocate)))
    ticked = set(bulk.data.getlist("match")) if bulk is not None and bulk.is_bound else set()
    bulk_errors = []
    if bulk is not None and bulk.is_bound:
        if not selectable:  # the page has nothing open to allocate now (all closed since)
            messages.warning(request, "Nothing was allocated: no match on this page can be allocated now.")
            if not posted:
                return redirect(request.get_full_path())
        else:
            first = next(m.pk for m in rows if m.pk in selectable)
            bulk_errors = [(f"#select-{first}" if name == "match" else f"#{bulk[name].auto_id}", e)
                           for name, field_errors in bulk.errors.items() for e in field_errors]
    # An empty queue says why: declarations that hold its matches back, the filters chosen,
    # or simply no work.
    withheld = access.withheld(request.user) if not total else 0
    narrowed = any(v for k, v in f.as_dict().items() if k not in ("status", "sort")) or f.status not in ("open", "all")
    what = "open matches" if f.status == "open" else "matches"
    empty = ("No matches fit these filters." if narrowed
             else f"You have no {what}." if "allocated" in form.fields else f"No {what} are allocated to you.")
    # Found, but with another status (a caller's closed claim, searched from the open queue).
    elsewhere = counted(counts, "all") - total if not total and f.status != "all" else 0
    return render(request, "web/queue.html", {
        "withheld": withheld,
        "empty": empty,
        "elsewhere": elsewhere,
        "bulk": bulk if selectable else None,
        "selectable": selectable,
        "ticked": ticked,
        "bulk_errors": bulk_errors,
        "form": form,
        "filters": f,
        "rows": rows,
        "total": total,
        "counts": [("open", "Open", counted(counts, "open")), *((value, label, counts[value]) for value, label in Status.choices),
                   ("all", "All", counted(counts, "all"))],
        "page": {"number": number, "pages": pages, "window": page_window(number, pages),
                 "first": (number - 1) * PAGE_SIZE + 1 if total else 0,
                 "last": min(number * PAGE_SIZE, total)},
        "searching": searching,
        "posted": posted,
        "query_fields": filter_fields(data),
        "show_body": len(bodies) > 1,
        "only_body": bodies[0] if len(bodies) == 1 else None,
        "show_allocated": "allocated" in form.fields,
        "may_export": access.allowed(request.user, "export"),
        "export_fields": filter_fields(data),
        "nav": "queue",
    })
