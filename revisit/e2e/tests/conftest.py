"""What every journey module needs: a browser with fake camera and microphone, and the reports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from revisit.e2e.accessibility import AxeAudit
from revisit.e2e.browser import CHROMIUM, launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright, fake_media=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def axe(request: pytest.FixtureRequest) -> Iterator[AxeAudit]:
    """One accessibility report per module: accessibility-<module>.json in the reports folder."""
    audit = AxeAudit()
    try:
        yield audit
    finally:
        if audit.pages:
            name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
            audit.write(f"accessibility-{name}.json")
