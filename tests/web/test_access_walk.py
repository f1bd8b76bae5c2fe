"""Every URL of the review app, requested as every kind of user.

The table below is the access policy as a user meets it. The walk fails when a URL exists
without a row, so a new page cannot ship without saying who may use it.

Kingston's first match is allocated to ``k_inv``; ``k_inv2`` is a kingston investigator it is
not allocated to; ``r_kc`` is richmond's key contact. POSTs send no form data: an allowed user
gets 400 (the form is empty) or the action's redirect; the others 403 or 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ROLES = ["anon", "k_inv", "k_inv2", "k_kc", "k_aud", "r_kc", "admin"]


def row(method: str, anon: int, k_inv: int, k_inv2: int, k_kc: int, k_aud: int, r_kc: int, admin: int) -> dict[str, Any]:
    return {"method": method, "anon": anon, "k_inv": k_inv, "k_inv2": k_inv2, "k_kc": k_kc, "k_aud": k_aud,
            "r_kc": r_kc, "admin": admin}


#                                     anon  k_inv k_inv2 k_kc k_aud r_kc admin
EXPECTED = {
    "web:queue":           row("GET",  302, 200, 200, 200, 200, 200, 200),
    "web:login":           row("GET",  200, 302, 302, 302, 302, 302, 302),
    "web:logout":          row("POST", 302, 302, 302, 302, 302, 302, 302),
    "web:password_change": row("GET",  302, 200, 200, 200, 200, 200, 200),
    "web:keep_alive":      row("POST", 302, 302, 302, 302, 302, 302, 302),
    "web:match":           row("GET",  302, 200, 404, 200, 200, 404, 200),
    "web:match_outcome":   row("POST", 302, 400, 404, 400, 403, 404, 403),
    "web:match_allocate":  row("POST", 302, 403, 404, 400, 403, 404, 400),
    "web:match_start":     row("POST", 302, 400, 404, 400, 403, 404, 403),
    "web:match_note":      row("POST", 302, 400, 404, 400, 403, 404, 403),
    "web:match_reopen":    row("POST", 302, 403, 404, 400, 403, 404, 400),
    "web:dashboard":       row("GET",  302, 200, 200, 200, 200, 200, 200),
    "web:audit":           row("GET",  302, 403, 403, 403, 200, 403, 200),
    "web:audit_verify":    row("POST", 302, 403, 403, 403, 200, 403, 200),
    "web:set_aside":       row("GET",  302, 403, 403, 200, 200, 200, 200),
    "web:bodies":          row("GET",  302, 403, 403, 200, 403, 200, 200),
    "web:body_add":        row("POST", 302, 403, 403, 403, 403, 403, 400),
    "web:body":            row("GET",  302, 403, 403, 200, 403, 404, 200),
    "web:member_add":      row("POST", 302, 403, 403, 400, 403, 404, 400),
    "web:member_role":     row("POST", 302, 403, 403, 400, 403, 404, 400),
    "web:member_remove":   row("POST", 302, 403, 403, 302, 403, 404, 302),
    "web:declare":         row("POST", 302, 403, 403, 400, 403, 404, 400),
    "web:export":          row("GET",  302, 403, 403, 200, 200, 200, 200),
}


def walk(patterns: list[Any], namespace: str = "") -> list[tuple[str, Any]]:
    """(qualified name, pattern) for every named URL, through includes."""
    found: list[tuple[str, Any]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin" or str(p.pattern).startswith("static"):
                continue
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found.extend(walk(p.url_patterns, inner))
        elif isinstance(p, URLPattern):
            if str(p.pattern).startswith("static"):
                continue
            assert p.name, f"URL {p.pattern} has no name: name it and add it to EXPECTED"
            found.append((f"{namespace}{p.name}", p))
    return found


def test_every_url_has_a_row_in_the_table():
    names = {name for name, _ in walk(get_resolver().url_patterns)}
    assert names - EXPECTED.keys() == set(), "add these URLs to EXPECTED with who may use them"
    assert EXPECTED.keys() - names == set(), "these rows name URLs that no longer exist"


def url_for(name: str, casework: Any) -> str:
    pattern = dict(walk(get_resolver().url_patterns))[name]
    values = {
        "pk": casework.matches["kingston"][0].pk,
        "code": "kingston",
        "membership_id": casework.users["k_inv2"].memberships.get(body__code="kingston").pk,
    }
    return reverse(name, kwargs={k: values[k] for k in pattern.pattern.converters})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_as_role(name, role, casework):
    client = Client()
    if role != "anon":
        casework.login(client, role)
    expected = EXPECTED[name]
    url = url_for(name, casework)
    response = client.post(url) if expected["method"] == "POST" else client.get(url)
    assert response.status_code == expected[role], f"{expected['method']} {url} as {role}"
    if role == "anon" and response.status_code == 302 and name != "web:logout":
        assert response["Location"].startswith(reverse("web:login") + "?next=")


@pytest.mark.parametrize("name", sorted(n for n, r in EXPECTED.items() if r["method"] == "POST" and n != "web:logout"))
def test_post_only_urls_refuse_get(name, casework):
    client = casework.login(Client(), "admin")
    assert client.get(url_for(name, casework)).status_code == 405


@pytest.mark.parametrize("name", sorted(n for n, r in EXPECTED.items() if r["method"] == "POST"))
def test_a_form_answered_after_the_time_limit_returns_to_a_page_that_answers_get(name, casework):
    """Signing in again (or staying signed in) from a page drawn for a form goes back to the
    page the form is on: a POST-only address added without saying which page that is fails."""
    from django.test import RequestFactory

    from matching.web.middleware import return_address

    back = return_address(RequestFactory().post(url_for(name, casework)))
    assert casework.login(Client(), "admin").get(back).status_code == 200, back


def test_another_bodys_key_contact_cannot_tell_a_match_exists(casework):
    match = casework.matches["kingston"][0]
    client = casework.login(Client(), "r_kc")
    for url in (f"/matches/{match.pk}/", f"/matches/{match.pk}/outcome/"):
        response = client.post(url, {"version": match.version}) if "outcome" in url else client.get(url)
        assert response.status_code == 404
        assert b"Page not found" in response.content
        assert b"GEMMA" not in response.content


def test_an_auditor_may_read_a_match_but_not_record_an_outcome(casework):
    match = casework.matches["kingston"][0]
    client = casework.login(Client(), "k_aud")
    page = client.get(f"/matches/{match.pk}/").content.decode()
    assert "Record the outcome" not in page
    response = client.post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "no_issue", "linkage_label": "same"})
    assert response.status_code == 403
    assert b"You cannot do this" in response.content
