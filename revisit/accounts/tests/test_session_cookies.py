"""The cookies a real sign-in sets are HttpOnly and SameSite=Lax (ASVS V3.3.2, V3.3.4).

The sign-ins go through the sign-in page (and the second-factor step for staff). The production
cookie settings are read from Django started in a separate process with a public https
configuration, as an operator runs it, and applied to the sign-in here over https.
"""

from __future__ import annotations

import json
from http.cookies import Morsel
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from revisit.security.tests.test_production_settings import production_env, run
from revisit.testing.actors import PASSWORD, TOTP_SECRET, World

pytestmark = pytest.mark.django_db

COOKIE_SETTINGS = [
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
]
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings; "
    f"print(json.dumps({{name: getattr(settings, name) for name in {COOKIE_SETTINGS!r}}}))"
)


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


@pytest.fixture(scope="module")
def production_cookies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = production_env(Path(tmp_path_factory.mktemp("production")))
    result = run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def _current_code() -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(TOTP_SECRET, counter)))


def _sign_in(world: World, *, staff: bool, secure: bool) -> dict[str, Morsel[str]]:
    """Every cookie set (not deleted) along the way, by name, the last one set winning."""
    browser = Client()
    responses = [browser.get("/accounts/login/", secure=secure)]
    person = world.alice if staff else world.carol
    responses.append(
        browser.post(
            "/accounts/login/", {"login": person.email, "password": PASSWORD}, secure=secure
        )
    )
    if staff:
        assert responses[-1]["Location"] == "/accounts/2fa/authenticate/"
        responses.append(
            browser.post("/accounts/2fa/authenticate/", {"code": _current_code()}, secure=secure)
        )
    assert responses[-1].status_code == 302
    responses.append(browser.get("/security/", secure=secure))
    assert responses[-1].status_code == 200, "the sign-in did not work"
    cookies: dict[str, Morsel[str]] = {}
    for response in responses:
        for name, morsel in response.cookies.items():
            if morsel.value and str(morsel["max-age"]) != "0":
                cookies[name] = morsel
    return cookies


def _assert_http_only_lax(cookies: dict[str, Morsel[str]], *, secure: bool) -> None:
    assert settings.SESSION_COOKIE_NAME in cookies and settings.CSRF_COOKIE_NAME in cookies
    for name, morsel in cookies.items():
        assert morsel["httponly"] is True, f"{name} is readable by scripts"
        assert morsel["samesite"] == "Lax", f"{name} has SameSite={morsel['samesite']!r}"
        assert bool(morsel["secure"]) is secure, f"{name} secure={morsel['secure']!r}"


@pytest.mark.parametrize("staff", [False, True], ids=["client", "staff"])
def test_it_sets_http_only_lax_cookies_at_sign_in(world: World, staff: bool):
    _assert_http_only_lax(_sign_in(world, staff=staff, secure=False), secure=False)


def test_it_uses_http_only_lax_cookies_in_the_production_configuration(
    production_cookies: dict[str, Any],
):
    assert production_cookies["SESSION_COOKIE_HTTPONLY"] is True
    assert production_cookies["CSRF_COOKIE_HTTPONLY"] is True
    assert production_cookies["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production_cookies["CSRF_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("staff", [False, True], ids=["client", "staff"])
def test_it_sets_them_over_https_with_the_production_cookie_settings(
    world: World, production_cookies: dict[str, Any], staff: bool
):
    with override_settings(**production_cookies):
        cookies = _sign_in(world, staff=staff, secure=True)
        _assert_http_only_lax(cookies, secure=True)
        assert set(cookies) >= {"__Host-revisit-session", "__Host-revisit-csrf"}
