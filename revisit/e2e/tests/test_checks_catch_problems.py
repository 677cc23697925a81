"""The journeys' own checks, on small pages made to fail them: each would report a real problem."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from revisit.e2e.accessibility import (
    AxeAudit,
    tab_stops,
    unreached_labels,
    videos_without_captions,
)

pytestmark = pytest.mark.e2e

FLAWED = """<!DOCTYPE html><html lang="en"><head><title>Flawed</title>
<style>.bare:focus { outline: none; box-shadow: none; }</style></head><body><main id="m">
<h1>Flawed</h1>
<button type="button">Fine</button>
<button type="button" class="bare">No focus ring</button>
<button type="button"></button>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<video src="data:video/mp4;base64,AAAA"></video>
<video src="data:video/mp4;base64,AAAA"><track kind="captions" src="data:text/vtt,WEBVTT"></video>
<input type="radio" name="r" aria-label="one"><input type="radio" name="r" aria-label="two">
</main></body></html>"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    try:
        found = context.new_page()
        found.set_content(FLAWED)
        yield found
    finally:
        context.close()


def test_it_reports_violations_by_page_and_rule(page: Any):
    audit = AxeAudit()
    violations = audit.check(page, "flawed")
    rules = {v["rule"] for v in violations}
    assert {"button-name", "image-alt"} <= rules
    assert audit.total() == len(violations) >= 2
    assert "flawed: button-name" in audit.summary()
    for violation in violations:  # selectors and summaries only, never the element's HTML
        assert all(set(node) == {"target", "summary"} for node in violation["nodes"])


def test_it_finds_a_control_without_a_visible_focus(page: Any):
    report = tab_stops(page, "#m")
    assert report.stops == 4  # three buttons and one radio group
    assert unreached_labels(page, "#m", report) == []
    assert report.without_indicator == ["No focus ring"]


def test_it_counts_videos_without_captions(page: Any):
    assert videos_without_captions(page) == 1
