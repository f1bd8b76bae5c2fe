"""Template context shared by every page: the protective marking, the navigation the user
may use (each link shown only when ``access.allowed`` says so), and where the session
timeout returns to."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from matching.casework import access
from matching.web.middleware import return_address


def navigation(request: HttpRequest) -> dict[str, Any]:
    context: dict[str, Any] = {"protective_marking": settings.PROTECTIVE_MARKING}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    links = []
    if access.allowed(user, "view_queue"):
        links.append(("queue", "web:queue", "My queue"))
    if access.allowed(user, "view_dashboard"):
        links.append(("dashboard", "web:dashboard", "Outcomes"))
    if access.allowed(user, "view_set_aside"):
        links.append(("set_aside", "web:set_aside", "Set aside"))
    if access.allowed(user, "view_audit"):
        links.append(("audit", "web:audit", "Audit trail"))
    if access.allowed(user, "manage_users") or access.allowed(user, "manage_bodies"):
        links.append(("bodies", "web:bodies", "Users and bodies"))
    links.append(("password", "web:password_change", "Change password"))
    context["nav_links"] = links
    context["session_idle_seconds"] = settings.SESSION_IDLE_SECONDS
    # Where "Stay signed in" and signing in again after the time limit return to: this page,
    # or the page its form is on when it answers a form (its own address is POST only).
    context["return_to"] = return_address(request)
    return context
