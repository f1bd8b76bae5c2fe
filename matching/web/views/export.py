"""Export the filtered queue as CSV or XLSX, through ``casework.export`` (which marks the file,
neutralises formulas and audits the export).

A download of personal data is a POST with the form's CSRF token: a link (on this app's pages
or another site's, which the session cookie follows) only shows the page with its buttons,
and makes no file and no audit event. The filters travel in the form, not the address."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from matching.casework import access
from matching.casework.export import FORMATS, export_matches
from matching.casework.models import Body
from matching.casework.queries import QueueFilters
from matching.web.views.common import require
from matching.web.views.queue import address_filters, filter_fields, filtered_queue, queue_form

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _scope(request: HttpRequest, data: QueryDict) -> tuple[QueueFilters, QuerySet[Body]]:
    """The filters and the bodies they export (403 for a body the user may not export)."""
    f = queue_form(request, data).filters()
    exportable = access.bodies_for(request.user, "export")
    if f.body and not exportable.filter(code=f.body).exists():
        raise PermissionDenied
    return f, exportable.filter(code=f.body) if f.body else exportable


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    require(request, "export")
    if request.method != "POST":
        data = address_filters(request)  # never a search from an address
        f, bodies = _scope(request, data)
        return render(request, "web/export.html", {
            "total": filtered_queue(request, f).filter(owning_body__in=bodies).count(),
            "export_fields": filter_fields(data),
            "queue_query": urlencode(filter_fields(data)),
            "nav": "queue",
        })
    # Defence in depth: the CSRF token already refuses another site's form.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise PermissionDenied("An export starts from the queue page of this app.")
    fmt = request.POST.get("format", "")
    if fmt not in FORMATS:
        return HttpResponseBadRequest("Choose CSV or Excel (XLSX).")
    f, bodies = _scope(request, request.POST)
    codes = list(bodies.values_list("code", flat=True))
    filters = f.as_dict()
    if len(codes) == 1:
        filters["body"] = codes[0]  # so the body's auditors see the export in their trail
    matches = filtered_queue(request, f).filter(owning_body__in=bodies)
    label = ", ".join(bodies.values_list("name", flat=True)) or "no bodies"
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)
    export_matches(request.user, matches, fmt, out, filters=filters, body_label=label)
    out.seek(0)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"matches-{codes[0] if len(codes) == 1 else 'all-bodies'}-{stamp}.{fmt}"
    return FileResponse(out, as_attachment=True, filename=name, content_type=CONTENT_TYPES[fmt])
