"""Browser tests: Playwright for Python driving Debian's chromium, never a downloaded browser.

`browser` is one headless chromium per test session (per xdist worker); `page` is a fresh
context (1280x900) per test, whose last state is saved to
test-artifacts/screenshots/<test-name>.png whether the test passed or failed.

The browser is `chromium` on PATH (Debian's package, /usr/bin/chromium), or the executable
that MATCHING_CHROMIUM names. Without one the browser tests are skipped; `.ci/run` installs it
(`apt-get install chromium`).
"""

from __future__ import annotations

import os
import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in the calling thread, and leaves it
# "running" from the start of the session-scoped `browser` to the end of the session. Django
# then takes every ORM call from that thread (the test's own, pytest-django's `db`,
# `live_server` and fixture set-up) for a call from async code, and refuses it with
# "SynchronousOnlyOperation: You cannot call this from an async context - use a thread or
# sync_to_async". Nothing here is really concurrent: the calls are plain blocking calls
# between Playwright steps, so Django's check is switched off. It is read at every ORM call
# and is process-wide: it holds for the other tests this process (or xdist worker) runs after
# this conftest is imported, which is what a session-long browser needs anyway. Suites run
# without tests/browser never import this file and keep the check.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 900}
# Root in a container with no network: no sandbox (it needs user namespaces), no GPU, nothing
# that phones home. --disable-dev-shm-usage: Docker's default /dev/shm (64 MB) crashes tabs,
# and the Debian launcher's own check for that is broken on some mounts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def chromium_executable() -> str | None:
    configured = os.environ.get("MATCHING_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        if found is None:
            pytest.fail(f"MATCHING_CHROMIUM={configured!r} is not an executable")
        return found
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            "no chromium on PATH (nor MATCHING_CHROMIUM): `.ci/run` installs it, or "
            "`apt-get install chromium` on Debian"
        )
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def screenshot_name(test_name: str) -> str:
    """A file name from a test's name: parametrize ids may hold slashes, spaces and brackets."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_") + ".png"


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        yield page
        # Passed or failed, the page as the test left it.
        path = SCREENSHOTS / screenshot_name(request.node.name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # a crashed page must not hide the test's own result
            warnings.warn(f"no screenshot for {request.node.nodeid}: {error}", stacklevel=1)
    finally:
        context.close()
