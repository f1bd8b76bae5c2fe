"""Outcomes dashboard: per job and body, what is open, how old, and what investigations found."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from matching.casework import access
from matching.casework.models import Category, Exercise
from matching.casework.queries import dashboard as dashboard_rows
from matching.casework.queries import dashboard_totals
from matching.web.forms import DashboardFilterForm
from matching.web.views.common import require


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    require(request, "view_dashboard")
    bodies = access.bodies_for(request.user, "view_dashboard")
    form = DashboardFilterForm(
        request.GET, bodies=[(b.code, b.name) for b in bodies],
        exercises=[(e.pk, str(e)) for e in Exercise.objects.all()],
    )
    matches = access.visible_matches(request.user).filter(owning_body__in=bodies)
    if form.is_valid():
        if form.cleaned_data.get("body"):
            matches = matches.filter(owning_body__code=form.cleaned_data["body"])
        if form.cleaned_data.get("exercise"):
            matches = matches.filter(exercise_id=form.cleaned_data["exercise"])
    rows = dashboard_rows(matches)
    return render(request, "web/dashboard.html", {
        "form": form,
        "rows": rows,
        "totals": dashboard_totals(rows),
        "categories": Category.choices,
        "nav": "dashboard",
    })
