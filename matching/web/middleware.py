"""Middleware: response headers Django 5.2 does not set itself, and the session rules (an idle and a
whole-day limit, and a password somebody else chose changed first)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from matching.casework.models import PasswordChangeRequired


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy from settings, and keeps pages with personal data
    out of shared caches and the browser's back-forward cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if not request.path.startswith(settings.STATIC_URL):
            response.headers.setdefault("Cache-Control", "no-store, private")
        return response


# The addresses that answer only POST (a form's), each with the page its form is on (and the
# arguments of the address that page keeps): what to go back to instead of the address.
FORM_PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "web:match_outcome": ("web:match", ("pk",)),
    "web:match_allocate": ("web:match", ("pk",)),
    "web:match_start": ("web:match", ("pk",)),
    "web:match_note": ("web:match", ("pk",)),
    "web:match_reopen": ("web:match", ("pk",)),
    "web:audit_verify": ("web:audit", ()),
    "web:body_add": ("web:bodies", ()),
    "web:member_add": ("web:body", ("code",)),
    "web:member_role": ("web:body", ("code",)),
    "web:member_remove": ("web:body", ("code",)),
    "web:declare": ("web:body", ("code",)),
    "web:keep_alive": ("web:queue", ()),
    "web:logout": ("web:queue", ()),
}


def return_address(request: HttpRequest) -> str:
    """Where to return to this page later (after signing in again, or "Stay signed in"): the
    page itself, or, for a page drawn in answer to a form (a note sent after the time limit, an
    outcome with a mistake in it), the page the form belongs to: the form's own address
    answers only POST, so returning there would show a blank 405."""
    try:
        found = resolve(request.path_info)
    except Resolver404:
        found = None
    if found is not None and found.view_name in FORM_PAGES:
        name, kept = FORM_PAGES[found.view_name]
        return reverse(name, kwargs={k: found.kwargs[k] for k in kept})
    if request.method in ("GET", "HEAD") or found is not None:
        return request.get_full_path()  # any other address of the app's answers GET as well
    return "/"


class SessionTimeoutMiddleware:
    """Signs a user out after ``SESSION_IDLE_SECONDS`` without a request (30 minutes: an
    unattended desk must not stay signed in to personal data) and ``SESSION_ABSOLUTE_SECONDS``
    after signing in (8 hours), whatever the session store's own expiry says."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            began, last = session.setdefault("signed_in_at", now), session.get("last_seen", now)
            idle, whole = now - int(last) > settings.SESSION_IDLE_SECONDS, now - int(began) > settings.SESSION_ABSOLUTE_SECONDS
            if idle or whole:
                logout(request)
                minutes = settings.SESSION_IDLE_SECONDS // 60
                messages.info(request, f"You were signed out after {minutes} minutes without activity." if idle
                              else f"You were signed out {settings.SESSION_ABSOLUTE_SECONDS // 3600} hours after signing in.")
                return redirect_to_login(return_address(request))
            if now - int(session.get("last_seen", 0)) >= 30:  # not a session write on every request
                session["last_seen"] = now
        return self.get_response(request)


# In the session once the user is known to hold a password they chose (one query a session).
PASSWORD_OK = "password_ok"


class PasswordChangeMiddleware:
    """A user whose password somebody else chose (``PasswordChangeRequired``) may do nothing
    but choose their own, or sign out: the person who set it must not know a working one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and not request.session.get(PASSWORD_OK):
            allowed = (reverse("web:password_change"), reverse("web:logout"), reverse("web:keep_alive"))
            if PasswordChangeRequired.objects.filter(user_id=request.user.pk).exists():
                if request.path not in allowed and not request.path.startswith(settings.STATIC_URL):
                    messages.warning(request, "Choose your own password before you go on: the one you signed in with was set by someone else.")
                    return redirect("web:password_change")
            else:
                request.session[PASSWORD_OK] = True
        return self.get_response(request)
