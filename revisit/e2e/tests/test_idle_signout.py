"""Idle sign-out in a real browser: a warning first, then the session ends, for clients and staff.

The server runs with short idle timeouts (REVISIT_IDLE_TIMEOUT_CLIENT_S and _STAFF_S), so the
warning comes a few seconds before the end instead of a minute (idle.js warns a third of the
timeout before it, at most a minute).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from revisit.e2e.accessibility import AxeAudit
from revisit.e2e.browser import VIEWPORT, Credentials, Watched, demo_credentials, sign_in
from revisit.e2e.stack import Stack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLIENT_S = 12
STAFF_S = 10
DIALOG = "dialog.idle-dialog[open]"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Stack]:
    env = {
        "REVISIT_IDLE_TIMEOUT_CLIENT_S": str(CLIENT_S),
        "REVISIT_IDLE_TIMEOUT_STAFF_S": str(STAFF_S),
    }
    with running_stack(tmp_path_factory.mktemp("idle"), worker=False, extra_env=env) as found:
        yield found


@pytest.fixture
def watched(browser: Any, stack: Stack) -> Iterator[Watched]:
    context = browser.new_context(base_url=stack.url, viewport=VIEWPORT)
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def _who(stack: Stack, email: str) -> Credentials:
    return demo_credentials(stack.server.demo_output, email)


def _idle_until_signed_out(watched: Watched, timeout_s: int, axe: AxeAudit, name: str) -> None:
    """Do nothing; the warning must come first, then the sign-in page, at about the timeout."""
    page = watched.page
    loaded = time.monotonic()
    page.wait_for_selector(DIALOG, timeout=(timeout_s + 5) * 1000)
    warned = time.monotonic() - loaded
    assert timeout_s - 6 <= warned < timeout_s, f"warned {warned:.1f} s after the page loaded"
    dialog = page.locator(DIALOG)
    assert "Still there?" in dialog.inner_text()
    assert "you will be signed out in" in dialog.inner_text()
    assert page.evaluate("document.activeElement.textContent") == "Stay signed in"
    axe.check(page, name)
    page.wait_for_url("**/accounts/login/**", timeout=10_000)
    ended = time.monotonic() - loaded
    assert timeout_s - 1 <= ended <= timeout_s + 5, f"signed out {ended:.1f} s after loading"
    page.goto("/")
    assert "/accounts/login/" in page.url, "the server ended the session too"
    watched.assert_clean()


def test_it_warns_a_client_then_signs_them_out(watched: Watched, stack: Stack, axe: AxeAudit):
    sign_in(watched.page, _who(stack, "carol@demo.revisit.test"))
    watched.page.goto("/")
    _idle_until_signed_out(watched, CLIENT_S, axe, "idle-warning-client")


def test_it_keeps_a_client_who_says_they_are_still_there(watched: Watched, stack: Stack):
    page = watched.page
    sign_in(page, _who(stack, "carol@demo.revisit.test"))
    page.goto("/")
    loaded = time.monotonic()
    page.wait_for_selector(DIALOG, timeout=(CLIENT_S + 5) * 1000)
    with page.expect_response(lambda r: "/sessions/still-here/" in r.url and r.status == 204):
        page.click(f"{DIALOG} button:has-text('Stay signed in')")
    page.wait_for_selector(DIALOG, state="detached", timeout=2000)
    # Past the first deadline, still signed in and on the same page.
    page.wait_for_timeout(max(0, (CLIENT_S + 2 - (time.monotonic() - loaded)) * 1000))
    assert page.url.rstrip("/") == stack.url
    assert page.locator("h1").inner_text() == "Your sessions"
    watched.assert_clean()


def test_it_warns_staff_then_signs_them_out(watched: Watched, stack: Stack, axe: AxeAudit):
    sign_in(watched.page, _who(stack, "alice@demo.revisit.test"))
    watched.page.goto("/recordings/")
    _idle_until_signed_out(watched, STAFF_S, axe, "idle-warning-staff")


def test_it_finds_no_accessibility_violations_in_the_warning(axe: AxeAudit):
    assert set(axe.pages) == {"idle-warning-client", "idle-warning-staff"}
    assert axe.total() == 0, "\n" + axe.summary()
