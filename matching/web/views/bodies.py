"""Users and bodies: superusers manage every body, key contacts the members of their own."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from matching.casework import access, audit, lifecycle
from matching.casework.models import (
    Body,
    Declaration,
    Exercise,
    Membership,
    PasswordChangeRequired,
    Role,
)
from matching.web.forms import TAKEN, AddMemberForm, BodyForm, DeclarationForm, RoleForm
from matching.web.views.common import error_list, require


def _managed_body(request: HttpRequest, code: str) -> Body:
    """The body if the user manages its users; 403 for a member who may not, 404 for anyone else."""
    body = Body.objects.filter(code=code).first()
    if body is None:
        raise Http404("No such body")
    if access.allowed(request.user, "manage_users", body):
        return body
    if access.role_in(request.user, body) is not None:
        raise PermissionDenied
    raise Http404("No such body")


def _list(request: HttpRequest, form: BodyForm | None = None, status: int = 200) -> HttpResponse:
    may_add = access.allowed(request.user, "manage_bodies")
    if not (may_add or access.allowed(request.user, "manage_users")):
        raise PermissionDenied
    bodies = access.bodies_for(request.user, "manage_users")
    if may_add and form is None:
        form = BodyForm()
    return render(request, "web/bodies.html", {
        "bodies": bodies, "form": form if may_add else None,
        "errors": error_list(form) if form is not None and form.is_bound else [], "nav": "bodies",
    }, status=status)


@login_required
def body_list(request: HttpRequest) -> HttpResponse:
    return _list(request)


@login_required
@require_POST
def add_body(request: HttpRequest) -> HttpResponse:
    require(request, "manage_bodies")
    form = BodyForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    with transaction.atomic():
        body = Body.objects.create(code=form.cleaned_data["code"], name=form.cleaned_data["name"])
        audit.record(request.user, "body_created", body, body=body.code, detail={"name": body.name})
    messages.success(request, f"{body.name} added")
    return redirect("web:body", code=body.code)


def _exercises() -> list[tuple[int, str]]:
    return [(e.pk, str(e)) for e in Exercise.objects.all()]


def _detail(request: HttpRequest, body: Body, bound: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    bound = bound or {}
    may_super = request.user.is_superuser
    add_form = bound.get("add") or AddMemberForm(body=body, may_grant_superuser=may_super, auto_id="add-%s")
    declare_form = None
    if access.allowed(request.user, "declare", body):
        declare_form = bound.get("declare") or DeclarationForm(exercises=_exercises(), auto_id="declare-%s")
    errors = [e for f in bound.values() for e in error_list(f)]
    members = body.memberships.select_related("user").order_by("user__username")
    return render(request, "web/body.html", {
        "body": body,
        "members": members,
        "roles": Role.choices,
        "add_form": add_form,
        "declare_form": declare_form,
        "declarations": body.declarations.select_related("exercise").order_by("-exercise__as_at"),
        "errors": errors,
        "nav": "bodies",
    }, status=status)


@login_required
def body_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _detail(request, _managed_body(request, code))


@login_required
@require_POST
def add_member(request: HttpRequest, code: str) -> HttpResponse:
    body = _managed_body(request, code)
    form = AddMemberForm(request.POST, body=body, may_grant_superuser=request.user.is_superuser, auto_id="add-%s")
    if form.is_valid() and not _may_attach(request.user, form.existing, body):
        # Only a superuser gives an account of another body (or a superuser's) access here;
        # the message is the same whoever holds the name, so it reveals nothing about them.
        form.add_error("username", TAKEN)
    if not form.is_valid():
        return _detail(request, body, {"add": form}, status=400)
    d = form.cleaned_data
    with transaction.atomic():
        user = form.existing
        if user is None:
            user = User.objects.create_user(d["username"], password=d["password1"])
            # The key contact chose it: the new user chooses their own at first sign-in.
            PasswordChangeRequired.objects.create(user=user, set_by=request.user.username)
            if d.get("is_superuser") and request.user.is_superuser:
                user.is_superuser = user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
            audit.record(request.user, "user_created", user, body=body.code,
                         detail={"username": user.username, "is_superuser": user.is_superuser})
        membership = Membership.objects.create(user=user, body=body, role=d["role"])
        audit.record(request.user, "membership_added", membership, body=body.code,
                     detail={"username": user.username, "role": d["role"]})
    messages.success(request, f"{user.username} added to {body.name} as {membership.get_role_display().lower()}")
    return redirect("web:body", code=body.code)


def _may_attach(by: Any, existing: Any, body: Body) -> bool:
    """A key contact may add a new user, or re-add one who belongs to no other body."""
    if existing is None or by.is_superuser:
        return True
    return not existing.is_superuser and not existing.memberships.exclude(body=body).exists()


def _membership(request: HttpRequest, body: Body, membership_id: int) -> Membership:
    membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, body=body)
    if membership.user_id == request.user.pk:
        raise PermissionDenied("You cannot change your own membership; ask another key contact or a superuser.")
    return membership


@login_required
@require_POST
def change_role(request: HttpRequest, code: str, membership_id: int) -> HttpResponse:
    body = _managed_body(request, code)
    membership = _membership(request, body, membership_id)
    form = RoleForm(request.POST, auto_id=f"role-{membership.pk}-%s")
    if not form.is_valid():
        return _detail(request, body, {"role": form}, status=400)
    previous = membership.role
    with transaction.atomic():
        membership.role = form.cleaned_data["role"]
        membership.save(update_fields=["role"])
        audit.record(request.user, "membership_changed", membership, body=body.code,
                     detail={"username": membership.user.username, "from": previous, "to": membership.role})
        returned = lifecycle.return_to_queue(membership.user, body, request.user, "membership_changed")
    messages.success(request, f"{membership.user.username} is now {membership.get_role_display().lower()}"
                              + _returned(returned))
    return redirect("web:body", code=body.code)


def _returned(count: int) -> str:
    """What a membership change did to the person's open matches, for its confirmation."""
    if not count:
        return ""
    return ". " + lifecycle.returned_to_queue(count, "them")


@login_required
@require_POST
def remove_member(request: HttpRequest, code: str, membership_id: int) -> HttpResponse:
    body = _managed_body(request, code)
    membership = _membership(request, body, membership_id)
    with transaction.atomic():
        audit.record(request.user, "membership_removed", membership, body=body.code,
                     detail={"username": membership.user.username, "role": membership.role})
        membership.delete()
        returned = lifecycle.return_to_queue(membership.user, body, request.user, "membership_removed")
    messages.success(request, f"{membership.user.username} removed from {body.name}" + _returned(returned))
    return redirect("web:body", code=body.code)


@login_required
@require_POST
def declare(request: HttpRequest, code: str) -> HttpResponse:
    body = _managed_body(request, code)
    require(request, "declare", body)
    form = DeclarationForm(request.POST, exercises=_exercises(), auto_id="declare-%s")
    if form.is_valid():
        exercise = Exercise.objects.get(pk=form.cleaned_data["exercise"])
        if Declaration.objects.filter(body=body, exercise=exercise).exists():
            form.add_error("exercise", f"{body.name} has already declared for the {exercise}")
    if not form.is_valid() or form.errors:
        return _detail(request, body, {"declare": form}, status=400)
    with transaction.atomic():
        declaration = Declaration.objects.create(body=body, exercise=exercise, declared_by=request.user.username)
        audit.record(request.user, "declaration", declaration, body=body.code,
                     detail={"exercise": exercise.as_at.isoformat()})
    messages.success(request, f"Privacy-notice declaration recorded for the {exercise}; its matches are now released")
    return redirect("web:body", code=body.code)
