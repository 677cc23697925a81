"""A therapist and a new client, end to end, in a real browser against a real server and worker.

The tests run in order and tell one story on one installation (the demo practice, its therapist
alice, and erin, a client she invites): sign-in with an authenticator code, an invitation read
from the captured email; erin sets her password and agrees to transcripts and to reviewing in the
portal; alice attests erin's consent to recording, uploads a file and records 20 seconds with
Chromium's fake camera and microphone, watches processing to the end, holds back a part, adds a
highlight and a content note, and shares; erin checks in, watches, listens, jumps, searches,
bookmarks, rates and leaves with quick exit; alice sees the review and revokes, and erin's next
try is refused calmly. Along the way every page is checked with axe (WCAG 2.2 A/AA), the player
is checked by keyboard and measured (bytes, time to the first frame, a slow network), and
screenshots of the main pages go to the reports folder.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from revisit.e2e import performance
from revisit.e2e.accessibility import (
    AxeAudit,
    tab_stops,
    unreached_labels,
    videos_without_captions,
)
from revisit.e2e.browser import (
    VIEWPORT,
    Credentials,
    Watched,
    demo_credentials,
    sign_in,
    totp_code,
)
from revisit.e2e.reports import screenshot_path, write_json
from revisit.e2e.stack import Stack, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FIXTURE = Path(__file__).resolve().parents[2] / "testing" / "fixtures" / "annomi-0-stereo.mp4"
ALICE = "alice@demo.revisit.test"
ERIN = "erin@demo.revisit.test"
ERIN_NAME = "Erin Walsh"
ERIN_PASSWORD = "lantern orchard 47 quietly"
HOLD = (60.0, 64.0)  # the part alice holds back, in seconds
HIGHLIGHT_AT = 20.0
HIGHLIGHT_NOTE = "Notice what you said about the evenings"
CONTENT_NOTE = "We talk about drinking and about a hard week."
BOOKMARK_NOTE = "I want to talk about this part"
PAGE_BUDGET_BYTES = 200 * 1024  # the player page without its audio and video
FIRST_FRAME_BUDGET_MS = 1500.0  # navigation to the first video frame, on loopback
SLOW = {"kbit_s": 1600.0, "latency_ms": 150.0}

# Notes each value the recording page's progress bar shows, across the page's own reloads.
BAR_SAMPLER = """
window.setInterval(() => {
  const bar = document.querySelector('[data-progress-bar]');
  if (!bar || bar.closest('[hidden]')) return;
  const seen = JSON.parse(sessionStorage.getItem('e2e-bar') || '[]');
  if (seen[seen.length - 1] !== bar.value) {
    seen.push(bar.value);
    sessionStorage.setItem('e2e-bar', JSON.stringify(seen));
  }
}, 200);
"""


@dataclass
class Story:
    """What the journey has learnt so far, for the steps that follow."""

    stack: Stack
    alice: Credentials
    invitation_link: str = ""
    uploaded: str = ""  # recording ids
    recorded: str = ""
    share: str = ""
    progress_page: Any = None  # a second tab on the uploaded recording's page
    media: list[str] = field(default_factory=list)
    performance: dict[str, Any] = field(default_factory=dict)  # -> performance.json
    keyboard: dict[str, Any] = field(default_factory=dict)  # -> keyboard.json

    @property
    def recording_page(self) -> str:
        return f"/recordings/{self.uploaded}/"

    @property
    def player(self) -> str:
        return f"/sessions/{self.share}/"

    @property
    def erin(self) -> Credentials:
        return Credentials(ERIN, ERIN_PASSWORD)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Story]:
    with running_stack(tmp_path_factory.mktemp("journey")) as stack:
        found = Story(stack, demo_credentials(stack.server.demo_output, ALICE))
        try:
            yield found
        finally:
            if found.performance:
                write_json("performance.json", found.performance)
            if found.keyboard:
                write_json("keyboard.json", found.keyboard)


def _context(browser: Any, story: Story, **extra: Any) -> Any:
    return browser.new_context(base_url=story.stack.url, viewport=VIEWPORT, **extra)


@pytest.fixture(scope="module")
def therapist(browser: Any, story: Story) -> Iterator[Watched]:
    context = _context(browser, story)
    context.grant_permissions(["camera", "microphone"])
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


@pytest.fixture(scope="module")
def client(browser: Any, story: Story) -> Iterator[Watched]:
    context = _context(browser, story)
    try:
        yield Watched(context.new_page())
    finally:
        context.close()


def _look(
    audit: AxeAudit, watched: Watched, name: str, *, screenshot: bool = False, at: str = ""
) -> None:
    """Check the page as it is now with axe; keep a screenshot (from the top, or from `at`)."""
    page = watched.page
    page.wait_for_load_state("load")
    audit.check(page, name)
    if screenshot:
        if at:
            page.locator(at).evaluate("el => el.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("() => window.scrollTo(0, 0)")
        page.wait_for_timeout(100)
        page.screenshot(path=str(screenshot_path(name)))


def _current(page: Any, media: str = "video") -> float:
    return float(page.evaluate(f"document.querySelector('[data-{media}]').currentTime"))


def _wait_time(page: Any, media: str, near: float, within: float = 1.5) -> None:
    page.wait_for_function(
        "([m, t, d]) => Math.abs(document.querySelector(`[data-${m}]`).currentTime - t) < d",
        arg=[media, near, within],
    )


# --- the therapist prepares -------------------------------------------------------------------


def test_it_signs_the_therapist_in_with_an_authenticator_code(
    therapist: Watched, story: Story, axe: AxeAudit
):
    page = therapist.page
    page.goto("/accounts/login/")
    _look(axe, therapist, "sign-in")
    page.fill("input[name=login]", ALICE)
    page.fill("input[name=password]", story.alice.password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/2fa/authenticate/")
    _look(axe, therapist, "two-factor")
    page.fill("input[name=code]", totp_code(story.alice.totp_secret))
    page.click("main button[type=submit]")
    page.wait_for_url("**/clients/")
    assert page.locator("h1").inner_text() == "Your clients"
    _look(axe, therapist, "therapist-home", screenshot=True)
    therapist.assert_clean()


def test_it_invites_a_client_who_gets_a_one_time_link(
    therapist: Watched, story: Story, axe: AxeAudit
):
    page = therapist.page
    page.fill("input[name=email]", ERIN)
    page.fill("input[name=display_name]", ERIN_NAME)
    page.click("form button:has-text('Send invitation')")
    page.wait_for_url("**/clients/")
    assert "Invitation sent" in page.inner_text(".messages")
    row = page.locator("tbody tr").filter(has_text=ERIN)
    assert "Invited, not yet joined" in row.inner_text()
    _look(axe, therapist, "therapist-home-invited")

    mail = story.stack.mail_to(ERIN, containing="/invite/")
    link = re.search(r"(https?://\S+/invite/[A-Za-z0-9_\-]+/)", mail)
    assert link, "the invitation email carries a link"
    story.invitation_link = link.group(1)
    # The email says nothing about who invited them or why.
    for private in ("Alice", "Demo Practice", ERIN_NAME):
        assert private not in mail
    therapist.assert_clean()


def test_it_lets_the_invited_client_set_a_password_and_consent(
    client: Watched, story: Story, axe: AxeAudit
):
    page = client.page
    page.goto(story.invitation_link)
    page.wait_for_url("**/invite/accept/")  # the key left the address bar at once
    assert ERIN in page.inner_text("main")
    _look(axe, client, "set-password")
    page.fill("input[name=password1]", ERIN_PASSWORD)
    page.fill("input[name=password2]", ERIN_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{story.stack.url}/")
    assert "Welcome. Your account is ready." in page.inner_text(".messages")
    assert "Nothing shared yet" in page.inner_text("main")
    _look(axe, client, "client-portal-empty")

    page.click("main a:has-text('Your consents')")
    page.wait_for_url("**/consents/")
    _look(axe, client, "consents")
    for scope in ("transcription", "client_review"):
        page.click(f"#scope-{scope} button:has-text('I agree')")
        page.wait_for_url(f"**/consents/#scope-{scope}")
        assert "Given" in page.inner_text(f"#scope-{scope} .consent-state")
    _look(axe, client, "consents-given")
    client.assert_clean()


def _new_recording(page: Any, title: str) -> None:
    page.goto("/recordings/new/")
    page.select_option("[data-client-select]", label=ERIN_NAME)
    page.fill("[data-title-input]", title)


def _wait_uploaded(page: Any) -> str:
    page.wait_for_selector("[data-done]:not([hidden])", timeout=90_000)
    recording_id = page.get_attribute("[data-done]", "data-recording-id")
    assert recording_id
    return str(recording_id)


def test_it_uploads_a_file_and_records_a_session_in_the_browser(
    therapist: Watched, story: Story, axe: AxeAudit
):
    page = therapist.page
    _new_recording(page, "First session")
    panel = page.locator("[data-consent-panel]:visible")
    assert "Recording consent is needed first" in panel.inner_text()
    _look(axe, therapist, "new-recording-consent")
    panel.locator("input[name=confirm]").check()
    panel.locator("button[type=submit]").click()
    page.wait_for_url("**/recordings/new/?client=*")
    assert "is on record" in page.inner_text(".messages")

    page.fill("[data-title-input]", "First session")
    _look(axe, therapist, "new-recording")
    page.set_input_files("[data-file-input]", str(FIXTURE))
    story.uploaded = _wait_uploaded(page)
    _look(axe, therapist, "new-recording-uploaded")
    # Its page stays open in a second tab, to watch processing while the next session is recorded.
    story.progress_page = page.context.new_page()
    story.progress_page.add_init_script(BAR_SAMPLER)
    story.progress_page.goto(story.recording_page)

    # Twenty seconds from Chromium's fake camera and microphone, sent up while recording.
    _new_recording(page, "First session, recorded here")
    page.check("[data-method][value=record]")
    page.check("[data-rec-confirm]")
    page.click("[data-rec-start]")
    page.wait_for_selector("[data-rec-live]:not([hidden])")
    _look(axe, therapist, "new-recording-live")
    page.wait_for_function(
        "() => { const [m, s] = document.querySelector('[data-rec-elapsed]').textContent"
        ".split(':'); return Number(m) * 60 + Number(s) >= 20; }",
        timeout=40_000,
    )
    page.click("[data-rec-stop]")
    story.recorded = _wait_uploaded(page)
    found = page.request.get(f"/api/v1/recordings/{story.recorded}").json()
    assert found["duration"] >= 19, found
    therapist.assert_clean()


def _processed(page: Any) -> bool:
    """Whether the recording page, as loaded now, shows the processing as finished."""
    try:
        return bool(
            page.evaluate(
                "() => { const p = document.querySelector('[data-recording-progress]');"
                " return document.readyState === 'complete' && Boolean(p) && p.hidden; }"
            )
        )
    except PlaywrightError:  # the page was reloading itself
        return False


def test_it_shows_processing_progress_until_the_recording_is_ready(
    therapist: Watched, story: Story, axe: AxeAudit
):
    # The tab opened after the upload polls and reloads itself (when the playable copies are
    # ready, and at the end); nobody touches it until the progress panel has gone.
    watch = story.progress_page
    panel = watch.locator("[data-recording-progress]")
    if panel.is_visible():
        _look(axe, Watched(watch), "recording-processing")
    deadline = time.monotonic() + 300
    while not _processed(watch):
        assert time.monotonic() < deadline, "processing took more than five minutes"
        watch.wait_for_timeout(500)
    watch.wait_for_selector("#player video")
    seen = [float(v) for v in watch.evaluate("JSON.parse(sessionStorage.getItem('e2e-bar'))")]
    watch.close()
    assert len(seen) >= 3 and seen[0] < 50, f"the bar was seen from early on: {seen}"
    assert seen == sorted(seen), f"the progress bar went backwards: {seen}"
    story.performance["processing_progress_values"] = seen

    page = therapist.page
    page.goto(story.recording_page)
    page.wait_for_selector("#share")
    assert videos_without_captions(page) == 0
    page.locator("details.steps").evaluate("el => el.open = true")
    steps = page.locator(".step-list .step").all_inner_texts()
    assert steps and all("Done" in s for s in steps), steps
    page.locator("details.steps").evaluate("el => el.open = false")
    _look(axe, therapist, "recording-ready", screenshot=True)
    therapist.assert_clean()


def test_it_holds_back_highlights_and_notes_before_sharing(
    therapist: Watched, story: Story, axe: AxeAudit
):
    page = therapist.page
    page.fill("#id_hold-start", f"{HOLD[0]:.0f}")
    page.fill("#id_hold-end", f"01:{HOLD[1] - 60:02.0f}")
    page.click("#holding-back button:has-text('Hold back')")
    page.wait_for_url(f"**{story.recording_page}#holding-back")
    assert "01:00" in page.inner_text("#holding-back .ranges")

    page.fill("#id_hl-at", f"{HIGHLIGHT_AT:.0f}")
    page.fill("#id_hl-note", HIGHLIGHT_NOTE)
    page.click("#highlights button:has-text('Add moment')")
    page.wait_for_url(f"**{story.recording_page}#highlights")
    assert HIGHLIGHT_NOTE in page.inner_text("#highlights .moments")

    page.fill("#id_note-text", CONTENT_NOTE)
    page.click("#content-note button[type=submit]")
    page.wait_for_url(f"**{story.recording_page}#content-note")
    assert page.input_value("#id_note-text") == CONTENT_NOTE

    # The client's version (held-back part silenced and blacked out) is rebuilt first.
    for _ in range(240):
        if "The client's version is ready." in page.inner_text("#holding-back"):
            break
        page.wait_for_timeout(500)
        page.reload()
    else:
        raise AssertionError("the client's version was not rebuilt in two minutes")
    _look(axe, therapist, "recording-prepared")
    therapist.assert_clean()


def test_it_shares_with_the_client(therapist: Watched, story: Story, axe: AxeAudit):
    page = therapist.page
    form = page.locator("#share")
    assert f"Share with {ERIN_NAME}?" in form.locator("h2").inner_text()
    _look(axe, therapist, "share-form", screenshot=True, at="#share")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**{story.recording_page}#sharing")
    assert f"Shared with {ERIN_NAME}" in page.inner_text(".messages")
    action = page.get_attribute("#sharing form[action*='/revoke/']", "action") or ""
    found = re.search(r"/shares/([0-9a-f-]{36})/revoke/", action)
    assert found, "an active share offers Revoke"
    story.share = found.group(1)
    mail = story.stack.mail_to(ERIN, containing="something is ready")
    assert "First session" not in mail  # no title in the email
    therapist.assert_clean()


# --- the client reviews -----------------------------------------------------------------------


def test_it_shows_the_client_the_shared_session(client: Watched, story: Story, axe: AxeAudit):
    page = client.page
    page.goto("/")
    link = page.locator(f"a[href='{story.player}']")
    assert link.inner_text() == "First session"
    assert page.locator(".session-link").count() == 1  # only what was shared with her
    _look(axe, client, "client-portal", screenshot=True)
    client.assert_clean()


def test_it_checks_in_before_anything_plays(client: Watched, story: Story, axe: AxeAudit):
    page = client.page
    page.click(f"a[href='{story.player}']")
    page.wait_for_selector("[data-start]:not([disabled])")
    checkin = page.inner_text("[data-checkin]")
    assert CONTENT_NOTE in checkin and "You can stop at any time." in checkin
    assert client.media == [], "nothing is fetched before the check-in"
    _look(axe, client, "check-in", screenshot=True)
    page.check("input[name=review-mode][value=video]")
    page.click("[data-start]")
    page.wait_for_selector("[data-video-frame]:visible")
    assert page.locator("[data-checkin]").is_hidden()
    client.assert_clean()


def test_it_plays_the_video_with_captions(client: Watched, story: Story, axe: AxeAudit):
    page = client.page
    restart = page.locator("[data-resume-restart]")
    (restart if restart.is_visible() else page.locator("[data-play]")).click()
    page.wait_for_function("() => document.querySelector('[data-video]').currentTime > 2")
    assert page.inner_text("[data-play]") == "Pause"
    assert videos_without_captions(page) == 0
    page.click("[data-captions]")
    assert page.evaluate("document.querySelector('[data-video]').textTracks[0].mode") == "showing"
    story.media = sorted(set(client.media))
    assert story.media
    _look(axe, client, "player-video", screenshot=True, at="#review-title")
    client.assert_clean()


def test_it_switches_to_audio_only(client: Watched, story: Story, axe: AxeAudit):
    page = client.page
    page.check("input[name=review-mode][value=audio]")
    page.wait_for_selector("[data-wave-frame]:visible")
    assert page.locator("[data-video-frame]").is_hidden()
    page.wait_for_function("() => !document.querySelector('[data-audio]').paused")
    assert page.evaluate("document.querySelector('[data-video]').paused")
    _look(axe, client, "player-audio", screenshot=True, at="#review-title")
    client.assert_clean()


def test_it_jumps_by_chapter_and_by_transcript_line(client: Watched, story: Story):
    page = client.page
    lines = page.locator("[data-segments] .segment-button")
    lines.first.wait_for()
    starts = [float(s) for s in lines.evaluate_all("bs => bs.map(b => b.dataset.start)")]
    # Nothing from the held-back part reaches the client's transcript.
    assert not [s for s in starts if HOLD[0] <= s < HOLD[1]], starts
    target = next(i for i, s in enumerate(starts) if s > 30)
    lines.nth(target).click()
    _wait_time(page, "audio", starts[target])
    assert "is-current" in (
        page.locator("[data-segments] .segment").nth(target).get_attribute("class") or ""
    )

    chapter = page.locator("[data-chapters] .jump").first
    at = float(chapter.get_attribute("data-at") or -1)
    chapter.click()
    _wait_time(page, "audio", at)
    assert chapter.get_attribute("aria-current") == "true"
    highlight = page.locator("[data-highlights] .jump").filter(has_text=HIGHLIGHT_NOTE)
    highlight.click()
    _wait_time(page, "audio", HIGHLIGHT_AT)
    client.assert_clean()


def test_it_searches_the_session_for_a_word(client: Watched, story: Story, axe: AxeAudit):
    page = client.page
    page.fill("[data-search-input]", "alcohol")
    with page.expect_response(lambda r: "/api/v1/search" in r.url and r.status == 200):
        page.press("[data-search-input]", "Enter")
    hits = page.locator("[data-search-results] .jump")
    hits.first.wait_for()
    assert "places found" in page.inner_text("[data-search-status]")
    texts = [t.lower() for t in hits.all_inner_texts()]
    assert any("alcohol" in t for t in texts), texts
    hit = hits.nth(next(i for i, t in enumerate(texts) if "alcohol" in t))
    at = float(hit.get_attribute("data-at") or -1)
    hit.click()
    _wait_time(page, "audio", at)
    _look(axe, client, "player-search")
    client.assert_clean()


def test_it_bookmarks_a_moment_to_bring_to_the_next_session(client: Watched, story: Story):
    page = client.page
    page.click("[data-bookmark-add]")
    page.wait_for_selector("[data-bookmark-note]:focus")
    page.fill("[data-bookmark-note]", BOOKMARK_NOTE)
    page.check("[data-bookmark-bring]")
    with page.expect_response(lambda r: r.url.endswith("/bookmarks") and r.status == 201):
        page.click("[data-bookmark-form] button[type=submit]")
    item = page.locator("[data-bookmarks] .bookmark").filter(has_text=BOOKMARK_NOTE)
    assert item.locator("input[type=checkbox]").is_checked()
    client.assert_clean()


def test_it_reaches_every_player_control_by_keyboard_with_a_visible_focus(
    client: Watched, story: Story
):
    page = client.page
    page.evaluate("() => document.querySelectorAll('video, audio').forEach(m => m.pause())")
    for mode in ("video", "audio"):
        page.check(f"input[name=review-mode][value={mode}]")
        page.wait_for_timeout(300)
        report = tab_stops(page, "[data-player]")
        missed = unreached_labels(page, "[data-player]", report)
        story.keyboard[mode] = {
            "controls": report.stops,
            "reached_by_tab": len(report.reached),
            "without_visible_focus": report.without_indicator,
        }
        assert report.stops > 20
        assert missed == [], f"not reachable by Tab in {mode} mode: {missed}"
        assert report.without_indicator == [], f"no visible focus: {report.without_indicator}"
    client.assert_clean()


def test_it_answers_the_player_shortcuts(client: Watched, story: Story):
    page = client.page
    page.check("input[name=review-mode][value=video]")
    page.locator("[data-video]").evaluate("v => v.pause()")
    page.evaluate("() => document.activeElement.blur()")  # shortcuts are off in form fields
    body = page.locator("body")
    body.press("k")
    page.wait_for_function("() => !document.querySelector('[data-video]').paused")
    body.press("k")
    page.wait_for_function("() => document.querySelector('[data-video]').paused")
    before = _current(page)
    body.press("l")
    _wait_time(page, "video", before + 10, 0.6)
    body.press("j")
    _wait_time(page, "video", before, 0.6)
    body.press("ArrowRight")
    _wait_time(page, "video", before + 10, 0.6)
    body.press("m")
    assert page.get_attribute("[data-mute]", "aria-pressed") == "true"
    assert page.evaluate("document.querySelector('[data-video]').muted")
    body.press("m")
    captions = page.get_attribute("[data-captions]", "aria-pressed")
    body.press("c")
    assert page.get_attribute("[data-captions]", "aria-pressed") != captions
    body.press("b")
    page.wait_for_selector("[data-bookmark-note]:focus")
    page.click("[data-bookmark-cancel]")
    client.assert_clean()


def _open_player(browser: Any, story: Story, state: Any, *, slow: bool) -> tuple[Any, Any, Any]:
    context = _context(browser, story, storage_state=state)
    context.add_init_script(performance.FIRST_FRAME)
    page = context.new_page()
    meter = performance.TransferMeter.attach(context, page)
    if slow:
        performance.emulate_network(context, page, **SLOW)
    page.goto(story.player)
    page.wait_for_selector("[data-start]:not([disabled])", timeout=30_000)
    page.check("input[name=review-mode][value=video]")
    page.click("[data-start]")
    restart = page.locator("[data-resume-restart]")
    (restart if restart.is_visible() else page.locator("[data-play]")).click()
    return context, page, meter


def test_it_stays_within_the_players_budgets(client: Watched, story: Story, browser: Any):
    state = client.page.context.storage_state()
    context, page, meter = _open_player(browser, story, state, slow=False)
    try:
        page.wait_for_function("() => window.__revisitMarks.frame !== null", timeout=10_000)
        page.wait_for_load_state("networkidle")
        marks = performance.marks(page)
        totals = meter.totals()
    finally:
        context.close()
    opened = performance.open_to_first_frame_ms(marks)
    story.performance["player_loopback"] = {
        **totals,
        "budget_page_bytes": PAGE_BUDGET_BYTES,
        "marks_ms": marks,
        "open_to_first_frame_ms": opened,
        "budget_open_to_first_frame_ms": FIRST_FRAME_BUDGET_MS,
    }
    assert totals["page_bytes"] <= PAGE_BUDGET_BYTES, totals
    assert opened is not None and opened <= FIRST_FRAME_BUDGET_MS, marks


def test_it_still_plays_on_a_slow_network(client: Watched, story: Story, browser: Any):
    state = client.page.context.storage_state()
    context, page, meter = _open_player(browser, story, state, slow=True)
    try:
        page.wait_for_function(
            "() => document.querySelector('[data-video]').currentTime > 3", timeout=60_000
        )
        first = _current(page)
        page.wait_for_timeout(2000)
        later = _current(page)
        marks = performance.marks(page)
        ready_state = page.evaluate("document.querySelector('[data-video]').readyState")
    finally:
        context.close()
    story.performance["player_slow_network"] = {
        "network": SLOW,
        "marks_ms": marks,
        "open_to_first_frame_ms": performance.open_to_first_frame_ms(marks),
        "current_time_s": [round(first, 2), round(later, 2)],
        "ready_state": ready_state,
        **{k: v for k, v in meter.totals().items() if k in ("page_bytes", "media_bytes")},
    }
    assert later > first + 1, "playback advances on a 1.6 Mbit/s, 150 ms link"


def test_it_asks_for_a_rating_when_the_client_finishes(
    client: Watched, story: Story, axe: AxeAudit
):
    page = client.page
    page.click("[data-finish]")
    page.wait_for_selector("[data-rating]:visible")
    _look(axe, client, "rating")
    page.locator("input[name=helpfulness][value='6']").check()
    page.locator("input[name=harm][value='2']").check()
    page.fill("#rating-comment", "Hard to hear, but useful")
    with page.expect_response(lambda r: r.url.endswith("/ratings") and r.status == 201):
        page.click("[data-rating-form] button[type=submit]")
    page.wait_for_selector("[data-done]:visible")
    _look(axe, client, "rating-done")
    client.assert_clean()


def test_it_leaves_with_quick_exit_and_nothing_to_go_back_to(
    client: Watched, story: Story, axe: AxeAudit
):
    page = client.page
    page.click("[data-done-back]")
    page.wait_for_selector("[data-player-main]:visible")
    page.click("header [data-quick-exit]")
    page.wait_for_url("**/quick-exit/")
    assert page.title() == "Weather"
    assert page.locator("video, audio, [data-player]").count() == 0
    _look(axe, client, "quick-exit")
    page.go_back()
    page.wait_for_load_state()
    assert story.player not in page.url
    assert page.locator("[data-player], video, audio").count() == 0
    page.goto(story.player)
    assert "/accounts/login/" in page.url  # signed out
    client.assert_clean()


# --- the therapist sees the review, and revokes -----------------------------------------------


def test_it_shows_the_therapist_the_review_ratings_and_bookmark(
    therapist: Watched, story: Story, axe: AxeAudit
):
    page = therapist.page
    page.goto(story.recording_page)  # a full load (the address had #sharing)
    sharing = page.locator("#sharing")
    activity = sharing.locator(".activity").first.inner_text()
    assert "Helpfulness 6 of 7" in activity and "Harm or distress 2 of 7" in activity
    assert "Hard to hear, but useful" in activity
    assert BOOKMARK_NOTE in activity
    assert "Not yet" not in activity  # reviewed
    _look(axe, therapist, "therapist-review", screenshot=True, at="#sharing")
    therapist.assert_clean()


def test_it_revokes_and_the_clients_next_try_is_refused_calmly(
    therapist: Watched, story: Story, browser: Any, axe: AxeAudit
):
    page = therapist.page
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#sharing button:has-text('Revoke')")
    page.wait_for_url(f"**{story.recording_page}*")
    assert "Access revoked" in page.inner_text(".messages")
    assert "Revoked" in page.inner_text("#sharing .share-state")

    context = _context(browser, story)
    try:
        again = Watched(context.new_page())
        sign_in(again.page, story.erin)
        assert again.page.locator(f"a[href='{story.player}']").count() == 0
        assert "Nothing shared yet" in again.page.inner_text("main")
        response = again.page.goto(story.player)
        assert response is not None and response.status == 404
        text = again.page.inner_text("main")
        assert "Page not found" in text and "Traceback" not in text
        _look(axe, again, "revoked-not-found")
        for url in story.media:
            assert again.page.request.get(url).status == 404, "revoked media is refused"
        assert again.errors == []
    finally:
        context.close()
    therapist.assert_clean()


def test_it_finds_no_accessibility_violations_on_the_journeys_pages(axe: AxeAudit):
    assert len(axe.pages) >= 20
    assert axe.total() == 0, "\n" + axe.summary()
