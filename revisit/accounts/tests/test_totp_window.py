"""An authenticator code is good for its own 30-second period only (ASVS V6.5.5).

The clock of allauth's TOTP module is fixed for each test, and codes are computed here from the
test actors' secret (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), so the answers do not
depend on when the test runs.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from allauth.mfa.totp.internal import auth as totp_auth
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client

from revisit.testing.actors import PASSWORD, TOTP_SECRET, World

pytestmark = pytest.mark.django_db

STEP = 30  # seconds: the time step RFC 6238 (section 5.2) recommends
PERIOD_START = 1_767_225_600  # 2026-01-01T00:00:00Z, a multiple of 30


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The time allauth's TOTP check reads (and nothing else does); set `clock.now`."""
    clock = SimpleNamespace(now=float(PERIOD_START))
    monkeypatch.setattr(totp_auth, "time", SimpleNamespace(time=lambda: clock.now))
    return clock


def _code_at(moment: float) -> str:
    return str(format_hotp_value(hotp_value(TOTP_SECRET, int(moment) // STEP)))


def _at_second_factor(world: World) -> Client:
    browser = Client()
    response = browser.post("/accounts/login/", {"login": world.alice.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    return browser


def _accepted(browser: Client, code: str) -> bool:
    response = browser.post("/accounts/2fa/authenticate/", {"code": code})
    return response.status_code == 302 and browser.get("/security/").status_code == 200


@pytest.mark.parametrize("into_period", [0, 1, 15, 29])
def test_it_refuses_the_code_of_the_previous_period(
    world: World, clock: SimpleNamespace, into_period: int
):
    clock.now = PERIOD_START + into_period
    previous, current = _code_at(clock.now - STEP), _code_at(clock.now)
    assert previous != current, "pick another PERIOD_START: the two codes happen to match"
    browser = _at_second_factor(world)
    assert not _accepted(browser, previous)
    assert _accepted(browser, current)


def test_it_refuses_the_code_of_the_next_period(world: World, clock: SimpleNamespace):
    clock.now = PERIOD_START + 15
    browser = _at_second_factor(world)
    assert not _accepted(browser, _code_at(clock.now + STEP))
    assert _accepted(browser, _code_at(clock.now))


def test_it_stops_taking_a_code_thirty_seconds_after_its_period_began(
    world: World, clock: SimpleNamespace
):
    code = _code_at(PERIOD_START)
    browser = _at_second_factor(world)
    clock.now = PERIOD_START + STEP  # the first moment of the next period
    assert not _accepted(browser, code)
    clock.now = PERIOD_START + STEP - 1  # the last second of its own period
    assert _accepted(browser, code)
