"""URLs of the review app, all in the ``web`` namespace. ``tests/web/test_access_walk.py``
walks every one of them as every role: add a URL here and that test tells you to add its row."""

from __future__ import annotations

from django.urls import include, path

from matching.web.views import (
    audit,
    auth,
    bodies,
    dashboard,
    errors,
    export,
    match,
    queue,
    set_aside,
)

web_patterns = [
    path("", queue.queue, name="queue"),
    path("sign-in/", auth.SignIn.as_view(), name="login"),
    path("sign-out/", auth.SignOut.as_view(), name="logout"),
    path("password/", auth.ChangePassword.as_view(), name="password_change"),
    path("session/keep-alive/", auth.keep_alive, name="keep_alive"),
    path("matches/<int:pk>/", match.detail, name="match"),
    path("matches/<int:pk>/outcome/", match.record_outcome, name="match_outcome"),
    path("matches/<int:pk>/allocate/", match.allocate, name="match_allocate"),
    path("matches/<int:pk>/start/", match.start, name="match_start"),
    path("matches/<int:pk>/note/", match.add_note, name="match_note"),
    path("matches/<int:pk>/reopen/", match.reopen, name="match_reopen"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("audit/", audit.audit_trail, name="audit"),
    path("set-aside/", set_aside.set_aside_list, name="set_aside"),
    path("audit/verify/", audit.verify, name="audit_verify"),
    path("bodies/", bodies.body_list, name="bodies"),
    path("bodies/add/", bodies.add_body, name="body_add"),
    path("bodies/<slug:code>/", bodies.body_detail, name="body"),
    path("bodies/<slug:code>/members/add/", bodies.add_member, name="member_add"),
    path("bodies/<slug:code>/members/<int:membership_id>/role/", bodies.change_role, name="member_role"),
    path("bodies/<slug:code>/members/<int:membership_id>/remove/", bodies.remove_member, name="member_remove"),
    path("bodies/<slug:code>/declare/", bodies.declare, name="declare"),
    path("export/", export.export, name="export"),
]

urlpatterns = [path("", include((web_patterns, "web")))]

handler403 = errors.forbidden
handler404 = errors.not_found
handler500 = errors.server_error
