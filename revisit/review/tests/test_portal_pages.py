"""The client's pages: the list of shared sessions and the player page around the review API."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from revisit.accounts.middleware import SESSION_LAST_SEEN
from revisit.review.models import Share
from revisit.review.reviewing import content_note_set, progress_record
from revisit.review.services import share_create, share_revoke
from revisit.review.tests.conftest import make_ready_recording
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror="alert(1)">'


def _share(world: World, title: str, *, video: bool = True, transcript: bool = True) -> Share:
    ready = make_ready_recording(world)
    ready.recording.title = title
    ready.recording.save(update_fields=["title"])
    return share_create(
        recording=ready.recording,
        actor=world.alice,
        allow_video=video,
        allow_transcript=transcript,
    )


def _player(share: Share) -> str:
    return f"/sessions/{share.pk}/"


def _scrub(html: str) -> str:
    """A page without what differs on every response (nonces and CSRF tokens)."""
    html = re.sub(r'nonce="[^"]*"', 'nonce=""', html)
    return re.sub(
        r'(name="csrfmiddlewaretoken" value=|name="csrf-token" content=)"[^"]*"', r'\1""', html
    )


def test_it_lists_only_active_shares_on_the_client_home(world: World):
    active = _share(world, "Session one")
    revoked = _share(world, "Session two")
    expired = _share(world, "Session three")
    share_revoke(share=revoked, actor=world.alice)
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = portal_client(world.carol).get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Session one" in page and f'href="{_player(active)}"' in page
    assert "Session two" not in page and _player(revoked) not in page
    assert "Session three" not in page and _player(expired) not in page
    assert "Nothing shared yet" not in page


def test_it_shows_a_calm_empty_state(world: World):
    page = portal_client(world.dave).get("/").content.decode()
    assert "Nothing shared yet" in page
    assert "/sessions/" not in page.replace("/sessions/still-here/", "")


def test_it_shows_each_share_only_to_its_client(world: World):
    _share(world, "Carol's session")
    assert "Carol&#x27;s session" not in portal_client(world.dave).get("/").content.decode()
    assert "Carol&#x27;s session" in portal_client(world.carol).get("/").content.decode()


def test_it_marks_a_session_never_played_as_new(world: World):
    share = _share(world, "Session one")
    assert ">New<" in portal_client(world.carol).get("/").content.decode()
    progress_record(share=share, actor=world.carol, position=5.0, played=[(0.0, 5.0)])
    assert ">New<" not in portal_client(world.carol).get("/").content.decode()


def test_it_shows_the_player_with_a_check_in_first(world: World):
    share = _share(world, "Session one")
    content_note_set(recording=share.recording, actor=world.alice, text="We talk about loss.")
    world.practice.crisis_resources = "Call 988 at any time."
    world.practice.save(update_fields=["crisis_resources"])

    response = portal_client(world.carol).get(_player(share))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Before you start" in page and "You can stop at any time." in page
    assert "Start when you're ready" in page
    assert "We talk about loss." in page and "Call 988 at any time." in page
    assert f'data-review-url="/api/v1/shares/{share.pk}/review"' in page
    assert f'data-transcript-url="/api/v1/recordings/{share.recording_id}/transcript"' in page
    assert 'data-idle-timeout="1800"' in page
    assert 'name="csrf-token"' in page
    # the player is there but hidden, and no media address is in the page until the client starts
    assert re.search(r"<section[^>]*data-player-main hidden", page)
    assert "/media/" not in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", ["dave", "alice", "bob", "sam", "ada", "mallory", "eve"])
def test_it_does_not_exist_for_anyone_but_its_client(world: World, who: str):
    share = _share(world, "Session one")
    response = portal_client(getattr(world, who)).get(_player(share))
    assert response.status_code == 404
    assert "Session one" not in response.content.decode()


def test_it_cannot_tell_another_clients_share_from_a_missing_one(world: World):
    share = _share(world, "Session one")
    dave = portal_client(world.dave)
    theirs = dave.get(_player(share))
    missing = dave.get(f"/sessions/{uuid.uuid4()}/")
    assert theirs.status_code == missing.status_code == 404
    assert _scrub(theirs.content.decode()) == _scrub(missing.content.decode())


def test_it_does_not_exist_once_revoked_or_expired(world: World):
    revoked = _share(world, "Session one")
    expired = _share(world, "Session two")
    carol = portal_client(world.carol)
    assert carol.get(_player(revoked)).status_code == 200
    share_revoke(share=revoked, actor=world.alice)
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert carol.get(_player(revoked)).status_code == 404
    assert carol.get(_player(expired)).status_code == 404


@pytest.mark.parametrize("bad", ["not-a-share", "123", "0" * 37, "%3Cscript%3E"])
def test_it_answers_a_malformed_id_with_404(world: World, bad: str):
    assert portal_client(world.carol).get(f"/sessions/{bad}/").status_code == 404


def test_it_sends_visitors_who_are_not_signed_in_to_sign_in(world: World):
    share = _share(world, "Session one")
    response = Client().get(_player(share))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_has_no_inline_script_or_style_and_a_strict_policy(world: World):
    share = _share(world, "Session one")
    response = portal_client(world.carol).get(_player(share))
    page = response.content.decode()
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert re.search(r"media-src 'self' blob:", policy)
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert len(scripts) >= 3  # revisit.js, player.js, idle.js
    for tag in scripts:
        assert re.search(r'\bsrc="/static/js/[\w.-]+\.js"', tag), tag
        assert f'nonce="{nonce.group(1)}"' in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)  # no script has a body
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert "javascript:" not in page


def test_it_offers_only_the_modes_the_share_allows(world: World):
    everything = _share(world, "Session one")
    audio_only = _share(world, "Session two", video=False, transcript=False)
    carol = portal_client(world.carol)
    modes = re.compile(r'name="review-mode" value="(\w+)"')
    assert modes.findall(carol.get(_player(everything)).content.decode()) == [
        "video",
        "audio",
        "transcript",
    ]
    assert modes.findall(carol.get(_player(audio_only)).content.decode()) == ["audio"]


def test_it_escapes_html_in_titles_and_notes(world: World):
    share = _share(world, f"Session {HOSTILE}")
    content_note_set(recording=share.recording, actor=world.alice, text=f"Note {HOSTILE}")
    world.practice.crisis_resources = f"Help {HOSTILE}"
    world.practice.save(update_fields=["crisis_resources"])
    carol = portal_client(world.carol)
    escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    for page in (carol.get("/").content.decode(), carol.get(_player(share)).content.decode()):
        assert HOSTILE not in page and "<img" not in page
        assert escaped in page
    player = carol.get(_player(share)).content.decode()
    assert f"Note {escaped}" in player and f"Help {escaped}" in player
    # the neutral tab title never carries the session's title
    assert re.search(r"<title>Session review · Revisit</title>", player)


def test_it_keeps_a_session_alive_with_a_plain_request(world: World):
    carol = portal_client(world.carol)
    carol.get("/")
    session = carol.session
    session[SESSION_LAST_SEEN] = time.time() - 600
    session.save()
    response = carol.get("/sessions/still-here/")
    assert response.status_code == 204
    assert "no-store" in response["Cache-Control"]
    assert time.time() - carol.session[SESSION_LAST_SEEN] < 5


def test_it_tells_a_signed_out_page_that_it_is_signed_out(world: World):
    assert Client().get("/sessions/still-here/").status_code == 401
