"""Who may see and do what: the one place that decides.

Every view, export and CLI command asks ``allowed`` (or, for lists, ``visible_matches``,
which is the same rule as a query). Actions are named; targets are a match, a body or
nothing. A match is visible only when its owning body has made its privacy-notice
declaration for the match's exercise, and so has every other body whose record it shows (a
cross-council match shows another council's employee or tenant, whose data that council has
not released until it declares), and then:

- a *key contact* sees and works all of the body's matches, allocates them, exports the
  queue and manages the body's users;
- an *investigator* sees and works the matches allocated to them;
- an *auditor* sees all of the body's matches, outcomes and audit trail, and changes nothing;
- a *superuser* administers bodies and users and sees every declared match.

A person's subject access search (``subject_access``) is a key contact's, over their bodies'
data, or a superuser's, over everything.

What a job's rule set aside instead of queueing (``visible_set_aside``) is seen as a whole
body's matches are: by its key contacts and auditors, once the body has declared, and by
superusers.

A match a user may not see does not exist for them: views answer 404, never 403, so ids
cannot be probed. A match they may see but not change answers 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from matching.casework.models import Body, Declaration, Match, Membership, Role, Run, SetAside

# What each role may do within its own body.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "key_contact": frozenset(
        {"view_queue", "view_match", "work_match", "allocate_match", "view_dashboard", "export",
         "manage_users", "declare", "view_set_aside", "subject_access"}
    ),
    "investigator": frozenset({"view_queue", "view_match", "work_match", "view_dashboard"}),
    "auditor": frozenset({"view_queue", "view_match", "view_dashboard", "export", "view_audit", "view_set_aside"}),
}
SUPERUSER_ACTIONS = frozenset(
    {"view_queue", "view_match", "allocate_match", "view_dashboard", "export", "view_audit",
     "manage_users", "manage_bodies", "declare", "publish", "view_set_aside", "subject_access"}
)
ACTIONS = frozenset().union(*ROLE_ACTIONS.values(), SUPERUSER_ACTIONS)


def _roles(user: Any) -> dict[int, str]:
    """body id → role, read once per user object (one request)."""
    cached = getattr(user, "_matching_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("body_id", "role"))
        user._matching_roles = cached
    return cached


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _declared(body_ids: list[int] | None = None) -> dict[int, list[int]]:
    """body id → the exercises it has declared for (a handful of rows)."""
    pairs = Declaration.objects.all()
    if body_ids is not None:
        pairs = pairs.filter(body_id__in=body_ids)
    declared: dict[int, list[int]] = {}
    for body_id, exercise_id in pairs.values_list("body_id", "exercise_id"):
        declared.setdefault(body_id, []).append(exercise_id)
    return declared


def _released(declared: dict[int, list[int]], **extra: Any) -> Q:
    """Matches of the declared bodies and exercises, as plain column tests, so the queue's
    indexes on (owning body, exercise, …) answer counts and pages without a subquery."""
    q = Q(pk__in=[])
    for body_id, exercises in declared.items():
        q |= Q(owning_body_id=body_id, exercise_id__in=exercises, **extra)
    return q


def _undeclared_records(exercises: set[int], fields: tuple[str, ...]) -> Q | None:
    """Matches (or set-aside rows) of these exercises that show a record of a body that has
    not declared for the exercise (in any of ``fields``), as a condition to exclude; None when
    every body whose data the exercise's runs read has declared (the usual case, which then
    costs the queue's covering indexes nothing)."""
    if not exercises:
        return None
    read: dict[int, set[str]] = {e: set() for e in exercises}
    declared: dict[int, set[str]] = {e: set() for e in exercises}
    rows = Run.objects.filter(exercise_id__in=exercises).values_list(
        "exercise_id", "submissions__body__code", "submissions__body__declarations__exercise_id")  # one query
    for exercise_id, code, declared_for in rows:
        if code is not None:
            read[exercise_id].add(code)
            if declared_for == exercise_id:
                declared[exercise_id].add(code)
    q: Q | None = None
    for exercise_id in sorted(exercises):
        if missing := sorted(read[exercise_id] - declared[exercise_id]):
            shown = Q(pk__in=[])
            for name in fields:
                shown |= Q(**{f"{name}__in": missing})
            part = Q(exercise_id=exercise_id) & shown
            q = part if q is None else q | part
    return q


def _only_released_records(qs: QuerySet[Any], declared: dict[int, list[int]], fields: tuple[str, ...]) -> QuerySet[Any]:
    exclude = _undeclared_records({e for exercises in declared.values() for e in exercises}, fields)
    return qs.exclude(exclude) if exclude is not None else qs


MATCH_RECORDS = ("left_body", "right_body")
SET_ASIDE_RECORDS = ("left_body", "right_body", "also_linked_right_body")


def visible_matches(user: Any) -> QuerySet[Match]:
    """Every match the user may see: the query form of ``allowed(user, "view_match", m)``."""
    if not _active(user):
        return Match.objects.none()
    if user.is_superuser:
        declared = _declared()
        return _only_released_records(Match.objects.filter(_released(declared)), declared, MATCH_RECORDS)
    whole_body, allocated = _scope(user)
    declared = _declared(whole_body + allocated)
    q = _released({b: e for b, e in declared.items() if b in whole_body})
    q |= _released({b: e for b, e in declared.items() if b in allocated}, allocated_to=user)
    return _only_released_records(Match.objects.filter(q), declared, MATCH_RECORDS)


def _scope(user: Any) -> tuple[list[int], list[int]]:
    """The bodies whose every match the user sees (key contact, auditor), and those whose
    matches allocated to them they see (investigator)."""
    roles = _roles(user)
    return ([b for b, r in roles.items() if r in ("key_contact", "auditor")],
            [b for b, r in roles.items() if r == "investigator"])


def withheld(user: Any) -> int:
    """When the user sees no match at all, how many they would see but for their own body's
    declaration, not yet recorded for the exercise: what an empty queue should explain (0
    when they see any). Matches held back by another body's missing declaration are not
    counted: how many of a body's people appear in data another body has not released is not
    told."""
    if not _active(user) or visible_matches(user).exists():
        return 0
    if user.is_superuser:
        theirs = Match.objects.all()
    else:
        whole_body, allocated = _scope(user)
        theirs = Match.objects.filter(Q(owning_body_id__in=whole_body) | Q(owning_body_id__in=allocated, allocated_to=user))
    declared = Declaration.objects.filter(body_id=OuterRef("owning_body_id"), exercise_id=OuterRef("exercise_id"))
    return theirs.exclude(Exists(declared)).count()


def visible_set_aside(user: Any) -> QuerySet[SetAside]:
    """What jobs set aside that the user may see: their whole bodies' (key contact, auditor)
    of the exercises those bodies have declared; a superuser's, every declared body's."""
    if not _active(user):
        return SetAside.objects.none()
    if user.is_superuser:
        declared = _declared()
    else:
        declared = _declared([b for b, r in _roles(user).items() if "view_set_aside" in ROLE_ACTIONS[r]])
    return _only_released_records(SetAside.objects.filter(_released(declared)), declared, SET_ASIDE_RECORDS)


def _match_visible(user: Any, match: Match) -> bool:
    if not Declaration.objects.filter(body_id=match.owning_body_id, exercise_id=match.exercise_id).exists():
        return False
    others = {match.left_body, match.right_body} - {match.owning_body.code}
    if others and Declaration.objects.filter(exercise_id=match.exercise_id, body__code__in=others).count() < len(others):
        return False  # another body's record, not yet released by its declaration
    if user.is_superuser:
        return True
    role = _roles(user).get(match.owning_body_id)
    if role in (Role.KEY_CONTACT, Role.AUDITOR):
        return True
    return role == Role.INVESTIGATOR and match.allocated_to_id == user.pk


def allowed(user: Any, action: str, target: Match | Body | None = None) -> bool:
    """May ``user`` do ``action`` to ``target`` (a match, a body, or nothing: anywhere)?"""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not _active(user):
        return False
    if isinstance(target, Match):
        if not _match_visible(user, target):
            return False
        if user.is_superuser:
            return action in SUPERUSER_ACTIONS
        role = _roles(user).get(target.owning_body_id)
        if role is None or action not in ROLE_ACTIONS[role]:
            return False
        if action == "work_match" and role == Role.INVESTIGATOR:
            return target.allocated_to_id == user.pk
        return True
    if user.is_superuser:
        return action in SUPERUSER_ACTIONS
    if isinstance(target, Body):
        role = _roles(user).get(target.pk)
        return role is not None and action in ROLE_ACTIONS[role]
    return any(action in ROLE_ACTIONS[r] for r in _roles(user).values())


# The roles whose holders work matches: a match of their body may be allocated to them.
WORKING_ROLES = tuple(role for role, actions in ROLE_ACTIONS.items() if "work_match" in actions)


def may_be_allocated(user: Any, body: Body) -> bool:
    """May a match of ``body`` be allocated to ``user``: exactly when they could then work it
    (``allowed(user, "work_match", match)`` for such a match). A superuser works no match, as
    ``allowed`` answers for them by ``SUPERUSER_ACTIONS``, whatever their role in the body."""
    if not _active(user):
        return False
    if user.is_superuser:
        return "work_match" in SUPERUSER_ACTIONS
    role = _roles(user).get(body.pk)
    return role is not None and "work_match" in ROLE_ACTIONS[role]


def allocatable(body_ids: Any) -> QuerySet[Membership]:
    """The memberships of the bodies whose holders their matches may be allocated to: the query
    form of ``may_be_allocated``."""
    members = Membership.objects.filter(body_id__in=body_ids, role__in=WORKING_ROLES, user__is_active=True)
    return members if "work_match" in SUPERUSER_ACTIONS else members.exclude(user__is_superuser=True)


def bodies_for(user: Any, action: str) -> QuerySet[Body]:
    """The bodies in which ``user`` may do ``action``."""
    if not _active(user):
        return Body.objects.none()
    if user.is_superuser:
        return Body.objects.all() if action in SUPERUSER_ACTIONS else Body.objects.none()
    ids = [b for b, r in _roles(user).items() if action in ROLE_ACTIONS[r]]
    return Body.objects.filter(pk__in=ids)


def body_ids_for(user: Any, action: str) -> set[int]:
    """The ids of ``bodies_for``, from the roles already read (a query only for a superuser)."""
    if not _active(user):
        return set()
    if user.is_superuser:
        return set(Body.objects.values_list("pk", flat=True)) if action in SUPERUSER_ACTIONS else set()
    return {b for b, r in _roles(user).items() if action in ROLE_ACTIONS[r]}


def role_in(user: Any, body: Body) -> str | None:
    """The user's role in ``body``, or None."""
    if not _active(user):
        return None
    return _roles(user).get(body.pk)


def forget(user: Any) -> None:
    """Drop the cached roles (after a membership changes in the same request)."""
    if hasattr(user, "_matching_roles"):
        del user._matching_roles
