"""Dashboard, audit trail, users and bodies, export, password change and error pages."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from matching.casework import lifecycle
from matching.casework.models import AuditEvent, Body, Declaration, Exercise, Match, Membership
from tests.casework.fixtures import PASSWORD

NEW_PASSWORD = "a-much-longer-passphrase-77"


def test_dashboard_groups_by_job_and_body_with_ages(casework, as_user):
    Match.objects.filter(pk=casework.matches["kingston"][5].pk).update(created_at=timezone.now() - timedelta(days=100))
    Match.objects.filter(pk=casework.matches["kingston"][4].pk).update(created_at=timezone.now() - timedelta(days=45))
    html = as_user("admin").get("/dashboard/").content.decode()
    assert "Royal Borough of Kingston upon Thames" in html and "London Borough of Richmond upon Thames" in html
    assert "8 new, 0 in progress, 0 closed" in html
    kingston = html[html.index("<td class=\"govuk-table__cell\">Royal Borough"):]
    cells = kingston[: kingston.index("</tr>")]
    assert cells.count('govuk-table__cell--numeric">1<') == 2  # 31–90 and over 90 days
    assert "Oldest open match" in html
    only = as_user("admin").get("/dashboard/?body=richmond").content.decode()
    assert "2 new" in only and "Royal Borough of Kingston" not in only.split("By status")[1]


def test_dashboard_is_limited_to_what_the_user_sees(casework, as_user):
    html = as_user("k_inv").get("/dashboard/").content.decode()
    assert "1 new, 0 in progress, 0 closed" in html


def test_audit_trail_for_an_auditor_is_their_bodys(casework, as_user):
    as_user("k_inv").get(f"/matches/{casework.matches['kingston'][0].pk}/")
    as_user("r_inv").get(f"/matches/{casework.matches['richmond'][0].pk}/")
    html = as_user("k_aud").get("/audit/?action=view").content.decode()
    assert ">k_inv<" in html and ">r_inv<" not in html
    assert '<td class="govuk-table__cell">allocate</td>' not in html
    assert ">r_kc<" not in as_user("k_aud").get("/audit/").content.decode()
    admin = as_user("admin").get("/audit/?actor=r_inv").content.decode()
    assert ">r_inv<" in admin and ">k_inv<" not in admin


def test_audit_verification_runs_on_request(casework, as_user):
    client = as_user("k_aud")
    assert "The audit trail is intact" not in client.get("/audit/").content.decode()
    html = client.post("/audit/verify/").content.decode()
    assert "The audit trail is intact" in html
    assert f"({AuditEvent.objects.count()})" not in html  # other bodies' activity is not the auditor's to count
    admin = as_user("admin").post("/audit/verify/").content.decode()
    assert f"every event ({AuditEvent.objects.count()})" in admin


def test_the_audit_page_gives_superusers_the_anchor_and_checks_one(casework, as_user):
    """The anchor (last event and its hash) is for superusers, as the count of every body's
    events is; anyone who may verify may check the trail against one."""
    from matching.casework.models import AuditHead

    admin = as_user("admin").post("/audit/verify/").content.decode()
    last = AuditEvent.objects.order_by("-seq").first()
    anchor = f"{last.seq}:{last.hash}"
    assert f'value="{anchor}" readonly' in admin
    auditor = as_user("k_aud")
    assert last.hash not in auditor.post("/audit/verify/").content.decode()
    checked = auditor.post("/audit/verify/", {"anchor": anchor[:-40]}).content.decode()
    assert "The audit trail is intact" in checked and "up to and beyond the anchor given" in checked
    bad = auditor.post("/audit/verify/", {"anchor": "the last one"})
    html = bad.content.decode()
    assert bad.status_code == 400 and "<title>Error: Audit trail" in html and 'href="#anchor"' in html
    assert "&#x27;the last one&#x27; is not an anchor" in html and "govuk-input--error" in html
    # Cut the newest event, as anyone able to write to the store could, head and all.
    AuditEvent.objects.filter(seq=last.seq).delete()
    kept = AuditEvent.objects.order_by("-seq").first()
    AuditHead.objects.filter(pk=1).update(seq=kept.seq, hash=kept.hash)
    cut = auditor.post("/audit/verify/", {"anchor": anchor}).content.decode()
    assert f"The audit trail does not verify: event {last.seq}, the anchor&#x27;s, is missing" in cut


def test_an_auditor_chooses_only_among_their_bodys_actions(casework, as_user):
    from matching.casework import audit

    audit.record("r_kc", "subject_access", object_type="person", body="richmond")
    assert ">Searched for a subject access request<" not in as_user("k_aud").get("/audit/").content.decode()
    assert ">Searched for a subject access request<" in as_user("r_aud").get("/audit/").content.decode()


def test_audit_date_filter(casework, as_user):
    html = as_user("admin").get("/audit/?date_to=2000-01-01").content.decode()
    assert "No events fit these filters" in html


def test_key_contact_adds_a_user_with_a_validated_password(casework, as_user):
    client = as_user("k_kc")
    weak = client.post("/bodies/kingston/members/add/", {
        "username": "k_new", "role": "investigator", "password1": "password", "password2": "password"})
    assert weak.status_code == 400
    assert "This password is too short" in weak.content.decode()
    assert not User.objects.filter(username="k_new").exists()
    ok = client.post("/bodies/kingston/members/add/", {
        "username": "k_new", "role": "investigator", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "is_superuser": "on"})
    assert ok.status_code == 302
    user = User.objects.get(username="k_new")
    assert not user.is_superuser  # a key contact cannot grant it; the field is not even offered
    assert Membership.objects.get(user=user).role == "investigator"
    assert set(AuditEvent.objects.filter(actor="k_kc").values_list("action", flat=True)) >= {
        "user_created", "membership_added"}
    assert "k_new added to Royal Borough of Kingston upon Thames" in client.get("/bodies/kingston/").content.decode()
    newcomer = Client()
    assert newcomer.post("/sign-in/", {"username": "k_new", "password": NEW_PASSWORD}).status_code == 302
    # The key contact chose that password: the newcomer must choose their own before anything.
    for page in ("/", "/dashboard/", f"/matches/{casework.matches['kingston'][0].pk}/"):
        forced = newcomer.get(page)
        assert forced.status_code == 302 and forced["Location"] == "/password/"
    assert "Choose your own password before you go on" in newcomer.get("/password/").content.decode()
    same = newcomer.post("/password/", {"old_password": NEW_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert same.status_code == 200 and "Choose a password different from your current one" in same.content.decode()
    assert newcomer.get("/").status_code == 302  # still to choose their own
    own = "tangerine-harbour-kiln-73"
    changed = newcomer.post("/password/", {"old_password": NEW_PASSWORD, "new_password1": own, "new_password2": own})
    assert changed.status_code == 302
    assert newcomer.get("/").status_code == 200
    assert Client().post("/sign-in/", {"username": "k_new", "password": own}).status_code == 302


def test_key_contact_changes_and_removes_members_but_not_themself(casework, as_user):
    client = as_user("k_kc")
    inv2 = Membership.objects.get(user__username="k_inv2")
    assert client.post(f"/bodies/kingston/members/{inv2.pk}/role/", {"role": "auditor"}).status_code == 302
    assert Membership.objects.get(pk=inv2.pk).role == "auditor"
    assert client.post(f"/bodies/kingston/members/{inv2.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=inv2.pk).exists()
    own = Membership.objects.get(user__username="k_kc")
    assert client.post(f"/bodies/kingston/members/{own.pk}/remove/").status_code == 403
    richmond = Membership.objects.get(user__username="r_inv")
    assert client.post(f"/bodies/kingston/members/{richmond.pk}/remove/").status_code == 404
    actions = list(AuditEvent.objects.filter(actor="k_kc").values_list("action", flat=True))
    assert "membership_changed" in actions and "membership_removed" in actions


def test_removing_a_member_returns_their_open_matches_to_the_queue(casework, as_user):
    """Removed, they can no longer work their matches: the open ones are unallocated (each
    audited and in its history), the key contact is told how many, and a closed one still
    says who worked it."""
    kc = as_user("k_kc")
    held = casework.matches["kingston"][0]  # k_inv's, open
    closed = casework.matches["kingston"][2]
    closed = lifecycle.allocate(closed, casework.users["k_inv"], casework.users["k_kc"], closed.version)
    lifecycle.record_outcome(closed, casework.users["k_inv"], lifecycle.OutcomeInput("no_issue", "same"), closed.version)
    membership = Membership.objects.get(user__username="k_inv", body__code="kingston")
    r = kc.post(f"/bodies/kingston/members/{membership.pk}/remove/", follow=True)
    assert ("k_inv removed from Royal Borough of Kingston upon Thames. 1 open match allocated to them was returned "
            "to the queue, unallocated") in r.content.decode()
    assert Match.objects.get(pk=held.pk).allocated_to is None
    assert Match.objects.get(pk=closed.pk).allocated_to.username == "k_inv"
    event = AuditEvent.objects.filter(action="allocate", object_id=str(held.pk)).latest("seq")
    assert (event.actor, event.body, event.detail["from"], event.detail["to"]) == ("k_kc", "kingston", "k_inv", None)
    history = kc.get(f"/matches/{held.pk}/").content.decode()
    assert "<strong>Unallocated: k_inv was removed from the body</strong> by k_kc" in history
    assert "unallocated (was k_inv, who was removed from the body)" in as_user("k_aud").get("/audit/?action=allocate").content.decode()


def test_a_member_made_an_auditor_has_their_open_matches_returned_and_a_key_contact_keeps_them(casework, as_user):
    kc = as_user("k_kc")
    held = casework.matches["kingston"][0]  # k_inv's
    membership = Membership.objects.get(user__username="k_inv", body__code="kingston")
    promoted = kc.post(f"/bodies/kingston/members/{membership.pk}/role/", {"role": "key_contact"}, follow=True)
    assert "k_inv is now key contact</p>" in promoted.content.decode()
    assert Match.objects.get(pk=held.pk).allocated_to.username == "k_inv"
    r = kc.post(f"/bodies/kingston/members/{membership.pk}/role/", {"role": "auditor"}, follow=True)
    assert "k_inv is now auditor. 1 open match allocated to them was returned to the queue, unallocated" in r.content.decode()
    assert Match.objects.get(pk=held.pk).allocated_to is None
    assert "Unallocated: k_inv is no longer an investigator or key contact of the body" in kc.get(f"/matches/{held.pk}/").content.decode()


def test_key_contact_cannot_see_other_bodies(casework, as_user):
    client = as_user("k_kc")
    html = client.get("/bodies/").content.decode()
    assert "Royal Borough of Kingston upon Thames" in html and "Richmond" not in html
    assert "Add a body" not in html
    assert client.get("/bodies/richmond/").status_code == 404


def test_superuser_adds_a_body_and_declares_for_it(casework, as_user):
    client = as_user("admin")
    assert client.post("/bodies/add/", {"code": "kingston", "name": "Again"}).status_code == 400
    assert client.post("/bodies/add/", {"code": "sutton", "name": "London Borough of Sutton"}).status_code == 302
    body = Body.objects.get(code="sutton")
    exercise = Exercise.objects.get()
    assert client.post("/bodies/sutton/declare/", {"exercise": exercise.pk}).status_code == 302
    assert Declaration.objects.filter(body=body, exercise=exercise).exists()
    again = client.post("/bodies/sutton/declare/", {"exercise": exercise.pk})
    assert again.status_code == 400 and "already declared" in again.content.decode()
    assert {"body_created", "declaration"} <= set(AuditEvent.objects.filter(actor="admin").values_list("action", flat=True))
    su = client.post("/bodies/sutton/members/add/", {
        "username": "s_admin", "role": "key_contact", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
        "is_superuser": "on"})
    assert su.status_code == 302 and User.objects.get(username="s_admin").is_superuser


def test_an_existing_user_is_added_without_a_password_by_a_superuser(casework, as_user):
    client = as_user("admin")
    r = client.post("/bodies/kingston/members/add/", {"username": "r_aud", "role": "auditor"})
    assert r.status_code == 302
    assert Membership.objects.filter(user__username="r_aud", body__code="kingston", role="auditor").exists()
    again = client.post("/bodies/kingston/members/add/", {"username": "r_aud", "role": "auditor"})
    assert again.status_code == 400 and "already a member" in again.content.decode()


@pytest.mark.parametrize("username", ["r_kc", "admin"])
def test_a_key_contact_cannot_bring_in_another_bodys_user_or_a_superuser(casework, as_user, username):
    r = as_user("k_kc").post("/bodies/kingston/members/add/", {"username": username, "role": "key_contact"})
    assert r.status_code == 400
    assert "That username is taken" in r.content.decode()
    assert not Membership.objects.filter(user__username=username, body__code="kingston").exists()
    # With passwords typed, the same words: a key contact cannot probe which accounts exist.
    typed = as_user("k_kc").post("/bodies/kingston/members/add/", {
        "username": username, "role": "key_contact", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert typed.status_code == 400
    assert "That username is taken" in typed.content.decode() and "already exists" not in typed.content.decode()


def test_export_streams_the_filtered_queue(casework, as_user):
    response = as_user("k_kc").post("/export/", {"format": "csv", "band": "high"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="matches-kingston-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["OFFICIAL-SENSITIVE"]
    assert rows[3][0] == "match id"
    data = [r for r in rows[4:] if r]
    assert len(data) == 3
    event = AuditEvent.objects.get(action="export", body="kingston")
    assert (event.actor, event.body, event.detail["rows"]) == ("k_kc", "kingston", 3)


def test_the_download_is_the_queue_shown_closed_matches_and_their_outcomes_when_chosen(casework, as_user):
    """The queue's download form carries its filters: from the queue as it opens (open work),
    the open matches; from Closed or All, the closed ones with their outcomes."""
    import re as regex

    from matching.casework.lifecycle import OutcomeInput, record_outcome
    from matching.casework.models import Match

    m = casework.matches["kingston"][0]
    record_outcome(m, casework.users["k_inv"], OutcomeInput(category="error", linkage_label="same", actual_pence=9900), m.version)
    kc = as_user("k_kc")

    def downloaded(queue_query: str) -> dict[str, list[str]]:
        page = kc.get("/" + queue_query).content.decode()
        form = regex.search(r'<form method="post" action="(/export/)" id="export".*?</form>', page, regex.S)
        fields = dict(regex.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0)))
        sent = kc.post(form.group(1), {**fields, "format": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(sent.streaming_content).decode("utf-8-sig"))))
        header = rows[3]
        return {r[0]: dict(zip(header, r, strict=True)) for r in rows[4:] if r}

    shown = downloaded("")
    assert str(m.pk) not in shown and len(shown) == Match.objects.filter(owning_body__code="kingston").count() - 1
    closed = downloaded("?status=closed")
    assert set(closed) == {str(m.pk)} and closed[str(m.pk)]["outcome actual (£)"] == "99.00"
    assert set(downloaded("?status=all")) == set(shown) | {str(m.pk)}


def test_export_xlsx_and_bad_format(casework, as_user):
    client = as_user("k_aud")
    response = client.post("/export/", {"format": "xlsx"})
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert client.post("/export/", {"format": "pdf"}).status_code == 400


def test_superuser_export_of_another_body_is_only_that_body(casework, as_user):
    response = as_user("admin").post("/export/", {"format": "csv", "body": "richmond"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "richmond" in response["Content-Disposition"]
    assert "kingston" not in "".join(text.splitlines()[3:])


def test_password_change(casework):
    client = Client()
    client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD})
    bad = client.post("/password/", {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"})
    assert bad.status_code == 200 and "This password is too short" in bad.content.decode()
    ok = client.post("/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                    "new_password2": NEW_PASSWORD}, follow=True)
    assert "Your password has been changed" in ok.content.decode()
    assert Client().post("/sign-in/", {"username": "k_inv", "password": NEW_PASSWORD}).status_code == 302


def test_changing_your_own_password_is_audited_as_an_administrators_setting_it_is(casework, as_user):
    client = Client()
    client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD})
    assert client.post("/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                      "new_password2": NEW_PASSWORD}).status_code == 302
    event = AuditEvent.objects.get(action="password_set")
    assert (event.actor, event.body, event.object_id) == ("k_inv", "kingston", str(casework.users["k_inv"].pk))
    assert event.detail == {"username": "k_inv", "must_change": False}
    trail = as_user("k_aud").get("/audit/?action=password_set").content.decode()
    assert "Set a user&#x27;s password" in trail and "for k_inv" in trail


def test_error_pages_are_in_the_services_style(casework, as_user):
    html = as_user("k_inv").get("/matches/999999/").content.decode()
    assert "Page not found" in html and "OFFICIAL-SENSITIVE" in html
    forbidden = as_user("k_inv").get("/audit/")
    assert forbidden.status_code == 403 and "You cannot do this" in forbidden.content.decode()


def test_closed_then_reopened_by_a_run_shows_in_history_without_fraud_wording(casework, as_user):
    match = casework.matches["kingston"][0]
    lifecycle.record_outcome(match, casework.users["k_inv"],
                             lifecycle.OutcomeInput(category="no_issue", linkage_label="same"), match.version)
    html = as_user("k_kc").get(f"/matches/{match.pk}/").content.decode().lower()
    # the only mentions: the notice, the outcome category radio (not offered when closed) and none else
    assert html.count("fraud") == 1 and "not evidence of fraud" in html


def test_record_values_read_as_the_rest_of_the_app_writes_them() -> None:
    """Dates in the records are ISO text and flags true/false: the two-record table shows
    "26 May 2004" and Yes/No, as every other date in the app is written."""
    from matching.web.templatetags.web_tags import record_value

    assert record_value("2004-05-26") == "26 May 2004"
    assert (record_value("true"), record_value(False)) == ("Yes", "No")
    assert record_value("HB0001") == "HB0001" and record_value("2004-13-45") == "2004-13-45"
    assert "Not held" in record_value(None)


def test_no_download_links_when_no_match_fits_the_filters(casework, as_user):
    client = as_user("k_kc")
    assert "Download these matches" in client.get("/").content.decode()
    assert "Download these matches" not in client.get("/?status=closed").content.decode()
