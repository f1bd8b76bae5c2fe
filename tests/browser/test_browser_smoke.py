"""The browser harness works: chromium starts, a page is scripted, a click lands."""

from __future__ import annotations

from urllib.parse import quote

from playwright.sync_api import expect

PAGE = """<!doctype html>
<title>Smoke</title>
<p id="status">Not yet</p>
<button type="button" onclick="document.getElementById('status').textContent = 'Clicked'">
  Press me
</button>
"""


def test_a_click_changes_the_page(page):
    page.goto("data:text/html," + quote(PAGE))
    status = page.locator("#status")
    assert status.text_content() == "Not yet"
    page.get_by_role("button", name="Press me").click()
    expect(status).to_have_text("Clicked")
    assert page.title() == "Smoke"
