"""Export the filtered queue as CSV or XLSX, through ``casework.export`` (which marks the file,
neutralises formulas and audits the export)."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone

from matching.casework import access
from matching.casework.export import FORMATS, export_matches
from matching.web.views.common import require
from matching.web.views.queue import filtered_queue, queue_form

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
def export(request: HttpRequest) -> HttpResponse:
    require(request, "export")
    # A download of personal data starts from this app's own pages: a link on another site
    # (which the session cookie follows, SameSite=Lax) must not make one, nor its audit event.
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise PermissionDenied("An export starts from the queue page of this app.")
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponseBadRequest("Choose format=csv or format=xlsx.")
    f = queue_form(request).filters()
    exportable = access.bodies_for(request.user, "export")
    if f.body and not exportable.filter(code=f.body).exists():
        raise PermissionDenied
    bodies = exportable.filter(code=f.body) if f.body else exportable
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
