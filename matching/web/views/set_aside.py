"""What the jobs set aside instead of queueing, for the bodies' key contacts and auditors.

A job with ``rule.not_if_also_linked`` (the admissions jobs) leaves out of the queue an
inconsistency whose left record also links, at least as strongly, where the rule's condition
holds: for a school admission, a namesake's council tax account or register entry elsewhere,
when the parent is on the account or register at the very address the application gives.
Nothing the engine holds back is hidden: this page lists each, with the link that set it
aside. Each page shown is audited, by the records' keys, in the trail of every body whose records it shows.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from matching.casework import access, audit
from matching.casework.explained import body_names, explanation_of
from matching.web.views.common import PAGE_SIZE, page_window, require


@login_required
def set_aside_list(request: HttpRequest) -> HttpResponse:
    require(request, "view_set_aside")
    rows = access.visible_set_aside(request.user).select_related("owning_body", "run")
    paginator = Paginator(rows.order_by("-run__created_at", "job", "left_body", "left_record_id", "pk"), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    # Every body whose record a row shows sees the view in its trail: the owner's, and the
    # other council's whose namesake's account or entry the explanation names. A row is named
    # by its run and its records' keys, which outlive the row (a later run replaces the list).
    shown: dict[str, list[dict[str, str]]] = {}
    names = body_names()
    for row in page:
        row.shown_explanation = explanation_of(row, names)
        named = {
            "run_id": row.run.run_id,
            "left": f"{row.left_kind}/{row.left_body}/{row.left_record_id}",
            "right": f"{row.right_kind}/{row.right_body}/{row.right_record_id}",
            "also_linked": f"{row.right_kind}/{row.also_linked_right_body}/{row.also_linked_right_record_id}",
        }
        for body in {row.owning_body.code, row.left_body, row.right_body, row.also_linked_right_body}:
            shown.setdefault(body, []).append(named)
    audit.record_many(request.user, "view_set_aside", [(body, {"rows": rows}, "set_aside", "") for body, rows in sorted(shown.items())])
    return render(request, "web/set_aside.html", {
        "page": page,
        "window": page_window(page.number, paginator.num_pages),
        "nav": "set_aside",
    })
