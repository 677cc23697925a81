"""A password reset neither signs in nor skips the second factor (ASVS V6.4.3)."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.core.cache import cache
from django.test import Client

from revisit.accounts.models import User
from revisit.testing.actors import TOTP_SECRET, World

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and longer passphrase 42"


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def _reset(browser: Client, person: User) -> None:
    """Ask for a reset, follow the e-mailed link and choose a new password there."""
    browser.post("/accounts/password/reset/", {"email": person.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/\S+)", str(mail.outbox[-1].body)
    )
    assert link is not None, "no reset link was sent"
    form_page = browser.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    response = browser.post(
        form_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD), "the reset did not take"


def _current_code() -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(TOTP_SECRET, counter)))


@pytest.mark.parametrize("who", ["alice", "sam", "ada"])
def test_it_still_asks_staff_for_the_second_factor_after_a_reset(world: World, who: str):
    person = getattr(world, who)
    browser = Client()
    _reset(browser, person)
    assert browser.get("/security/").status_code == 302, "the reset signed someone in"

    response = browser.post("/accounts/login/", {"login": person.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert browser.get("/security/").status_code == 302  # not in before the code
    assert browser.get("/api/v1/me").status_code == 401

    wrong = f"{(int(_current_code()) + 1) % 1_000_000:06d}"
    assert browser.post("/accounts/2fa/authenticate/", {"code": wrong}).status_code == 200
    assert browser.get("/security/").status_code == 302

    assert browser.post("/accounts/2fa/authenticate/", {"code": _current_code()}).status_code == 302
    assert browser.get("/security/").status_code == 200


def test_it_does_not_sign_a_client_in_by_resetting(world: World):
    browser = Client()
    _reset(browser, world.carol)
    assert browser.get("/security/").status_code == 302
