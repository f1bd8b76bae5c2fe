"""What the usability review asked for: GOV.UK sign-in errors, no filters that filter nothing,
and a history that is not drowned in page views (while the audit trail keeps every one)."""

from __future__ import annotations

import re

from django.test import Client

from matching.casework.models import AuditEvent
from tests.casework.fixtures import PASSWORD

MESSAGE = "Enter a correct username and password"


def sign_in(username: str, password: str) -> str:
    response = Client().post("/sign-in/", {"username": username, "password": password})
    assert response.status_code == 200
    return response.content.decode()


def error_parts(html: str) -> str:
    """The error summary and the form: everything the page says about the error (less the
    CSRF token, which differs every time)."""
    part = html[html.index('class="govuk-error-summary"'): html.index('type="submit"')]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", part)


# 3. Sign-in errors ---------------------------------------------------------------------------

def test_a_wrong_password_is_a_gov_uk_error(casework):
    html = sign_in("k_inv", "wrong-password")
    assert "<title>Error: Sign in – Data matching</title>" in html
    assert "There is a problem" in html
    assert f'<a href="#id_username">{MESSAGE}</a>' in html  # the summary links to the field
    assert "Please" not in html and "case-sensitive" not in html
    # The message is shown once, inline, on the username; both fields are marked.
    assert html.count(f"</span> {MESSAGE}</p>") == 1
    assert 'id="id_username-error" class="govuk-error-message"' in html
    assert html.count("govuk-form-group govuk-form-group--error") == 2
    assert html.count("govuk-input--error") == 2
    username = re.search(r'<input [^>]*id="id_username"[^>]*>', html).group(0)
    password = re.search(r'<input [^>]*id="id_password"[^>]*>', html).group(0)
    assert 'aria-describedby="id_username-error"' in username and 'value="k_inv"' in username
    assert 'aria-describedby="id_username-error"' in password and "value=" not in password


def test_an_unknown_username_reads_exactly_like_a_wrong_password(casework):
    known = sign_in("k_inv", "wrong-password")
    unknown = sign_in("nobody-by-this-name", "wrong-password")
    assert error_parts(unknown).replace("nobody-by-this-name", "k_inv") == error_parts(known)


def test_an_inactive_account_reads_like_a_wrong_password(casework):
    user = casework.users["k_inv2"]
    user.is_active = False
    user.save()
    inactive = sign_in("k_inv2", PASSWORD)
    assert error_parts(inactive).replace("k_inv2", "k_inv") == error_parts(sign_in("k_inv", "wrong-password"))


def test_blank_fields_are_named_and_linked(casework):
    html = sign_in("", "")
    assert "<title>Error: Sign in – Data matching</title>" in html
    assert '<a href="#id_username">Enter your username</a>' in html
    assert '<a href="#id_password">Enter your password</a>' in html
    assert 'id="id_password-error" class="govuk-error-message"' in html
    assert "This field is required" not in html
    assert MESSAGE not in html


def test_signing_in_without_an_error_has_no_error_markup(casework):
    html = Client().get("/sign-in/").content.decode()
    assert "<title>Sign in – Data matching</title>" in html
    assert "govuk-error" not in html


# 7. Filters that mean nothing are not offered ------------------------------------------------

def test_an_investigator_is_not_offered_allocated_to(casework, as_user):
    html = as_user("k_inv").get("/").content.decode()
    assert 'name="allocated"' not in html and "Anyone" not in html
    assert 'name="body"' not in html
    # Their body is named once, above the heading, rather than in every row.
    assert '<span class="govuk-caption-l">Royal Borough of Kingston upon Thames</span>' in html
    assert html.count("Royal Borough of Kingston upon Thames") == 1
    # The filter is ignored, not applied, if it arrives anyway.
    assert "Some filters were not applied" not in as_user("k_inv").get("/?allocated=unallocated").content.decode()
    assert 'href="/matches/' in as_user("k_inv").get("/?allocated=unallocated").content.decode()


def test_those_who_see_others_matches_may_filter_by_allocation(casework, as_user):
    for username in ("k_kc", "k_aud", "admin"):
        html = as_user(username).get("/").content.decode()
        assert 'name="allocated"' in html and ">Anyone<" in html, username
    assert 'name="body"' not in as_user("k_kc").get("/").content.decode()
    assert 'name="body"' in as_user("admin").get("/").content.decode()


def test_the_dashboard_offers_a_body_only_to_users_of_several(casework, as_user):
    assert 'name="body"' not in as_user("k_inv").get("/dashboard/").content.decode()
    assert 'name="body"' not in as_user("k_kc").get("/dashboard/").content.decode()
    assert 'name="body"' in as_user("admin").get("/dashboard/").content.decode()


def test_the_current_status_filter_is_marked(casework, as_user):
    html = as_user("k_kc").get("/?status=new").content.decode()
    counts = html[html.index("app-status-counts"):]
    counts = counts[: counts.index("</ul>")]
    assert counts.count('aria-current="true"') == 1
    assert re.search(r'aria-current="true"><strong>New: <span', counts)
    default = as_user("k_kc").get("/").content.decode().split("app-status-counts")[1].split("</ul>")[0]
    assert default.count('aria-current="true"') == 1 and re.search(r'aria-current="true"><strong>Open: <span', default)


def test_each_queue_row_is_named_by_its_match(casework, as_user):
    html = as_user("k_kc").get("/").content.decode()
    for m in casework.matches["kingston"]:
        assert f'href="/matches/{m.pk}/">Match {m.pk}</a>' in html


# 8. History: consecutive views collapse in the display only ---------------------------------

def test_repeated_views_are_one_history_entry_but_every_view_is_audited(casework, as_user):
    match = casework.matches["kingston"][0]
    inv, kc = as_user("k_inv"), as_user("k_kc")
    for _ in range(2):
        inv.get(f"/matches/{match.pk}/")
    kc.get(f"/matches/{match.pk}/")
    html = inv.get(f"/matches/{match.pk}/").content.decode()  # k_inv's third view
    history = html[html.index('id="history"'):]
    entries = re.findall(r"<strong>([^<]*)</strong> by (\w+), (last at )?<time", history)
    # Newest first: k_inv's latest view, k_kc's, then k_inv's two earlier views as one entry.
    views = [(what, who, bool(last)) for what, who, last in entries if what.startswith("Viewed")]
    assert views == [("Viewed", "k_inv", False), ("Viewed", "k_kc", False), ("Viewed 2 times", "k_inv", True)]
    audited = AuditEvent.objects.filter(action="view", object_type="match", object_id=str(match.pk))
    assert audited.filter(actor="k_inv").count() == 3 and audited.filter(actor="k_kc").count() == 1


def test_views_either_side_of_a_change_are_not_merged(casework, as_user):
    match = casework.matches["kingston"][0]
    inv = as_user("k_inv")
    inv.get(f"/matches/{match.pk}/")
    match.refresh_from_db()
    assert inv.post(f"/matches/{match.pk}/note/", {"version": match.version, "text": "Rang the claimant"}).status_code == 302
    inv.get(f"/matches/{match.pk}/")
    html = inv.get(f"/matches/{match.pk}/").content.decode()
    history = html[html.index('id="history"'):]
    whats = re.findall(r"<strong>([^<]*)</strong> by k_inv", history)
    assert whats[:4] == ["Viewed 2 times", "Note added", "Status changed from New to In progress", "Viewed"]


# 4–6. The match's forms ---------------------------------------------------------------------

def test_the_outcome_form_is_consistent_and_start_work_is_explained(casework, as_user):
    html = as_user("k_inv").get(f"/matches/{casework.matches['kingston'][0].pk}/").content.decode()
    assert "govuk-radios--small" not in html  # both radio groups the standard size
    assert ">Basis of the estimate (optional)<" in html
    start = html[html.index('id="start"'): html.index("Start work on this match")]
    assert "marks this match as in progress" in start
