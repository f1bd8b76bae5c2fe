"""Bodies, users and declarations: the administration the CLI does before anyone reviews.

Each function changes the case store and writes its audit event in one transaction, and
raises ``UserError`` with what to do for anything a person typed wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from matching.casework import audit, lifecycle
from matching.casework.models import (
    Body,
    Declaration,
    Exercise,
    Membership,
    PasswordChangeRequired,
    Role,
)
from matching.errors import UserError
from matching.ingest.submissions import check_body
from matching.wording import did_you_mean


def get_body(code: str) -> Body:
    """The body with this code, or a UserError listing the bodies there are."""
    body = Body.objects.filter(code=code).first()
    if body is None:
        codes = list(Body.objects.order_by("code").values_list("code", flat=True))
        raise UserError(f"No body '{code}'.{did_you_mean(code, codes)} Bodies: {', '.join(codes[:20]) or 'none yet'}. "
                        f"Add one with: matching bodies add {code}")
    return body


def check_job(job: str | None) -> None:
    """A job named to choose matches by: one with a config, or with matches in the case store;
    else a UserError (a mistyped job would otherwise choose nothing, and say only "0 shown")."""
    from matching.casework.models import Match
    from matching.jobs.config import list_jobs

    if job is None or Match.objects.filter(job=job).exists() or job in list_jobs():
        return
    known = sorted(set(Match.objects.values_list("job", flat=True).distinct()) | set(list_jobs()))
    raise UserError(f"Unknown job '{job}': no job config and no matches of it in the case store.{did_you_mean(job, known)}")


def get_user(username: str) -> Any:
    """The active user with this username, or a UserError."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise UserError(f"No active user '{username}'. Add one with: matching users add {username} --body BODY --role ROLE")
    return user


def existing_user(username: str) -> Any:
    """The user with this username, active or not, or a UserError naming the fix."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise UserError(f"No user '{username}'.\n  Fix: matching users list shows who there is; matching users add adds one.")
    return user


def add_body(code: str, name: str | None, actor: Any) -> tuple[Body, str]:
    """Create the body, or rename it if it exists. Returns it and "created", "named" (a body
    publish made under its code alone), "renamed" or "unchanged"."""
    check_body(code, "matching bodies add {}")
    with transaction.atomic():
        body = Body.objects.filter(code=code).first()
        if body is None:
            body = Body.objects.create(code=code, name=name or code)
            audit.record(actor, "body_created", body, body=code, detail={"name": body.name})
            return body, "created"
        if name and name != body.name:
            old, body.name = body.name, name
            body.save(update_fields=["name"])
            audit.record(actor, "body_renamed", body, body=code, detail={"from": old, "to": name})
            return body, "named" if old == code else "renamed"
    return body, "unchanged"


@dataclass(frozen=True)
class UserAdded:
    username: str
    body: str
    role: str
    created: bool
    returned: int = 0  # their open matches returned to the queue: they can no longer work them


def add_user(username: str, body_code: str, role: str, password: str | None, actor: Any, *,
             superuser: bool = False, email: str = "", must_change_password: bool = True) -> UserAdded:
    """Create the user with ``role`` in the body, or give an existing user that role there.

    A new user needs a password that passes the configured validators; an existing user
    keeps theirs. Raises UserError for an unknown body or role, or a weak password.
    """
    if role not in Role.values:
        raise UserError(f"Role '{role}' is not a role: use one of {', '.join(Role.values)}.")
    body = get_body(body_code)
    User = get_user_model()
    returned = 0
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        created = user is None
        if user is None:
            if not password:
                raise UserError("A new user needs a password: set MATCHING_PASSWORD or type it when asked.")
            candidate = User(username=username, email=email or "")
            try:
                validate_password(password, candidate)
            except ValidationError as exc:
                raise UserError("Password not accepted: " + " ".join(exc.messages)) from exc
            user = User.objects.create_user(username, email=email or "", password=password)
            if must_change_password:
                PasswordChangeRequired.objects.create(user=user, set_by=audit.actor_name(actor))
        if superuser and not user.is_superuser:
            user.is_superuser = user.is_staff = True
            user.save(update_fields=["is_superuser", "is_staff"])
            if not created:
                audit.record(actor, "superuser_granted", user, body=body.code)
                for member_of in Body.objects.filter(memberships__user=user).order_by("code"):
                    returned += lifecycle.return_to_queue(user, member_of, actor, "superuser_granted")
        membership, new_membership = Membership.objects.get_or_create(user=user, body=body, defaults={"role": role})
        if not new_membership and membership.role != role:
            old, membership.role = membership.role, role
            membership.save(update_fields=["role"])
            audit.record(actor, "role_changed", user, body=body.code, detail={"from": old, "to": role})
            returned += lifecycle.return_to_queue(user, body, actor, "role_changed")
        elif created or new_membership:
            audit.record(actor, "user_added" if created else "membership_added", user, body=body.code,
                         detail={"role": role, "superuser": user.is_superuser})
    return UserAdded(username, body.code, role, created, returned)


def set_password(username: str, password: str, actor: Any, *, must_change_password: bool = True) -> int:
    """Give an existing user a new password (one who forgot theirs, or was locked out), which
    they must change at their next sign-in unless ``must_change_password`` is False; their
    failed sign-ins are forgotten, so a lockout ends. Audited without the password. Returns how
    many failed sign-ins were forgotten."""
    from axes.models import AccessAttempt
    from axes.utils import reset
    from django.db.models import Sum

    user = existing_user(username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UserError("Password not accepted: " + " ".join(exc.messages)) from exc
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        PasswordChangeRequired.objects.filter(user=user).delete()
        if must_change_password:
            PasswordChangeRequired.objects.create(user=user, set_by=audit.actor_name(actor))
        record_password_set(user, actor, must_change=must_change_password)
    failures = AccessAttempt.objects.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
    reset(username=username)
    return int(failures)


def record_password_set(user: Any, actor: Any, *, must_change: bool) -> None:
    """Audit a new password for ``user`` (never the password): one event in the trail of each
    body they belong to, whoever set it (an administrator, or the user changing their own)."""
    bodies = list(Membership.objects.filter(user=user).values_list("body__code", flat=True)) or [""]
    audit.record_many(actor, "password_set", [(b, {"username": user.username, "must_change": must_change},
                                               "user", str(user.pk)) for b in sorted(bodies)])


def list_users(body_code: str | None = None) -> list[dict[str, Any]]:
    """Every membership (or one body's), as username, body, role, superuser, active."""
    qs = Membership.objects.select_related("user", "body")
    if body_code:
        qs = qs.filter(body=get_body(body_code))
    rows = [{"username": m.user.username, "body": m.body.code, "role": m.role,
             "superuser": m.user.is_superuser, "active": m.user.is_active} for m in qs]
    if not body_code:
        members = {r["username"] for r in rows}
        rows += [{"username": u.username, "body": "", "role": "", "superuser": True, "active": u.is_active}
                 for u in get_user_model().objects.filter(is_superuser=True).order_by("username")
                 if u.username not in members]
    return rows


def declare(body_code: str, exercise_date: date | None, declared_by: str, actor: Any) -> tuple[Declaration, bool]:
    """Record the body's privacy-notice declaration for an exercise (default: the latest).

    Idempotent: a second call returns the existing declaration and False. Naming an exercise
    date that does not exist yet creates the exercise.
    """
    body = get_body(body_code)
    with transaction.atomic():
        if exercise_date is None:
            exercise = Exercise.objects.order_by("-as_at").first()
            if exercise is None:
                raise UserError(
                    "There is no exercise yet: publish a run first (matching publish --all), "
                    "or name the exercise's date with --exercise YYYY-MM-DD."
                )
        else:
            exercise = Exercise.objects.filter(as_at=exercise_date).first()
            if exercise is None:
                # Declaring before the exercise is published creates it: only for a plausible date.
                today = date.today()
                if not today - timedelta(days=5 * 365) <= exercise_date <= today + timedelta(days=366):
                    known = ", ".join(d.isoformat() for d in Exercise.objects.order_by("-as_at").values_list("as_at", flat=True)[:5])
                    raise UserError(
                        f"--exercise {exercise_date.isoformat()}: no exercise of that date, and it is not a plausible date for a new one "
                        f"(within five years before and a year after today).\n  Exercises: {known or 'none yet'}."
                    )
                exercise = Exercise.objects.create(as_at=exercise_date)
        existing = Declaration.objects.filter(body=body, exercise=exercise).first()
        if existing is not None:
            return existing, False
        declaration = Declaration.objects.create(body=body, exercise=exercise, declared_by=declared_by)
        audit.record(actor, "declaration", declaration, body=body.code,
                     detail={"exercise": exercise.as_at.isoformat(), "declared_by": declared_by})
    return declaration, True
