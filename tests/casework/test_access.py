"""Who sees what: the access function, tested without HTTP (the web suite walks every URL)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from matching.casework.access import allowed, bodies_for, visible_matches
from matching.casework.models import Body, Declaration, Match

pytestmark = pytest.mark.django_db


def visible(cw, name):
    return set(visible_matches(cw.users[name]).values_list("pk", flat=True))


def test_each_role_sees_what_it_should(casework):
    kingston = {m.pk for m in casework.matches["kingston"]}
    richmond = {m.pk for m in casework.matches["richmond"]}
    assert visible(casework, "k_kc") == kingston
    assert visible(casework, "k_aud") == kingston
    assert visible(casework, "k_inv") == {casework.matches["kingston"][0].pk}
    assert visible(casework, "k_inv2") == set()
    assert visible(casework, "r_kc") == richmond
    assert visible(casework, "admin") == kingston | richmond
    assert not visible_matches(AnonymousUser()).exists()


def test_visibility_and_allowed_agree_for_every_user_and_match(casework):
    everything = casework.matches["kingston"] + casework.matches["richmond"]
    for name, user in casework.users.items():
        seen = visible(casework, name)
        for match in everything:
            assert allowed(user, "view_match", match) == (match.pk in seen), (name, match.pk)


def test_no_declaration_no_matches(casework):
    Declaration.objects.filter(body__code="kingston").delete()
    assert visible(casework, "k_kc") == set()
    assert visible(casework, "admin") == {m.pk for m in casework.matches["richmond"]}
    assert not allowed(casework.users["k_inv"], "view_match", casework.matches["kingston"][0])


def test_auditors_read_and_change_nothing(casework):
    match, aud = casework.matches["kingston"][0], casework.users["k_aud"]
    assert allowed(aud, "view_match", match) and allowed(aud, "view_audit", casework.bodies["kingston"])
    for action in ("work_match", "allocate_match", "manage_users", "declare"):
        assert not allowed(aud, action, match) and not allowed(aud, action, casework.bodies["kingston"])


def test_a_deactivated_user_sees_nothing(casework):
    user = casework.users["k_kc"]
    user.is_active = False
    user.save()
    assert not visible_matches(user).exists()
    assert not allowed(user, "view_queue")


def test_bodies_for_lists_only_the_users_bodies(casework):
    """A key contact manages their own body; an administrator every body, including one that
    has not declared yet (it is set up before it can declare)."""
    Body.objects.create(code="camden", name="London Borough of Camden")
    assert list(bodies_for(casework.users["k_kc"], "manage_users").values_list("code", flat=True)) == ["kingston"]
    assert not bodies_for(casework.users["k_inv"], "manage_users").exists()
    admin = set(bodies_for(casework.users["admin"], "manage_bodies").values_list("code", flat=True))
    assert admin == {"camden", "dwp", "kingston", "richmond"}


def test_an_unknown_action_is_a_programming_error(casework):
    with pytest.raises(ValueError):
        allowed(casework.users["admin"], "delete_everything")


def test_another_bodys_record_is_shown_only_once_that_body_has_declared(casework):
    """A cross-council match shows the other council's employee: until that council declares
    for the exercise, its data is not released, so the match is visible to nobody."""
    from matching.casework.models import Body, Exercise
    from matching.casework.publish import publish
    from matching.workspace import Workspace
    from tests.casework.fixtures import inconsistency, make_bundle

    row = inconsistency(50, right_body="windsor")
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row]), actor="test")
    m = Match.objects.get(right_body="windsor")
    for who in ("k_kc", "k_aud", "admin"):
        user = casework.users[who]
        assert not visible_matches(user).filter(pk=m.pk).exists() and not allowed(user, "view_match", m)
    Declaration.objects.create(body=Body.objects.get(code="windsor"), exercise=Exercise.objects.get(), declared_by="t")
    for who in ("k_kc", "k_aud", "admin"):
        user = casework.users[who]
        assert visible_matches(user).filter(pk=m.pk).exists() and allowed(user, "view_match", m)


def test_a_match_may_be_allocated_to_exactly_those_who_could_then_work_it(casework):
    """Allocation and working a match are decided by one rule: a superuser works no match,
    even one who is also a key contact of the body, so is neither offered nor accepted."""
    from matching.casework.access import allocatable, may_be_allocated
    from matching.casework.models import Membership

    kingston = casework.bodies["kingston"]
    Membership.objects.create(user=casework.users["admin"], body=kingston, role="key_contact")
    offered = set(allocatable([kingston.pk]).values_list("user__username", flat=True))
    assert offered == {"k_kc", "k_inv", "k_inv2"}
    match = casework.matches["kingston"][1]
    for name, user in casework.users.items():
        match.allocated_to = user  # as if allocated to them: could they work it?
        assert may_be_allocated(user, kingston) == allowed(user, "work_match", match) == (name in offered), name
