from __future__ import annotations

import json

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings

from revisit.accounts.signins import EndReason
from revisit.audit.events import Event
from revisit.testing.actors import World, api_client, assert_audited, portal_client

pytestmark = pytest.mark.django_db


def test_it_signs_out_the_other_sessions_and_keeps_this_one(world: World):
    here = portal_client(world.carol)
    there = portal_client(world.carol)
    assert there.get("/").status_code == 200
    assert here.get("/").status_code == 200
    there_key = there.cookies[settings.SESSION_COOKIE_NAME].value

    response = here.post("/security/sessions/end-others/")

    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert there.get("/").status_code == 302  # its next page asks it to sign in
    assert there.get("/api/v1/me").status_code == 401  # and so does the API, by cookie
    assert not UserSession.objects.filter(session_key=there_key).exists()
    entry = assert_audited(Event.SESSIONS_ENDED, actor=world.carol, subject=world.carol)
    assert entry.detail["reason"] == EndReason.SIGNED_OUT_ELSEWHERE and entry.detail["count"] == 1
    assert there_key not in json.dumps(entry.detail)  # ids only, never a session key


def test_it_leaves_api_tokens_working(world: World):
    integration = api_client(world.alice)
    here = portal_client(world.alice)
    here.get("/clients/")
    here.post("/security/sessions/end-others/")
    assert integration.get("/api/v1/me").status_code == 200


def test_it_signs_out_one_chosen_session(world: World):
    here, there, third = (portal_client(world.carol) for _ in range(3))
    for browser in (here, there, third):
        browser.get("/")
    key = there.cookies[settings.SESSION_COOKIE_NAME].value
    row = UserSession.objects.get(session_key=key)

    assert here.post(f"/security/sessions/{row.pk}/end/").status_code == 302

    assert there.get("/").status_code == 302
    assert third.get("/").status_code == 200 and here.get("/").status_code == 200
    assert_audited(Event.SESSIONS_ENDED, actor=world.carol)


@pytest.mark.parametrize("signin_id", ["0", "-1", "abc", "1e3", "9" * 40, "%2e%2e"])
def test_it_answers_404_for_ids_that_are_not_ones_own(world: World, signin_id: str):
    dave = portal_client(world.dave)
    dave.get("/")
    carol = portal_client(world.carol)
    carol.get("/")
    assert carol.post(f"/security/sessions/{signin_id}/end/").status_code == 404
    daves = UserSession.objects.get(user=world.dave)
    assert carol.post(f"/security/sessions/{daves.pk}/end/").status_code == 404
    assert dave.get("/").status_code == 200


def test_it_refuses_to_end_sessions_on_a_get(world: World):
    here, there = portal_client(world.carol), portal_client(world.carol)
    there.get("/")
    assert here.get("/security/sessions/end-others/").status_code == 405
    assert there.get("/").status_code == 200
