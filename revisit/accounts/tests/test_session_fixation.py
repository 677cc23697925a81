"""Each sign-in gets a new session key, and the key held before it stops existing.

ASVS V7.2.2 (session tokens made per session) and V7.2.4 (a new token at sign-in, the old one
ended), through the sign-in page and, for staff, the second-factor step.
"""

from __future__ import annotations

from importlib import import_module

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.test import Client

from revisit.accounts.models import User
from revisit.testing.actors import PASSWORD, TOTP_SECRET, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def _store(key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(key)
    return store


def _key(browser: Client) -> str:
    return str(browser.cookies[settings.SESSION_COOKIE_NAME].value)


def _anonymous_session(browser: Client) -> str:
    """Give the browser a stored session before it signs in, as the sign-in page might."""
    session = browser.session
    session["before_sign_in"] = "yes"
    session.save()
    key = _key(browser)
    assert _store().exists(key)
    return key


def _current_code() -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(TOTP_SECRET, counter)))


def _sign_in(browser: Client, person: User) -> list[str]:
    """Sign in through the pages; return the session key after each step."""
    keys = []
    response = browser.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert response.status_code == 302
    keys.append(_key(browser))
    if response["Location"] == "/accounts/2fa/authenticate/":
        response = browser.post("/accounts/2fa/authenticate/", {"code": _current_code()})
        assert response.status_code == 302
        keys.append(_key(browser))
    assert browser.get("/security/").status_code == 200, "the sign-in did not work"
    return keys


def _signed_in(key: str) -> bool:
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = key
    return browser.get("/security/").status_code == 200


def test_it_gives_two_sign_ins_of_one_person_different_keys(world: World):
    first, second = Client(), Client()
    first_key = _sign_in(first, world.carol)[-1]
    second_key = _sign_in(second, world.carol)[-1]
    assert first_key != second_key
    assert _store().exists(first_key) and _store().exists(second_key)
    assert _store(first_key).load() != {} and _store(second_key).load() != {}


@pytest.mark.parametrize("who", ["carol", "alice"], ids=["client", "staff"])
def test_it_ends_the_key_held_before_sign_in(world: World, who: str):
    browser = Client()
    before = _anonymous_session(browser)
    keys = _sign_in(browser, getattr(world, who))
    after = keys[-1]
    assert after != before
    for earlier in [before, *keys[:-1]]:
        assert not _store().exists(earlier), "a key from before sign-in still exists"
        assert not _signed_in(earlier)
    assert _signed_in(after)


@pytest.mark.parametrize("who", ["carol", "alice"], ids=["client", "staff"])
def test_it_ignores_a_key_planted_by_someone_else(world: World, who: str):
    attacker = Client()
    planted = _anonymous_session(attacker)
    victim = Client()
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted
    # Staff keep the key through the password step (nothing is signed in yet) and get a new
    # one when the second factor completes the sign-in.
    after = _sign_in(victim, getattr(world, who))[-1]
    assert after != planted
    assert attacker.get("/security/").status_code == 302  # still signed out
    assert not _store().exists(planted)


@pytest.mark.parametrize("key", ["", "x", "a" * 32, "0" * 40, "../../etc/passwd", "\u00e9" * 32])
def test_it_never_adopts_a_key_the_browser_made_up(world: World, key: str):
    browser = Client()
    browser.cookies[settings.SESSION_COOKIE_NAME] = key
    after = _sign_in(browser, world.carol)[-1]
    assert after != key and not _store().exists(key)
