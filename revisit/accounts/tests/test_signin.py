from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import cache
from django.test import Client

from revisit.audit.events import Event
from revisit.testing.actors import PASSWORD, TOTP_SECRET, World, assert_audited

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def current_code() -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(TOTP_SECRET, counter)))


def _password_step(browser: Client, email: str, password: str):
    return browser.post("/accounts/login/", {"login": email, "password": password})


def test_it_signs_a_therapist_in_with_password_and_totp(world: World):
    browser = Client()
    response = _password_step(browser, world.alice.email, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    response = browser.post("/accounts/2fa/authenticate/", {"code": current_code()})
    assert response.status_code == 302
    assert browser.get("/clients/").status_code == 200
    assert_audited(Event.SIGN_IN, actor=world.alice)


def test_it_rejects_a_wrong_totp_code(world: World):
    browser = Client()
    _password_step(browser, world.alice.email, PASSWORD)
    wrong = f"{(int(current_code()) + 1) % 1000000:06d}"
    response = browser.post("/accounts/2fa/authenticate/", {"code": wrong})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert browser.get("/clients/").status_code == 302
    assert_audited(Event.SIGN_IN_FAILED, actor=world.alice)


def test_it_rejects_a_replayed_totp_code(world: World):
    code = current_code()
    first = Client()
    _password_step(first, world.alice.email, PASSWORD)
    assert first.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    second = Client()
    _password_step(second, world.alice.email, PASSWORD)
    response = second.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 200
    assert second.get("/clients/").status_code == 302


def test_it_gives_the_same_answer_for_unknown_people_and_wrong_passwords(world: World):
    unknown = _password_step(Client(), "nobody@example.org", "whatever-password")
    wrong = _password_step(Client(), world.carol.email, "wrong-password-here")
    assert unknown.status_code == wrong.status_code == 200

    def errors(response) -> list[str]:
        return [str(e) for e in response.context["form"].non_field_errors()]

    assert errors(unknown) == errors(wrong) and errors(unknown)


def test_it_throttles_repeated_failed_sign_ins(world: World):
    browser = Client()
    for _ in range(5):
        _password_step(browser, world.carol.email, "wrong-password-here")
    response = _password_step(browser, world.carol.email, PASSWORD)
    assert response.status_code in (200, 429)
    assert browser.get("/").status_code == 302  # still signed out, even with the right password
    assert_audited(Event.SIGN_IN_FAILED, actor=world.carol)


def test_it_signs_a_client_in_with_a_password_alone(world: World):
    browser = Client()
    response = _password_step(browser, world.carol.email, PASSWORD)
    assert response.status_code == 302
    assert browser.get("/").status_code == 200


def test_it_refuses_open_sign_up(world: World):
    response = Client().post(
        "/accounts/signup/",
        {"email": "intruder@example.org", "password1": "x" * 12, "password2": "x" * 12},
    )
    assert not world.practice.members.filter(email="intruder@example.org").exists()
    assert response.status_code in (200, 302, 403)
