from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings

from revisit.accounts.middleware import SESSION_LAST_SEEN
from revisit.accounts.session_store import SESSION_SIGNED_IN_AT
from revisit.audit.events import Event
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db

TWELVE_HOURS = 12 * 3600


def _time_travel(browser, *, signed_in_ago: float) -> None:
    """As if the browser signed in `signed_in_ago` seconds ago and was active a moment ago."""
    session = browser.session
    session[SESSION_SIGNED_IN_AT] = time.time() - signed_in_ago
    session[SESSION_LAST_SEEN] = time.time() - 5
    session.save()


def test_it_defaults_to_twelve_hours():
    assert settings.SESSION_COOKIE_AGE == TWELVE_HOURS


def test_it_notes_when_a_session_signed_in(world: World):
    before = time.time()
    browser = portal_client(world.carol)
    browser.get("/")
    signed_in = browser.session[SESSION_SIGNED_IN_AT]
    assert before - 1 <= signed_in <= time.time()


def test_it_ends_a_constantly_active_session_twelve_hours_after_sign_in(world: World):
    browser = portal_client(world.carol)
    for hours in (1, 6, 11, 11.9):
        _time_travel(browser, signed_in_ago=hours * 3600)
        assert browser.get("/").status_code == 200, hours
    _time_travel(browser, signed_in_ago=TWELVE_HOURS + 1)
    response = browser.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert browser.get("/api/v1/me").status_code == 401


def test_it_never_stores_an_expiry_past_the_limit_however_often_it_is_saved(world: World):
    browser = portal_client(world.carol)
    _time_travel(browser, signed_in_ago=11 * 3600)
    for _ in range(5):
        assert browser.get("/").status_code == 200
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    stored = Session.objects.get(session_key=key).expire_date
    limit = datetime.fromtimestamp(browser.session[SESSION_SIGNED_IN_AT], tz=UTC) + timedelta(
        seconds=TWELVE_HOURS
    )
    assert stored <= limit
    assert stored < datetime.now(tz=UTC) + timedelta(hours=1, seconds=5)


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db")
def test_it_holds_the_limit_in_the_middleware_too(world: World):
    browser = portal_client(world.alice)
    _time_travel(browser, signed_in_ago=TWELVE_HOURS + 60)
    response = browser.get("/clients/")
    assert response.status_code == 302 and "expired=1" in response["Location"]
    entry = assert_audited(Event.SIGN_OUT, actor=world.alice)
    assert entry.detail == {"reason": "expired"}
    assert browser.get("/clients/").status_code == 302


@override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db")
def test_it_answers_the_api_with_problem_json_at_the_limit(world: World):
    browser = portal_client(world.carol)
    _time_travel(browser, signed_in_ago=TWELVE_HOURS + 60)
    response = browser.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@override_settings(SESSION_COOKIE_AGE=3600)
def test_it_follows_the_configured_lifetime(world: World):
    browser = portal_client(world.carol)
    _time_travel(browser, signed_in_ago=3000)
    assert browser.get("/").status_code == 200
    _time_travel(browser, signed_in_ago=3601)
    assert browser.get("/").status_code == 302


def test_it_keeps_the_cookie_a_browser_session_cookie(world: World):
    browser = portal_client(world.carol)
    response = browser.get("/")
    cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
    assert cookie is not None and not cookie["max-age"] and not cookie["expires"]
