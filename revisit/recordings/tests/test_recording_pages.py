"""The therapist's recording pages: list, detail, sharing, holding back, highlights, notes."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.recordings.consent import ConsentMissingError, consent_give, consent_revoke
from revisit.recordings.models import (
    ConsentMethod,
    ConsentScope,
    ProcessingStep,
    Recording,
    RecordingSource,
    RecordingStatus,
    Rendition,
    RenditionKind,
    StepStatus,
)
from revisit.review.access import recording_access
from revisit.review.models import ContentNote, Highlight, HoldBack, Share
from revisit.review.reviewing import content_note_set, highlight_add, holdback_add, note_text
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready, make_ready_recording
from revisit.testing.actors import World, assert_audited, portal_client
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind

pytestmark = pytest.mark.django_db

LIST = "/recordings/"


@pytest.fixture
def ready(world: World) -> Ready:
    return make_ready_recording(world)


def detail_url(recording: Recording) -> str:
    return f"/recordings/{recording.pk}/"


def make_recording(
    world: World,
    *,
    title: str,
    therapist: User | None = None,
    client: User | None = None,
    status: str = RecordingStatus.PROCESSING,
    progress: float = 0.0,
    error: str = "",
    minutes_ago: int = 0,
) -> Recording:
    therapist = therapist or world.alice
    return Recording.objects.create(
        practice_id=therapist.practice_id,
        therapist=therapist,
        client=client or world.carol,
        title=title,
        source=RecordingSource.UPLOAD,
        status=status,
        progress=progress,
        error=error,
        duration=60.0,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def page_of(user: User, url: str) -> str:
    response = portal_client(user).get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- The list ---------------------------------------------------------------------------------


def test_it_lists_only_the_therapists_own_recordings_newest_first(world: World, ready: Ready):
    make_recording(world, title="Intake session", minutes_ago=90, client=world.dave)
    make_recording(world, title="Bob's session", therapist=world.bob, client=world.dave)
    make_recording(world, title="Elsewhere session", therapist=world.mallory, client=world.eve)
    page = page_of(world.alice, LIST)
    titles = re.findall(r'<a href="/recordings/[0-9a-f-]{36}/">([^<]+)</a>', page)
    assert titles == ["Session 3", "Intake session"]
    assert "Bob&#x27;s session" not in page and "Elsewhere session" not in page
    assert "Carol" in page and "Dave" in page


def test_it_shows_each_recordings_state_in_the_list(world: World, ready: Ready):
    make_recording(world, title="Being processed", progress=0.42)
    make_recording(
        world,
        title="Broken upload",
        status=RecordingStatus.FAILED,
        error="The file has no audio or video.",
    )
    page = page_of(world.alice, LIST)
    assert "Ready to share" in page
    assert re.search(r'<progress[^>]*value="42"[^>]*>42%</progress>', page)
    assert "Failed: The file has no audio or video." in page
    share = share_create(recording=ready.recording, actor=world.alice)
    page = page_of(world.alice, LIST)
    assert f"Shared until {share.expires_at:%-d %b %Y}" in page
    assert "Ready to share" not in page


@pytest.mark.parametrize("who", ["carol", "ada", "eve"])
def test_it_has_no_list_for_clients_or_admins(world: World, who: str):
    assert portal_client(getattr(world, who)).get(LIST).status_code == 404


def test_it_links_the_list_from_a_therapists_navigation(world: World):
    assert '<a href="/recordings/">Recordings</a>' in page_of(world.alice, reverse("caseload"))


# --- Who may open a recording -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "carol", "dave", "mallory", "ada", "eve", "sam"])
def test_it_checks_ownership(world: World, ready: Ready, who: str):
    # carol even holds an active share: the therapist's page is still not hers
    share_create(recording=ready.recording, actor=world.alice)
    user = getattr(world, who)
    browser = portal_client(user)
    url = detail_url(ready.recording)
    assert browser.get(url).status_code == 404
    for action in ("share/", "holdbacks/", "highlights/", "content-note/"):
        assert browser.post(url + action, {}).status_code == 404
    assert Share.objects.count() == 1 and not HoldBack.objects.exists()


def test_it_answers_404_for_an_unknown_recording(world: World):
    browser = portal_client(world.alice)
    assert browser.get("/recordings/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert browser.get("/recordings/not-an-id/").status_code == 404


def test_it_lets_a_supervisor_look_read_only_with_supervision_consent(world: World, ready: Ready):
    url = detail_url(ready.recording)
    assert portal_client(world.sam).get(url).status_code == 404
    consent_give(
        client=world.carol,
        scope=ConsentScope.SUPERVISION,
        actor=world.alice,
        method=ConsentMethod.VERBAL,
    )
    page = page_of(world.sam, url)
    assert "Session 3" in page and "read-only" in page
    assert "<form" not in page.split("</header>", 1)[1]  # no share, hold-back or note forms
    browser = portal_client(world.sam)
    assert browser.post(url + "share/", {"share-expires_on": "2099-01-01"}).status_code == 404
    assert not Share.objects.exists()
    assert "Session 3" in page_of(world.sam, LIST)


# --- Progress and the player ------------------------------------------------------------------


def test_it_polls_progress_as_json_while_processing(world: World):
    recording = make_recording(world, title="Being processed", progress=0.4)
    page = page_of(world.alice, detail_url(recording))
    assert re.search(r'<progress[^>]*value="40"', page)
    assert re.search(r'role="status" aria-live="polite"[^>]*>Processing: 40% done', page)
    poll = re.search(r'data-poll-url="([^"]+)"', page)
    assert poll is not None and 'data-status="processing"' in page
    assert re.search(r'<script src="/static/js/recording-detail\.js"', page)

    browser = portal_client(world.alice)
    response = browser.get(poll.group(1), headers={"X-Revisit-Background": "1"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["progress"]) == ("processing", 0.4)
    Recording.objects.filter(pk=recording.pk).update(
        status=RecordingStatus.READY, progress=1.0, shareable_at=timezone.now()
    )
    body = browser.get(poll.group(1), headers={"X-Revisit-Background": "1"}).json()
    assert (body["status"], body["shareable"]) == ("ready", True)
    # the same URL refuses anyone who may not see the recording
    assert portal_client(world.bob).get(poll.group(1)).status_code == 404


def test_it_shows_steps_and_why_processing_failed(world: World):
    recording = make_recording(
        world,
        title="Broken",
        status=RecordingStatus.FAILED,
        error="The recording could not be converted for playback.",
    )
    ProcessingStep.objects.create(
        recording=recording,
        name="renditions",
        status=StepStatus.FAILED,
        attempts=3,
        error="ffmpeg could not process it",
    )
    ProcessingStep.objects.create(
        recording=recording, name="transcript", status=StepStatus.FAILED, error="OSError"
    )
    page = page_of(world.alice, detail_url(recording))
    assert "Processing failed" in page
    assert "The recording could not be converted for playback." in page
    assert "The original recording is kept" in page
    assert "Playable copies (video and audio)" in page and "tried 3 times" in page
    assert "ffmpeg could not process it" in page
    assert "OSError" not in page and "an unexpected problem" in page
    assert "Share with Carol?" not in page and "<video" not in page


def test_it_plays_the_full_version_with_captions(world: World, ready: Ready):
    page = page_of(world.alice, detail_url(ready.recording))
    assert re.search(rf'<video[^>]*controls[^>]*src="/media/{ready.video.pk}"', page)
    assert f'<track kind="captions" src="/media/{ready.captions.pk}"' in page
    assert "data-fill-time=" in page  # "use current time" buttons, shown by the script


# --- Sharing ----------------------------------------------------------------------------------


def test_it_offers_sharing_as_the_next_step_with_the_practice_default(world: World, ready: Ready):
    world.practice.share_days_default = 14
    world.practice.save()
    page = page_of(world.alice, detail_url(ready.recording))
    assert "Share with Carol?" in page
    expected = timezone.localdate() + timedelta(days=14)
    assert f'name="share-expires_on" value="{expected:%Y-%m-%d}"' in page
    assert re.search(r'name="share-allow_video"[^>]*checked', page)
    assert re.search(r'name="share-allow_transcript"[^>]*checked', page)
    assert not re.search(r'name="share-allow_download"[^>]*checked', page)


def test_it_shares_from_the_form(world: World, ready: Ready, django_capture_on_commit_callbacks):
    day = timezone.localdate() + timedelta(days=10)
    url = detail_url(ready.recording)
    with django_capture_on_commit_callbacks(execute=True):
        response = portal_client(world.alice).post(
            url + "share/",
            {"share-expires_on": day.isoformat(), "share-allow_transcript": "on"},
        )
    assert response.status_code == 302 and response["Location"] == url + "#sharing"
    share = Share.objects.get()
    assert (share.client_id, share.created_by_id) == (world.carol.pk, world.alice.pk)
    assert timezone.localtime(share.expires_at).date() == day
    assert (share.allow_video, share.allow_transcript, share.allow_download) == (
        False,
        True,
        False,
    )
    assert_audited(Event.SHARE_CREATED, actor=world.alice, subject=share)
    message = mail.outbox[-1]
    assert message.to == [world.carol.email]
    for secret in ("Session 3", "Carol", "Alice", world.practice.name):
        assert secret not in f"{message.subject}\n{message.body}"
    page = page_of(world.alice, url)
    assert "Shared until" in page and "audio only" in page and "Share with Carol?" not in page


def test_it_shows_the_consent_message_when_sharing_is_refused(world: World, ready: Ready):
    consent_revoke(client=world.carol, scope=ConsentScope.CLIENT_REVIEW, actor=world.alice)
    page = page_of(world.alice, detail_url(ready.recording))
    assert "has not yet agreed to reviewing recordings" in page
    day = timezone.localdate() + timedelta(days=5)
    response = portal_client(world.alice).post(
        detail_url(ready.recording) + "share/", {"share-expires_on": day.isoformat()}
    )
    assert response.status_code == 400
    expected = html.escape(str(ConsentMissingError(ConsentScope.CLIENT_REVIEW)))
    assert re.search(r'role="alert"><p>' + re.escape(expected), response.content.decode())
    assert not Share.objects.exists()


def test_it_shows_why_a_recording_cannot_be_shared_yet(world: World):
    recording = make_recording(world, title="Being processed", progress=0.2)
    assert "Share with Carol?" not in page_of(world.alice, detail_url(recording))
    day = timezone.localdate() + timedelta(days=5)
    response = portal_client(world.alice).post(
        detail_url(recording) + "share/", {"share-expires_on": day.isoformat()}
    )
    assert response.status_code == 400
    assert "This recording is not ready to share yet." in response.content.decode()
    assert not Share.objects.exists()


@pytest.mark.parametrize(
    ("expires_on", "error"),
    [
        ("yesterday", "Enter a date"),
        ("2001-01-01", "Choose today or a later date."),
        ("2099-01-01", "A share can last ten years at most."),
    ],
)
def test_it_explains_an_expiry_it_cannot_use(
    world: World, ready: Ready, expires_on: str, error: str
):
    response = portal_client(world.alice).post(
        detail_url(ready.recording) + "share/", {"share-expires_on": expires_on}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Share.objects.exists()


def test_it_revokes_a_share_at_once(world: World, ready: Ready):
    share = share_create(recording=ready.recording, actor=world.alice)
    assert recording_access(user=world.carol, recording_id=ready.recording.pk) is not None
    url = detail_url(ready.recording)
    response = portal_client(world.alice).post(url + f"shares/{share.pk}/revoke/")
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert recording_access(user=world.carol, recording_id=ready.recording.pk) is None
    assert_audited(Event.SHARE_REVOKED, actor=world.alice, subject=share)
    page = page_of(world.alice, url)
    assert "Revoked" in page and "Share with Carol?" in page


def test_it_does_not_revoke_another_recordings_share(world: World, ready: Ready):
    share = share_create(recording=ready.recording, actor=world.alice)
    other = make_recording(world, title="Other")
    response = portal_client(world.alice).post(detail_url(other) + f"shares/{share.pk}/revoke/")
    assert response.status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


# --- Holding back -----------------------------------------------------------------------------


def test_it_holds_back_a_range_and_removes_it(world: World, ready: Ready):
    url = detail_url(ready.recording)
    browser = portal_client(world.alice)
    response = browser.post(
        url + "holdbacks/",
        {"hold-start": "0:10", "hold-end": "25.5", "hold-reason": "third_party"},
    )
    assert response.status_code == 302 and response["Location"] == url + "#holding-back"
    held = HoldBack.objects.get()
    assert (held.start, held.end, held.reason) == (10.0, 25.5, "third_party")
    assert_audited(Event.HOLDBACK_CHANGED, actor=world.alice, subject=ready.recording)
    page = page_of(world.alice, url)
    assert "00:10\u201300:25" in page and "Third-party information" in page
    assert "The client's version is being built now." in page
    assert "Until it is ready, Carol cannot open this recording." in page

    response = browser.post(url + f"holdbacks/{held.pk}/remove/")
    assert response.status_code == 302
    assert not HoldBack.objects.exists()
    assert "Nothing is held back" in page_of(world.alice, url)


def test_it_says_the_client_can_open_nothing_while_rebuilding(world: World, ready: Ready):
    holdback_add(recording=ready.recording, actor=world.alice, start=1, end=5, reason="other")
    client_audio = vault.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.RENDITION, data=b"client version"
    )
    Rendition.objects.create(
        recording=ready.recording, kind=RenditionKind.AUDIO, variant="client", sealed=client_audio
    )
    url = detail_url(ready.recording)
    assert "The client's version is ready." in page_of(world.alice, url)
    holdback_add(recording=ready.recording, actor=world.alice, start=20, end=30, reason="other")
    page = page_of(world.alice, url)
    assert "Until it is ready, Carol cannot open this recording." in page


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        ("ab", "0:20", "Enter a time as mm:ss (for example 12:05) or as a number of seconds."),
        ("1:75", "2:00", "Enter a time as mm:ss"),
        ("-5", "0:20", "Enter a time as mm:ss"),
        ("0:20", "0:10", "The end must come after the start."),
        ("0:10", "5:00", "That time is outside the recording."),
        ("", "0:10", "This field is required."),
    ],
)
def test_it_explains_a_hold_back_it_cannot_use(
    world: World, ready: Ready, start: str, end: str, error: str
):
    response = portal_client(world.alice).post(
        detail_url(ready.recording) + "holdbacks/",
        {"hold-start": start, "hold-end": end, "hold-reason": "harmful"},
    )
    assert response.status_code == 400
    assert html.escape(error) in response.content.decode()
    assert not HoldBack.objects.exists()


def test_it_does_not_remove_a_hold_back_of_another_recording(world: World, ready: Ready):
    held = holdback_add(
        recording=ready.recording, actor=world.alice, start=1, end=5, reason="other"
    )
    other = make_recording(world, title="Other")
    response = portal_client(world.alice).post(detail_url(other) + f"holdbacks/{held.pk}/remove/")
    assert response.status_code == 404
    assert HoldBack.objects.filter(pk=held.pk).exists()


# --- Highlights and the content note ----------------------------------------------------------


def test_it_adds_and_removes_a_highlight(world: World, ready: Ready):
    url = detail_url(ready.recording)
    browser = portal_client(world.alice)
    response = browser.post(
        url + "highlights/", {"hl-at": "00:42", "hl-note": "Where you named the pattern"}
    )
    assert response.status_code == 302
    highlight = Highlight.objects.get()
    assert highlight.at == 42.0 and note_text(highlight.note) == "Where you named the pattern"
    page = page_of(world.alice, url)
    assert 'data-seek="42.0"' in page and "Where you named the pattern" in page
    assert browser.post(url + "highlights/", {"hl-at": "9:00"}).status_code == 400
    assert browser.post(url + f"highlights/{highlight.pk}/remove/").status_code == 302
    assert not Highlight.objects.exists()


def test_it_sets_and_clears_the_content_note(world: World, ready: Ready):
    url = detail_url(ready.recording)
    browser = portal_client(world.alice)
    text = "We talk about your father's illness from about 20:00."
    assert browser.post(url + "content-note/", {"note-text": text}).status_code == 302
    note = ContentNote.objects.get(recording=ready.recording)
    assert note_text(note.text) == text
    assert html.escape(text) in page_of(world.alice, url)
    too_long = browser.post(url + "content-note/", {"note-text": "x" * 2001})
    assert too_long.status_code == 400
    assert "at most 2000 characters" in too_long.content.decode()
    assert browser.post(url + "content-note/", {"note-text": "  "}).status_code == 302
    assert not ContentNote.objects.filter(recording=ready.recording).exists()


# --- Safe HTML --------------------------------------------------------------------------------


def test_it_escapes_html_in_notes(world: World, ready: Ready):
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    highlight_add(recording=ready.recording, actor=world.alice, at=3, note=payload)
    content_note_set(recording=ready.recording, actor=world.alice, text=payload)
    page = page_of(world.alice, detail_url(ready.recording))
    assert "<img src=x" not in page and '<script>alert("x")' not in page
    assert html.escape(payload) in page


def test_it_has_no_inline_script_or_style(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    holdback_add(recording=ready.recording, actor=world.alice, start=1, end=5, reason="other")
    processing = make_recording(world, title="Being processed", progress=0.3)
    for url in (LIST, detail_url(ready.recording), detail_url(processing)):
        response = portal_client(world.alice).get(url)
        page = response.content.decode()
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        assert nonce is not None
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts, url
        for tag in scripts:
            assert ' src="/static/' in tag and f'nonce="{nonce.group(1)}"' in tag, tag
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)  # no inline body
        assert not re.search(r"\sstyle=", page)
        assert not re.search(r"\son[a-z]+=", page)


# --- In a real browser ------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_follows_processing_live_then_shares_and_revokes_in_a_browser(
    world: World, live_server: Any, monkeypatch: pytest.MonkeyPatch
):
    """Debian Chromium under the page's real CSP; the test server has no media handler, so the
    player's media requests fail (404) and only the page's own behaviour is checked."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    # The ORM is used between browser steps, from the thread Playwright's event loop runs in.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    consent_give(
        client=world.carol,
        scope=ConsentScope.CLIENT_REVIEW,
        actor=world.alice,
        method=ConsentMethod.VERBAL,
    )
    recording = make_recording(world, title="Session 5", progress=0.3)
    session = portal_client(world.alice).cookies[settings.SESSION_COOKIE_NAME].value
    console: list[str] = []
    polls: list[str | None] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=live_server.url)
            host = live_server.url.split("//", 1)[1].rsplit(":", 1)[0]
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session,
                        "domain": host,
                        "path": "/",
                    }
                ]
            )
            page = context.new_page()
            page.on("console", lambda message: console.append(message.text))
            page.on(
                "request",
                lambda request: (
                    polls.append(request.headers.get("x-revisit-background"))
                    if "/api/v1/recordings/" in request.url
                    else None
                ),
            )
            page.on("dialog", lambda dialog: dialog.accept())
            page.goto(detail_url(recording))
            Recording.objects.filter(pk=recording.pk).update(progress=0.55)
            page.wait_for_selector("[data-progress-bar][value='55']", state="attached")
            assert page.inner_text("[data-progress-text]") == "Processing: 55% done."

            Recording.objects.filter(pk=recording.pk).update(
                status=RecordingStatus.READY, progress=1.0, shareable_at=timezone.now()
            )
            page.wait_for_selector("text=Share with Carol?")  # the page reloaded by itself
            page.fill(
                "#id_share-expires_on", (timezone.localdate() + timedelta(days=3)).isoformat()
            )
            page.click("#share button[type=submit]")
            page.wait_for_selector("text=Shared until")
            page.click("button:has-text('Revoke')")  # confirmed in the dialog
            page.wait_for_selector("text=Access revoked")
        finally:
            browser.close()
    assert polls and set(polls) == {"1"}
    share = Share.objects.get()
    assert share.revoked_at is not None
    assert not [line for line in console if "Content Security Policy" in line]
