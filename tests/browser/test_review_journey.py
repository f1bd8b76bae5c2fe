"""The review app in a real browser, driven as a user drives it: sign in through the form,
filter the queue, open a match, record an outcome, read the dashboard; and what must never
happen: another body's match shown, a name run as script, sign-in without lockout.

Pages are found by what a user (or a screen reader) sees: labels, roles and text, not CSS
classes. Every page visited must leave the browser console free of errors: the CSP forbids
inline scripts and styles, so a template that uses one shows up here as a console error
("Refused to execute inline script ...").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.casework.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SCRIPT_SURNAME = "<script>alert('x')</script>O'BRIEN"
NOT_EVIDENCE = "A match is not evidence of fraud."


class Console:
    """Errors the page reported: console messages of type error and uncaught exceptions."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught {error}"))

    def _message(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} (at {message.location.get('url')})")

    def assert_clean(self, page: Page, *, status: int | None = None) -> None:
        """No errors since the last check; call after every page the test visits.

        ``status``: the page itself was answered with this error status on purpose (404, 429).
        Chromium logs that as a console error at the page's own address; exactly that one
        message is expected, and required."""
        errors, self.errors = self.errors, []
        if status is not None:
            own = (f"Failed to load resource: the server responded with a status of {status} "
                   f"({HTTPStatus(status).phrase}) (at {page.url})")
            assert own in errors, f"expected chromium to log the {status} of {page.url}; it logged {errors}"
            errors.remove(own)
        assert errors == [], f"browser console errors on {page.url}: {errors}"


@pytest.fixture
def console(page: Page) -> Iterator[Console]:
    watch = Console(page)
    yield watch
    assert watch.errors == [], f"browser console errors at the end of the test: {watch.errors}"


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-{name}.png"), full_page=True)


def sign_in(page: Page, console: Console, base: str, username: str, password: str = PASSWORD) -> None:
    """Through the form, as a person does; the sign-in page itself must be clean too."""
    page.goto(f"{base}/sign-in/")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    console.assert_clean(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def match_link(page: Page, pk: int) -> Locator:
    """A queue row's link: "Match <pk>", visible (the job title is the row's secondary text)."""
    return page.get_by_role("link", name=f"Match {pk}", exact=True)


def summary_value(page: Page, key: str) -> Locator:
    """The <dd> beside a summary list's <dt>."""
    term = page.get_by_role("term").filter(has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    return term.locator("xpath=following-sibling::*[1]")


def texts(cells: Locator) -> list[str]:
    return [" ".join(text.split()) for text in cells.all_inner_texts()]


def table_rows(table: Locator) -> list[dict[str, str]]:
    """A table's body rows as {column header: text, whitespace collapsed}; the row header, if
    any, is the first column."""
    headers = texts(table.get_by_role("columnheader"))
    return [
        dict(zip(headers, texts(row.get_by_role("rowheader")) + texts(row.get_by_role("cell")), strict=True))
        for row in table.get_by_role("row").all()[1:]
    ]


def test_investigator_works_a_match_from_queue_to_dashboard(page, console, live_server, casework):
    match = casework.matches["kingston"][0]
    sign_in(page, console, live_server.url, "k_inv")

    # The queue: only the match allocated to them.
    expect(page.get_by_role("heading", name="My queue", level=1)).to_be_visible()
    console.assert_clean(page)
    expect(page.get_by_role("heading", name="1 match", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Match \d+$"))).to_have_count(1)
    expect(match_link(page, match.pk)).to_be_visible()
    shot(page, "1-queue")

    # A filter that keeps it...
    page.get_by_label("Priority", exact=True).select_option(label="High")
    page.get_by_label("Status", exact=True).select_option(label="New")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_label("Priority", exact=True)).to_have_value("high")
    expect(page.get_by_label("Status", exact=True)).to_have_value("new")
    expect(page.get_by_role("heading", name="1 match", exact=True)).to_be_visible()
    expect(match_link(page, match.pk)).to_be_visible()
    console.assert_clean(page)

    # ...and one that excludes it.
    page.get_by_label("Status", exact=True).select_option(label="Closed")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_label("Status", exact=True)).to_have_value("closed")
    expect(page.get_by_role("heading", name="0 matches", exact=True)).to_be_visible()
    expect(page.get_by_text("No matches fit these filters.")).to_be_visible()
    expect(match_link(page, match.pk)).to_have_count(0)
    console.assert_clean(page)
    shot(page, "2-queue-filtered-empty")

    page.get_by_role("link", name="Clear filters").click()
    match_link(page, match.pk).click()

    # The match: both records side by side, and the warning.
    expect(page.get_by_role("heading", name=f"Match {match.pk}: inconsistency requiring investigation")).to_be_visible()
    console.assert_clean(page)
    expect(page.get_by_text(NOT_EVIDENCE)).to_be_visible()
    expect(page.get_by_role("heading", name="The two records")).to_be_visible()
    left, right = "Housing benefit — Royal Borough of Kingston upon Thames", "Deceased persons — dwp"
    records = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name=left))
    expect(records.get_by_role("columnheader")).to_have_text(["Field", left, right])
    by_field = {row["Field"]: row for row in table_rows(records)}
    assert (by_field["Claim ref"][left], by_field["Claim ref"][right]) == ("HB000000", "Not held")
    assert (by_field["Death ref"][left], by_field["Death ref"][right]) == ("Not held", "DR000000")
    assert by_field["Address line 1"][left] == "0 WHARF RD (differs)"
    assert by_field["Address line 1"][right] == "0 WHARF ROAD (differs)"
    assert by_field["Surname"][left] == by_field["Surname"][right] == "FRANCIS"
    expect(summary_value(page, "Status")).to_have_text("New")
    shot(page, "3-match")

    # Record an outcome.
    page.get_by_label("Error", exact=True).check()
    page.get_by_label("Same person", exact=True).check()
    page.get_by_label("Actual amount (optional)").fill("£1,234.56")
    page.get_by_label("Note (optional)").fill("Claim stopped; overpayment raised with the DWP.")
    page.get_by_role("button", name="Record outcome and close").click()

    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("Success")
    expect(banner).to_contain_text("Outcome recorded and match closed")
    console.assert_clean(page)
    expect(summary_value(page, "Status")).to_have_text("Closed")
    expect(summary_value(page, "Outcome")).to_have_text("Error; same person; actual £1,234.56")
    expect(page.get_by_role("button", name="Record outcome and close")).to_have_count(0)
    expect(page.get_by_text("Claim stopped; overpayment raised with the DWP.")).to_be_visible()
    shot(page, "4-match-closed")

    # The dashboard counts it.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Outcomes").click()
    expect(page.get_by_role("heading", name="Outcomes", level=1)).to_be_visible()
    console.assert_clean(page)
    expect(summary_value(page, "Matches")).to_have_text("1 (0 new, 0 in progress, 1 closed)")
    expect(summary_value(page, "Actual amounts found")).to_have_text("£1,234.56")
    outcomes = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Fraud"))
    [row] = table_rows(outcomes)
    assert row["Body"] == "Royal Borough of Kingston upon Thames"
    assert (row["Error"], row["Fraud"], row["No issue / other explanation"]) == ("1", "0", "0")
    assert row["Actual"] == "£1,234.56"
    shot(page, "5-dashboard")


def test_another_bodys_user_cannot_reach_the_match(page, console, live_server, casework):
    kingston = casework.matches["kingston"][0]
    sign_in(page, console, live_server.url, "r_kc")
    expect(page.get_by_role("heading", name="My queue", level=1)).to_be_visible()
    console.assert_clean(page)
    expect(page.get_by_role("heading", name="2 matches", exact=True)).to_be_visible()
    for richmond in casework.matches["richmond"]:
        expect(match_link(page, richmond.pk)).to_be_visible()
    expect(match_link(page, kingston.pk)).to_have_count(0)
    expect(page.get_by_text("Royal Borough of Kingston upon Thames")).to_have_count(0)

    response = page.goto(f"{live_server.url}/matches/{kingston.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    console.assert_clean(page, status=404)
    html = page.content()
    for value in ("HB000000", "DR000000", "0 WHARF RD", "Housing benefit claim HB000000",
                  "Royal Borough of Kingston upon Thames", f"Match {kingston.pk}"):
        assert value not in html, value
    shot(page, "6-not-found")


def test_names_with_html_render_as_text(page, console, live_server, casework):
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    target = next(m for m in casework.matches["kingston"] if "<script>" in m.left_record["surname"])
    sign_in(page, console, live_server.url, "k_kc")
    expect(page.get_by_role("heading", name="My queue", level=1)).to_be_visible()
    console.assert_clean(page)
    match_link(page, target.pk).click()
    expect(page.get_by_role("heading", name=f"Match {target.pk}: inconsistency requiring investigation")).to_be_visible()
    console.assert_clean(page)

    surname = page.get_by_role("cell", name=SCRIPT_SURNAME, exact=True)
    expect(surname).to_have_count(2)  # both records
    expect(surname.first).to_be_visible()
    expect(surname.first).to_have_text(SCRIPT_SURNAME)
    # The only script elements are the app's own modules (GOV.UK Frontend's, and the timeout warning's).
    expect(page.locator("script")).to_have_count(2)
    assert sorted(page.locator("script").evaluate_all("els => els.map(e => new URL(e.src).pathname)")) == [
        "/static/app/timeout.js", "/static/govuk/init.js"]
    assert dialogs == [], f"a name ran as script: {dialogs}"
    shot(page, "7-html-in-a-name")


def test_keyboard_only_sign_in_and_skip_link(page, console, live_server, casework):
    page.goto(f"{live_server.url}/sign-in/")
    console.assert_clean(page)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown on focus
    shot(page, "9-skip-link-focused")
    page.keyboard.press("Enter")
    # GOV.UK's skip link moves focus to <main>; the next Tab is the first field in it.
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type("k_inv")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="My queue", level=1)).to_be_visible()
    expect(page.get_by_text("Signed in as k_inv")).to_be_visible()
    assert page.url == f"{live_server.url}/"
    console.assert_clean(page)


def test_lockout_after_repeated_failures(page, console, live_server, casework):
    for attempt in range(1, 5):
        sign_in(page, console, live_server.url, "k_inv", f"wrong-password-{attempt}")
        expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text("Enter a correct username and password")
        console.assert_clean(page)
        if attempt == 1:
            shot(page, "10-wrong-password")
    # The fifth wrong password locks the account...
    sign_in(page, console, live_server.url, "k_inv", "wrong-password-5")
    expect(page.get_by_role("heading", name="Your account is locked", level=1)).to_be_visible()
    console.assert_clean(page, status=429)

    # ...so the right one is refused too.
    sign_in(page, console, live_server.url, "k_inv", PASSWORD)
    expect(page.get_by_role("heading", name="Your account is locked", level=1)).to_be_visible()
    expect(page.get_by_text("the account is locked for 15 minutes")).to_be_visible()
    expect(page.get_by_text("contact your body's key contact")).to_be_visible()
    console.assert_clean(page, status=429)
    shot(page, "8-locked-out")

    response = page.goto(f"{live_server.url}/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()  # not signed in
    assert urlsplit(page.url).path == "/sign-in/"
    console.assert_clean(page)


def test_the_console_watch_sees_a_csp_violation(page, live_server, casework):
    """The control for every assert_clean: an inline script or style put into one of the
    app's pages is refused by the CSP, and that refusal reaches the watch as an error."""
    watch = Console(page)
    page.goto(f"{live_server.url}/sign-in/")
    watch.assert_clean(page)
    page.evaluate("""() => {
        const style = document.createElement('style');
        style.textContent = 'body { background: red }';
        document.head.append(style);
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
    }""")
    assert page.evaluate("window.inlineRan") is None
    for _ in range(20):  # console events arrive while Playwright waits
        if len(watch.errors) >= 2:
            break
        page.wait_for_timeout(100)
    refused = [e for e in watch.errors if "Content Security Policy" in e]
    assert any("'style-src 'self''" in e for e in refused), watch.errors
    assert any("'script-src 'self''" in e for e in refused), watch.errors


def test_the_app_serves_its_own_favicon(page, console, live_server, casework):
    """Without one, chromium asks for /favicon.ico on every first load and logs its 404 as a
    console error on every page (this file's first run found that; the app now ships one)."""
    page.goto(f"{live_server.url}/sign-in/")
    icon = page.locator("head link[rel~='icon']")
    expect(icon).to_have_count(1)
    response = page.request.get(f"{live_server.url}{icon.get_attribute('href')}")
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")
    page.wait_for_timeout(300)  # chromium fetches the icon after the load event
    console.assert_clean(page)


def test_the_timeout_warning_lets_the_user_stay_signed_in_without_losing_what_they_typed(page, console, live_server, casework):
    """WCAG 2.2.1: before the idle limit a banner warns, takes focus, and "Stay signed in"
    renews the session where the user is. The page's own timer uses the 30-minute limit; the
    test runs a second copy of the script with the limit cut to 4 seconds."""
    from matching.casework.models import Match

    sign_in(page, console, live_server.url, "k_inv")
    match = Match.objects.filter(allocated_to__username="k_inv").first()
    assert match is not None
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    banner = page.locator("#app-timeout")
    expect(banner).to_be_hidden()
    assert banner.get_attribute("data-idle-seconds") == "1800"
    note = page.locator("textarea").last
    note.fill("Spoke to the claimant's landlord")
    page.evaluate("""async () => {
        document.getElementById('app-timeout').dataset.idleSeconds = '4'
        await import('/static/app/timeout.js?short')
    }""")
    expect(banner).to_be_visible(timeout=5000)
    expect(banner).to_be_focused()
    expect(banner).to_contain_text("You will be signed out in 2 minutes if you do nothing")
    page.get_by_role("button", name="Stay signed in").click()
    expect(banner).to_be_hidden()
    assert page.url == f"{live_server.url}/matches/{match.pk}/"  # still on the page
    expect(note).to_have_value("Spoke to the claimant's landlord")  # what was typed is still there
    shot(page, "10-timeout-warning-answered")


def test_the_timeout_after_a_form_with_a_mistake_returns_to_the_match_not_to_the_forms_address(page, console, live_server, casework):
    """An outcome with a mistake is drawn at the form's own address, which answers only POST:
    when the idle limit passes there, signing in again returns to the match page (here the
    session is still alive, so the sign-in page sends the user straight on), never a blank 405."""
    from matching.casework.models import Match

    sign_in(page, console, live_server.url, "k_inv")
    match = Match.objects.filter(allocated_to__username="k_inv").first()
    assert match is not None
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    page.get_by_label("Fraud", exact=True).check()
    page.get_by_label("Same person", exact=True).check()
    page.get_by_role("button", name="Record outcome and close").click()
    expect(page).to_have_title(re.compile(r"^Error: Match"))
    assert page.url == f"{live_server.url}/matches/{match.pk}/outcome/"
    console.assert_clean(page, status=400)
    page.evaluate("""async () => {
        document.getElementById('app-timeout').dataset.idleSeconds = '4'
        await import('/static/app/timeout.js?short')
    }""")
    page.wait_for_url(f"{live_server.url}/matches/{match.pk}/", timeout=15000)
    expect(page.get_by_role("heading", name=f"Match {match.pk}: inconsistency requiring investigation")).to_be_visible()
    console.assert_clean(page)


def test_a_key_contact_downloads_the_queue_with_its_button(page, console, live_server, casework):
    """The download is the queue's form, sent by POST with its filters: the file arrives and
    the page stays where it was."""
    sign_in(page, console, live_server.url, "k_kc")
    page.get_by_label("Priority", exact=True).select_option(label="High")
    page.get_by_role("button", name="Apply filters").click()
    console.assert_clean(page)
    queue = page.url
    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download CSV").click()
    download = downloading.value
    assert download.suggested_filename.startswith("matches-kingston-") and download.suggested_filename.endswith(".csv")
    lines = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "OFFICIAL-SENSITIVE" and len([line for line in lines[4:] if line]) == 3  # the three high ones
    assert page.url == queue
    console.assert_clean(page)


def test_key_contact_allocates_ticked_matches_in_one_go(page, console, live_server, casework):
    """The tick boxes sit in the table, outside the allocate form (their form attribute joins
    them to it): only a browser shows that what is ticked is what is posted."""
    from matching.casework.models import Match

    k = casework.matches["kingston"]
    sign_in(page, console, live_server.url, "k_kc")
    page.get_by_label("Priority", exact=True).select_option(label="High")
    page.get_by_role("button", name="Apply filters").click()
    console.assert_clean(page)
    page.get_by_label(f"Select match {k[1].pk}").check()
    page.get_by_label(f"Select match {k[2].pk}").check()
    page.get_by_label("Allocate selected matches to").select_option(label="k_inv2")
    shot(page, "bulk-allocate-ticked")
    page.get_by_role("button", name="Allocate selected").click()
    expect(page.get_by_text("2 matches allocated to k_inv2.")).to_be_visible()
    expect(page.get_by_label("Priority", exact=True)).to_have_value("high")  # the same filtered page
    console.assert_clean(page)
    assert set(Match.objects.filter(allocated_to__username="k_inv2").values_list("pk", flat=True)) == {k[1].pk, k[2].pk}
    rows = table_rows(page.get_by_role("table"))
    assert sum(row["Allocated to"] == "k_inv2" for row in rows) == 2

    # "Select all" ticks every open match on the page, and follows the rows.
    select_all = page.get_by_label("Select all matches on this page")
    select_all.check()
    boxes = page.get_by_label(re.compile(r"^Select match \d+$"))
    assert all(box.is_checked() for box in boxes.all()) and boxes.count() == 3
    boxes.first.uncheck()
    assert not select_all.is_checked() and select_all.evaluate("box => box.indeterminate")
    select_all.check()  # from mixed: every box again
    assert all(box.is_checked() for box in boxes.all())
    select_all.uncheck()
    assert not any(box.is_checked() for box in boxes.all())
    console.assert_clean(page)

    # Nothing ticked: the error summary, and its link takes focus to the first box.
    page.get_by_label("Allocate selected matches to").select_option(label="k_inv")
    page.get_by_role("button", name="Allocate selected").click()
    expect(page).to_have_title(re.compile(r"^Error: My queue"))
    page.get_by_role("link", name="Select at least one match to allocate").click()
    expect(page.get_by_label(re.compile(r"^Select match \d+$")).first).to_be_focused()
    console.assert_clean(page)
