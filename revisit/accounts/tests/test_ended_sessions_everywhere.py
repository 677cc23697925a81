from __future__ import annotations

import asyncio

import pytest
from django.conf import settings
from django.test import Client

from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready, make_ready_recording
from revisit.testing.actors import World, portal_client
from revisit.testing.asgi import RawResponse, call

pytestmark = pytest.mark.django_db(transaction=True)  # the media handler reads in a thread


@pytest.fixture
def ready(world: World) -> Ready:
    return make_ready_recording(world)


def _media(browser: Client, path: str) -> RawResponse:
    from revisit.edge import media

    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    return call(
        lambda scope, receive, send: asyncio.run(media.app(scope, receive, send)),
        "GET",
        path,
        headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Range": "bytes=0-9"},
    )


def test_it_stops_the_media_of_a_session_signed_out_elsewhere(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    here, there = portal_client(world.carol), portal_client(world.carol)
    there.get("/")
    assert _media(there, f"/media/{ready.audio.pk}").status == 206

    here.post("/security/sessions/end-others/")

    assert _media(there, f"/media/{ready.audio.pk}").status == 401
    assert _media(here, f"/media/{ready.audio.pk}").status == 206


def test_it_sends_the_allauth_sessions_page_to_the_portals_own(world: World):
    carol = portal_client(world.carol)
    other = portal_client(world.carol)
    page = carol.get("/accounts/sessions/")
    assert page.status_code == 302 and page["Location"] == "/security/sessions/"
    # allauth's form would end the other sessions without an audit entry: it is not reachable.
    ended = carol.post("/accounts/sessions/", {"action": "end"})
    assert ended.status_code in (302, 405)
    assert other.get("/security/sessions/").status_code == 200  # still signed in
