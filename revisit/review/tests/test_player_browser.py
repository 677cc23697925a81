"""The client's player in a real browser (Debian Chromium) against a real Revisit server.

One server serves the module: the demo practice, its sample session processed by a real worker
(about a minute on two cores), shared by the demo therapist with a content note and a highlight
whose texts contain HTML, and with chapters (written directly if the pipeline made none). The
client signs in once with the password the demo printed; each test opens the player in a fresh
browser context from that signed-in state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from revisit.testing.server import RevisitServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CAROL = "carol@demo.revisit.test"
HTML_NOTE = "<b>not bold</b> & <i>not italic</i>"

SHARE_SCRIPT = """
import json

from revisit.accounts.models import User
from revisit.recordings.models import Recording, RecordingStatus, Rendition, RenditionKind
from revisit.review.reviewing import content_note_set, highlight_add
from revisit.review.services import share_create
from revisit.vault.models import ObjectKind
from revisit.vault.services import vault_seal_bytes

alice = User.objects.get(email="alice@demo.revisit.test")
recording = Recording.objects.get(therapist=alice)
assert recording.status == RecordingStatus.READY, recording.status
content_note_set(recording=recording, actor=alice, text="We talk about <em>drinking</em>.")
highlight_add(recording=recording, actor=alice, at=20.0, note="What you want <b>to change</b>")
if not recording.renditions.filter(kind=RenditionKind.CHAPTERS).exists():
    # Chapters as the chapter step writes them, in case this build's pipeline made none.
    chapters = [
        {"start": 0.0, "end": 40.0, "title": "Checking in"},
        {"start": 40.0, "end": recording.duration, "title": "Drinking <and> the week"},
    ]
    sealed = vault_seal_bytes(
        practice_id=recording.practice_id, kind=ObjectKind.RENDITION,
        data=json.dumps(chapters).encode(),
    )
    Rendition.objects.create(recording=recording, kind=RenditionKind.CHAPTERS, sealed=sealed)
print("SHARE=" + str(share_create(recording=recording, actor=alice).pk))
"""


@dataclass
class Shared:
    server: RevisitServer
    share: str
    password: str

    @property
    def player(self) -> str:
        return f"/sessions/{self.share}/"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    root = tmp_path_factory.mktemp("player")
    # Its own static folder, collected from the working tree, so the page's scripts are current.
    server = RevisitServer(root / "data", extra_env={"REVISIT_STATIC_ROOT": str(root / "static")})
    server.revisit("manage", "collectstatic", "--noinput", "--verbosity", "0")
    server.prepare_demo()
    server.revisit("worker", "--batch")  # processes the demo's sample session, then exits
    found = re.search(r"SHARE=(\S+)", server.revisit("manage", "shell", "-c", SHARE_SCRIPT).stdout)
    password = re.search(rf"{re.escape(CAROL)}\s+password (\S+)", server.demo_output)
    assert found and password, "the share was made and the demo printed carol's password"
    server.start()
    try:
        yield Shared(server, found.group(1), password.group(1))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(shared: Shared) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _sign_in(page: Any, shared: Shared) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", CAROL)
    page.fill("input[name=password]", shared.password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{shared.server.url}/")


@pytest.fixture(scope="module")
def carol_state(shared: Shared, browser: Any) -> dict[str, Any]:
    context = browser.new_context(base_url=shared.server.url)
    page = context.new_page()
    _sign_in(page, shared)
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


class Watched:
    """A page with what went wrong on it: script errors and media requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.media: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if "/media/" in request.url:
            self.media.append(request.url)


@pytest.fixture
def watched(browser: Any, shared: Shared, carol_state: dict[str, Any]) -> Iterator[Watched]:
    context = browser.new_context(
        base_url=shared.server.url,
        storage_state=carol_state,
        viewport={"width": 1100, "height": 900},
    )
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def _start(watched: Watched, shared: Shared, mode: str) -> Any:
    page = watched.page
    page.goto(shared.player)
    page.wait_for_selector("[data-start]:not([disabled])")
    page.check(f"input[name=review-mode][value={mode}]")
    page.click("[data-start]")
    page.wait_for_selector("[data-player-main]:visible")
    return page


def _play_from_the_start(page: Any) -> None:
    """Press play, or "Start from the beginning" where an earlier test left a position."""
    restart = page.locator("[data-resume-restart]")
    if restart.is_visible():
        restart.click()
    else:
        page.click("[data-play]")
    page.wait_for_selector("[data-play]:has-text('Pause')")


def _time(page: Any, which: str) -> float:
    return float(page.evaluate(f"document.querySelector('[data-{which}]').currentTime"))


def _playing(page: Any, which: str) -> bool:
    return not page.evaluate(f"document.querySelector('[data-{which}]').paused")


def test_it_lists_the_shared_session_on_the_client_home(watched: Watched, shared: Shared):
    page = watched.page
    page.goto("/")
    link = page.locator(f"a[href='{shared.player}']")
    assert link.inner_text() == "Sample session: first visit"
    assert page.locator(".badge-new").count() == 1  # nothing has been played yet
    link.click()
    page.wait_for_url(f"**{shared.player}")
    assert watched.errors == []


def test_it_checks_in_first_then_plays_the_video(watched: Watched, shared: Shared):
    page = watched.page
    page.goto(shared.player)
    page.wait_for_selector("[data-start]:not([disabled])")
    checkin = page.inner_text("[data-checkin]")
    assert "You can stop at any time." in checkin
    assert "We talk about <em>drinking</em>." in checkin  # the note's HTML is shown as text
    assert "988" in checkin  # the demo practice's crisis resources
    assert page.locator("[data-player-main]").is_hidden()
    page.wait_for_timeout(500)
    assert watched.media == [], "nothing is fetched, let alone played, before the check-in"

    page.check("input[name=review-mode][value=video]")
    page.click("[data-start]")
    page.wait_for_selector("[data-video-frame]:visible")
    assert page.locator("[data-checkin]").is_hidden()
    assert not _playing(page, "video"), "starting shows the player; it does not play by itself"
    _play_from_the_start(page)
    page.wait_for_function("() => document.querySelector('[data-video]').currentTime > 1.5")
    assert page.inner_text("[data-play]") == "Pause"

    page.locator("body").press("k")  # keyboard: pause
    page.wait_for_function("() => document.querySelector('[data-video]').paused")
    before = _time(page, "video")
    page.locator("body").press("l")  # keyboard: forward 10 s
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-video]').currentTime - {before + 10}) < 0.6"
    )
    page.locator("body").press("c")  # keyboard: captions
    assert page.get_attribute("[data-captions]", "aria-pressed") == "true"
    assert page.evaluate("document.querySelector('[data-video]').textTracks[0].mode") == "showing"
    assert any("/media/" in url for url in watched.media)
    assert watched.errors == []


def test_it_switches_to_audio_only_with_a_waveform_to_seek_on(watched: Watched, shared: Shared):
    page = _start(watched, shared, "video")
    _play_from_the_start(page)
    page.wait_for_function("() => document.querySelector('[data-video]').currentTime > 1")

    page.check("input[name=review-mode][value=audio]")
    page.wait_for_selector("[data-wave-frame]:visible")
    assert page.locator("[data-video-frame]").is_hidden()
    assert not _playing(page, "video")
    page.wait_for_function("() => !document.querySelector('[data-audio]').paused")
    assert page.evaluate("localStorage.getItem('revisit.player.mode')") == "audio"

    canvas = page.locator("[data-wave]")
    box = canvas.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 20
    duration = float(page.get_attribute("[data-seek]", "max") or 0)
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-audio]').currentTime - {duration / 2}) < 3"
    )
    assert watched.errors == []


def test_it_seeks_from_the_transcript_and_the_chapters(watched: Watched, shared: Shared):
    page = _start(watched, shared, "transcript")
    page.wait_for_selector("[data-segments] .segment-button")
    assert not _playing(page, "audio") and not _playing(page, "video")
    segment = page.locator("[data-segments] .segment-button").nth(5)
    start = float(segment.get_attribute("data-start") or 0)
    segment.click()
    assert page.locator("[data-segments] .segment").nth(5).get_attribute("class") == (
        "segment is-current"
    )
    assert not _playing(page, "audio"), "reading only: nothing plays until Play is pressed"
    page.click("[data-play]")
    page.wait_for_function(
        f"() => document.querySelector('[data-audio]').currentTime > {start + 0.5}", timeout=10_000
    )
    assert _time(page, "audio") < start + 5

    chapters = page.locator("[data-chapters] .jump")
    chapters.first.wait_for()
    target = chapters.last
    at = float(target.get_attribute("data-at") or 0)
    assert at > 0
    target.click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('[data-audio]').currentTime - {at}) < 1.5"
    )
    assert target.get_attribute("aria-current") == "true"
    # the therapist's highlight is listed (as text) and seekable
    highlight = page.locator("[data-highlights] .jump")
    assert highlight.inner_text().endswith("What you want <b>to change</b>")
    highlight.click()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('[data-audio]').currentTime - 20) < 1.5"
    )
    assert watched.errors == []


def test_it_keeps_private_bookmark_notes_as_text(watched: Watched, shared: Shared):
    page = _start(watched, shared, "audio")
    _play_from_the_start(page)
    page.wait_for_function("() => document.querySelector('[data-audio]').currentTime > 1")
    page.locator("body").press("b")
    page.wait_for_selector("[data-bookmark-note]:focus")
    assert not _playing(page, "audio"), "writing a note pauses playback"
    at = _time(page, "audio")
    page.keyboard.type("kl ")  # shortcut letters typed into the note stay in the note
    assert abs(_time(page, "audio") - at) < 0.1 and not _playing(page, "audio")
    page.fill("[data-bookmark-note]", HTML_NOTE)
    page.check("[data-bookmark-bring]")
    with page.expect_response(lambda r: r.url.endswith("/bookmarks") and r.status == 201):
        page.click("[data-bookmark-form] button[type=submit]")
    item = page.locator("[data-bookmarks] .bookmark").filter(has_text="not bold")
    assert item.locator(".jump-text").inner_text() == HTML_NOTE
    assert item.locator("b, i").count() == 0
    assert item.locator("input[type=checkbox]").is_checked()

    # it is still there after a reload, and can be edited and deleted
    page.reload()
    page.wait_for_selector("[data-start]:not([disabled])")
    page.click("[data-start]")
    item = page.locator("[data-bookmarks] .bookmark").filter(has_text="not bold")
    item.locator("button:has-text('Edit note')").click()
    item.locator("textarea").fill("Edited note")
    with page.expect_response(lambda r: "/bookmarks/" in r.url and r.status == 200):
        item.locator("button:has-text('Save note')").click()
    edited = page.locator("[data-bookmarks] .bookmark").filter(has_text="Edited note")
    with page.expect_response(lambda r: "/bookmarks/" in r.url and r.status == 204):
        edited.locator("button:has-text('Delete')").click()
    assert page.locator("[data-bookmarks] .bookmark").filter(has_text="Edited note").count() == 0
    assert watched.errors == []


def test_it_offers_to_resume_where_the_client_stopped(watched: Watched, shared: Shared):
    page = _start(watched, shared, "audio")
    _play_from_the_start(page)
    # move the position slider to 0:30, as dragging it would
    page.eval_on_selector(
        "[data-seek]", "s => { s.value = '30'; s.dispatchEvent(new Event('change')); }"
    )
    page.wait_for_function("() => document.querySelector('[data-audio]').currentTime > 31")
    with page.expect_response(lambda r: r.url.endswith("/progress") and r.status == 200):
        page.click("[data-play]")  # pause sends the position and the seconds played
    page.reload()
    page.wait_for_selector("[data-start]:not([disabled])")
    page.click("[data-start]")
    offer = page.locator("[data-resume-go]")
    assert re.fullmatch(r"Resume at 0:3[1-3]", offer.inner_text())
    offer.click()
    page.wait_for_function("() => document.querySelector('[data-audio]').currentTime > 31.5")
    assert watched.errors == []


def test_it_asks_for_a_rating_when_the_client_finishes(watched: Watched, shared: Shared):
    page = _start(watched, shared, "audio")
    page.click("[data-finish]")
    page.wait_for_selector("[data-rating]:visible")
    assert page.locator("[data-player-main]").is_hidden()
    page.click("[data-rating-form] button[type=submit]")  # nothing chosen: a gentle message
    assert "both questions" in page.inner_text("[data-rating-error]")
    page.get_by_role("radio", name="5", exact=True).first.check()
    page.get_by_role("radio", name="2", exact=True).last.check()
    page.fill("#rating-comment", "Hard but useful")
    with page.expect_response(lambda r: r.url.endswith("/ratings") and r.status == 201) as sent:
        page.click("[data-rating-form] button[type=submit]")
    assert sent.value.json()["helpfulness"] == 5 and sent.value.json()["harm"] == 2
    page.wait_for_selector("[data-done]:visible")
    assert watched.errors == []


def test_it_quick_exits_and_leaves_no_way_back(browser: Any, shared: Shared):
    # Its own sign-in: quick exit ends the session that the other tests share.
    context = browser.new_context(base_url=shared.server.url)
    try:
        watched = Watched(context.new_page())
        page = watched.page
        _sign_in(page, shared)
        _start(watched, shared, "audio")
        _play_from_the_start(page)
        page.wait_for_function("() => document.querySelector('[data-audio]').currentTime > 0.5")
        page.click("header [data-quick-exit]")
        page.wait_for_url("**/quick-exit/")
        assert page.title() == "Weather"
        assert page.locator("[data-player], audio, video").count() == 0
        page.go_back()
        page.wait_for_load_state()
        assert shared.player not in page.url
        assert page.locator("[data-player]").count() == 0
        page.goto(shared.player)  # signed out: the player asks for a sign-in instead
        assert "/accounts/login/" in page.url
        assert watched.errors == []
    finally:
        context.close()
