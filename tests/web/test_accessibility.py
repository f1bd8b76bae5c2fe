"""What a screen reader or keyboard user meets on the review app's pages (WCAG 2.2 AA and the
GOV.UK Design System's patterns), found by an accessibility review."""

from __future__ import annotations

import re

import pytest

from tests.casework.fixtures import PASSWORD

pytestmark = pytest.mark.django_db


def test_every_error_of_a_field_is_read_with_it(casework, as_user):
    html = as_user("k_kc").post("/bodies/kingston/members/add/", {
        "username": "k_new", "role": "investigator", "password1": "12345678", "password2": "12345678"}).content.decode()
    described = re.search(r'<input[^>]*id="add-password1"[^>]*aria-describedby="([^"]*)"', html)
    assert described is not None
    error_ids = [i for i in described.group(1).split() if i.endswith("-error")]
    assert error_ids == ["add-password1-error"] and html.count('id="add-password1-error"') == 1
    error = re.search(r'<p id="add-password1-error"[^>]*>(.*?)</p>', html, re.S)
    assert error is not None and "too short" in error.group(1) and "entirely numeric" in error.group(1)
    assert "<title>Error: " in html


def test_the_new_password_field_carries_the_rules_it_broke(casework, as_user):
    client = as_user("k_inv")
    html = client.post("/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}).content.decode()
    assert "<title>Error: Change your password" in html
    assert re.search(r'id="new-password-error"[^>]*>.*too short', html, re.S)
    assert 'aria-describedby="new-password-hint new-password-error"' in html


@pytest.mark.parametrize("page", ["/?date_from=last-week", "/audit/?date_from=last-week"])
def test_a_filter_that_is_not_a_date_is_summarised_and_titled(casework, as_user, page):
    html = as_user("k_aud").get(page).content.decode()
    assert "<title>Error: " in html
    summary = html.index("govuk-error-summary")
    assert summary < html.index("<h1")  # first in the page, as the pattern has it
    assert html.count("govuk-error-summary__title") == 1


def test_the_audit_dates_say_their_format_before_a_mistake(casework, as_user):
    html = as_user("k_aud").get("/audit/").content.decode()
    assert "For example, 2026-10-01" in html


def test_a_note_box_is_the_size_it_should_be(casework, as_user):
    html = as_user("k_inv").get(f"/matches/{casework.matches['kingston'][0].pk}/").content.decode()
    boxes = re.findall(r'<textarea[^>]*id="([^"]*)"[^>]*rows="([^"]*)"', html)
    assert boxes == [("outcome-note", "3"), ("note-text", "3")]


def test_being_signed_out_is_not_announced_as_a_success(casework, as_user, settings):
    import time

    client = as_user("k_kc")
    client.get("/")
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    html = client.get(client.get("/")["Location"]).content.decode()
    banner = html[html.index("govuk-notification-banner"):]
    assert "signed out after 30 minutes" in banner
    assert "govuk-notification-banner--success" not in html and 'role="region"' in html and ">Important<" in banner

