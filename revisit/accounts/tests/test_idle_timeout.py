from __future__ import annotations

import time

import pytest
from django.test import override_settings

from revisit.accounts.middleware import SESSION_LAST_SEEN
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db


def _age_session(browser, seconds: float) -> None:
    session = browser.session
    session[SESSION_LAST_SEEN] = time.time() - seconds
    session.save()


@override_settings(IDLE_TIMEOUT_STAFF_S=60, IDLE_TIMEOUT_CLIENT_S=120)
def test_it_signs_staff_out_sooner_than_clients(world: World):
    staff = portal_client(world.alice)
    staff.get("/clients/")
    _age_session(staff, 90)
    response = staff.get("/clients/")
    assert response.status_code == 302 and "idle=1" in response["Location"]

    client = portal_client(world.carol)
    client.get("/")
    _age_session(client, 90)
    assert client.get("/").status_code == 200
    _age_session(client, 130)
    assert client.get("/").status_code == 302


@override_settings(IDLE_TIMEOUT_CLIENT_S=60)
def test_it_answers_the_api_with_problem_json_after_idling(world: World):
    browser = portal_client(world.carol)
    browser.get("/")
    _age_session(browser, 61)
    response = browser.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@override_settings(IDLE_TIMEOUT_CLIENT_S=60)
def test_it_does_not_count_background_polling_as_activity(world: World):
    browser = portal_client(world.carol)
    browser.get("/")
    _age_session(browser, 50)
    browser.get("/api/v1/me", headers={"X-Revisit-Background": "1"})
    time.sleep(0.01)
    session = browser.session
    assert time.time() - session[SESSION_LAST_SEEN] >= 50
