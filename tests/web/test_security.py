"""Security a user relies on without seeing it: escaping, CSRF, cookies, CSP, lockout, deploy checks."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.test import Client

from matching.casework.publish import publish
from matching.workspace import Workspace
from tests.casework.fixtures import PASSWORD, inconsistency, make_bundle

NEW_PASSWORD = "a-much-longer-passphrase-77"

ROOT = Path(__file__).resolve().parents[2]


def script_match(casework):
    return next(m for m in casework.matches["kingston"] if "<script>" in m.left_record["surname"])


def test_a_script_in_a_surname_is_shown_as_text(casework, as_user):
    client = as_user("k_kc")
    html = client.get(f"/matches/{script_match(casework).pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;O&#x27;BRIEN" in html
    assert "<script>alert" not in html
    queue = client.get("/").content.decode()
    assert "<script>alert" not in queue


def test_a_script_in_an_explanation_is_shown_as_text_in_the_queue(casework, as_user):
    row = inconsistency(50, explanation="Claim <script>alert('q')</script> still in payment")
    publish(Workspace.at(casework.workspace), make_bundle(casework.workspace, [row]), actor="test")
    html = as_user("k_kc").get("/").content.decode()
    assert "Claim &lt;script&gt;alert(&#x27;q&#x27;)&lt;/script&gt; still in payment" in html
    assert "<script>alert" not in html


def test_only_the_module_scripts_are_loaded(casework, as_user):
    html = as_user("k_kc").get(f"/matches/{casework.matches['kingston'][0].pk}/").content.decode()
    assert html.count("<script") == 2
    assert '<script type="module" src="/static/govuk/init.js"></script>' in html
    assert '<script type="module" src="/static/app/timeout.js"></script>' in html
    from django.test import Client

    assert Client().get("/sign-in/").content.decode().count("<script") == 1  # no timeout before signing in


def test_csrf_is_enforced(casework):
    match = casework.matches["kingston"][0]
    client = casework.login(Client(enforce_csrf_checks=True), "k_inv")
    response = client.post(f"/matches/{match.pk}/outcome/", {
        "version": match.version, "category": "no_issue", "linkage_label": "same"})
    assert response.status_code == 403
    assert "Your form could not be sent" in response.content.decode()
    assert match.outcomes.count() == 0


def test_signing_in_sets_a_httponly_samesite_session_cookie(casework):
    client = Client()
    response = client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert client.get("/").status_code == 200
    # The CSRF cookie is Lax too: a Strict one is not sent when a link from an e-mail opens the
    # app, so a new token is made and every form in the tabs already open fails its check.
    csrf = response.cookies["csrftoken"]
    assert csrf["httponly"] is True and csrf["samesite"] == "Lax"


def test_signing_out_is_a_post(casework):
    client = Client()
    client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD})
    assert 'action="/sign-out/"' in client.get("/").content.decode()
    assert client.get("/sign-out/").status_code == 405
    assert client.post("/sign-out/").status_code == 302
    assert client.get("/").status_code == 302


def test_pages_carry_a_content_security_policy_and_the_marking(casework, as_user):
    for client, url in ((Client(), "/sign-in/"), (as_user("k_kc"), "/"), (as_user("k_kc"), "/dashboard/"),
                        (as_user("k_kc"), "/no-such-page/")):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        html = response.content.decode()
        assert html.count("OFFICIAL-SENSITIVE") >= 2, url
        assert "style=" not in html, url


def test_five_wrong_passwords_lock_the_account(casework):
    client = Client()
    for _ in range(5):
        response = client.post("/sign-in/", {"username": "k_inv", "password": "wrong-password-1"})
    assert "locked for 15 minutes" in response.content.decode()
    response = client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Your account is locked" in html and "locked for 15 minutes" in html and "key contact" in html
    assert client.get("/").status_code == 302  # not signed in
    # another user is not locked
    assert Client().post("/sign-in/", {"username": "k_kc", "password": PASSWORD}).status_code == 302


def test_guessing_the_current_password_when_changing_it_locks_the_account(casework):
    """At a signed-in desk left unattended, the change-password form is no way to guess the
    password: each wrong current password counts as a failed sign-in, and at the limit the
    session ends and the account is locked as at sign-in."""
    client = Client()
    assert client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD}).status_code == 302
    guess = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    for n in range(4):
        wrong = client.post("/password/", {"old_password": f"guess-{n}", **guess})
        assert wrong.status_code == 200 and "Your old password was entered incorrectly" in wrong.content.decode()
    locked = client.post("/password/", {"old_password": "guess-4", **guess})
    assert locked.status_code == 429 and "Your account is locked" in locked.content.decode()
    assert client.get("/").status_code == 302  # signed out
    # The right password now changes nothing and signs nobody in until the cool-off ends.
    assert client.post("/password/", {"old_password": PASSWORD, **guess}).status_code == 302
    assert Client().post("/sign-in/", {"username": "k_inv", "password": PASSWORD}).status_code == 429
    assert Client().post("/sign-in/", {"username": "k_inv", "password": NEW_PASSWORD}).status_code == 429
    user = casework.users["k_inv"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_failed_password_change_keeps_no_password_as_typed(casework):
    """axes records a failed attempt's form: the change-password form's guesses, and the new
    password the user meant to set, are masked in it as the sign-in's password is."""
    from axes.models import AccessAttempt

    client = Client()
    client.post("/sign-in/", {"username": "k_inv", "password": PASSWORD})
    client.post("/password/", {"old_password": "a-near-miss-of-it", "new_password1": NEW_PASSWORD,
                               "new_password2": NEW_PASSWORD})
    client.post("/sign-in/", {"username": "k_inv", "password": "another-wrong-one"})
    stored = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "old_password" in stored  # the attempt is recorded,
    for typed in ("a-near-miss-of-it", NEW_PASSWORD, "another-wrong-one"):
        assert typed not in stored  # but none of what was typed


def test_one_address_guessing_many_usernames_is_stopped(casework, settings):
    """Password spraying: a wrong password each for many usernames from one address."""
    settings.ADDRESS_FAILURE_LIMIT = 8
    client = Client()
    for n in range(8):
        assert client.post("/sign-in/", {"username": f"someone{n}", "password": "Winter2026!!"}).status_code == 200
    stopped = client.post("/sign-in/", {"username": "k_kc", "password": PASSWORD})
    assert stopped.status_code == 429 and "Your account is locked" in stopped.content.decode()
    assert client.get("/").status_code == 302  # not signed in
    other = Client(REMOTE_ADDR="10.1.2.3")  # another address is not stopped
    assert other.post("/sign-in/", {"username": "k_kc", "password": PASSWORD}).status_code == 302


def test_a_session_ends_after_idleness_and_after_the_working_day(casework, as_user, settings):
    import time

    client = as_user("k_kc")
    assert client.get("/").status_code == 200
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    idle = client.get("/")
    assert idle.status_code == 302 and idle["Location"].startswith("/sign-in/")
    assert "signed out after 30 minutes without activity" in client.get(idle["Location"]).content.decode()
    assert client.get("/").status_code == 302  # signed out, not just redirected
    # A form sent after the limit returns, once signed in again, to the page it was sent from.
    late = as_user("k_kc")
    match = casework.matches["kingston"][0]
    assert late.get(f"/matches/{match.pk}/").status_code == 200
    session = late.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    sent = late.post(f"/matches/{match.pk}/note/", {"version": match.version, "text": "x"},
                     HTTP_REFERER=f"http://testserver/matches/{match.pk}/")
    assert sent.status_code == 302 and sent["Location"] == f"/sign-in/?next=/matches/{match.pk}/"
    # "Stay signed in" renews the session, with or without the script.
    kept = as_user("k_kc")
    assert kept.post("/session/keep-alive/", HTTP_X_REQUESTED_WITH="fetch").status_code == 204
    back = kept.post("/session/keep-alive/", {"next": f"/matches/{match.pk}/"})
    assert back.status_code == 302 and back["Location"] == f"/matches/{match.pk}/"
    assert kept.post("/session/keep-alive/", {"next": "https://evil.example/"})["Location"] == "/"
    busy = as_user("k_kc")
    assert busy.get("/").status_code == 200
    session = busy.session
    session["signed_in_at"] = int(time.time()) - settings.SESSION_ABSOLUTE_SECONDS - 5
    session.save()
    assert busy.get("/").status_code == 302


def test_stay_signed_in_from_a_page_drawn_for_a_form_returns_to_the_forms_page(casework, as_user):
    """An outcome with a mistake, or an audit check, is drawn at the form's own address, which
    answers only POST: "Stay signed in" and the timeout's sign-in return to the page the form
    is on, never to a blank 405."""
    inv = as_user("k_inv")
    match = casework.matches["kingston"][0]
    mistake = inv.post(f"/matches/{match.pk}/outcome/", {"version": match.version, "category": "fraud", "linkage_label": "same"})
    html = mistake.content.decode()
    assert mistake.status_code == 400
    assert f'name="next" value="/matches/{match.pk}/"' in html and f'data-return-to="/matches/{match.pk}/"' in html
    back = inv.post("/session/keep-alive/", {"next": f"/matches/{match.pk}/"})
    assert back["Location"] == f"/matches/{match.pk}/" and inv.get(back["Location"]).status_code == 200
    checked = as_user("k_aud").post("/audit/verify/").content.decode()
    assert 'name="next" value="/audit/"' in checked and 'data-return-to="/audit/"' in checked
    # A page drawn for a GET returns to itself, query and all.
    assert 'name="next" value="/?status=all&amp;sort=oldest"' in inv.get("/?status=all&sort=oldest").content.decode()


def test_pages_deny_the_browsers_devices(casework, as_user):
    for client, url in ((Client(), "/sign-in/"), (as_user("k_kc"), "/")):
        assert "camera=()" in client.get(url)["Permissions-Policy"]


def test_signing_in_again_to_the_sign_in_page_goes_to_the_queue(casework, as_user):
    response = as_user("k_kc").get("/sign-in/?next=/sign-in/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_export_is_a_form_sent_from_this_app_never_a_link(casework):
    """A link to the export (another site's, which the session cookie follows, or an old
    bookmark) shows the download page, makes no file and records nothing; the file comes only
    from the page's form, sent with its CSRF token."""
    from matching.casework.models import AuditEvent

    client = casework.login(Client(enforce_csrf_checks=True), "k_kc")
    link = client.get("/export/?format=csv&band=high", HTTP_SEC_FETCH_SITE="cross-site")
    html = link.content.decode()
    assert link.status_code == 200 and link["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in link and "Download CSV" in html
    assert '<input type="hidden" name="band" value="high">' in html and 'name="format" value="csv"' not in html.split('id="export"')[0]
    assert client.post("/export/", {"format": "csv"}).status_code == 403  # no token: another site's form
    assert not AuditEvent.objects.filter(action="export").exists()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html.split('id="export"')[1]).group(1)
    sent = client.post("/export/", {"csrfmiddlewaretoken": token, "band": "high", "format": "csv"})
    assert sent.status_code == 200 and sent["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.get(action="export", body="kingston").detail["filters"]["band"] == "high"


def test_a_wrong_password_is_explained(casework):
    response = Client().post("/sign-in/", {"username": "k_inv", "password": "nope"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_deploy_checks_pass(tmp_path):
    env = {**os.environ, "MATCHING_HTTPS": "1", "MATCHING_SECRET_KEY": secrets.token_urlsafe(60),
           "MATCHING_WORKSPACE": str(tmp_path)}
    env.pop("MATCHING_DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by tests/browser/conftest.py, never in deployment
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
