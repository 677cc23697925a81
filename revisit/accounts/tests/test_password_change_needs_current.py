"""Changing a password takes the current one; a wrong one changes nothing (ASVS V6.2.3)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from revisit.testing.actors import PASSWORD, World, portal_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different long passphrase"


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def _signs_in(email: str, password: str) -> bool:
    browser = Client()
    browser.post("/accounts/login/", {"login": email, "password": password})
    return browser.get("/").status_code == 200


@pytest.mark.parametrize(
    "current",
    [
        "not the password at all",
        PASSWORD.upper(),
        PASSWORD + " ",
        PASSWORD[:-1],
        "",
        "x" * 5000,
        "\x00" + PASSWORD,
    ],
)
def test_it_leaves_the_password_unchanged_without_the_right_current_one(world: World, current: str):
    browser = portal_client(world.carol)
    response = browser.post(
        "/accounts/password/change/",
        {"oldpassword": current, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code in (200, 400)
    world.carol.refresh_from_db()
    assert world.carol.check_password(PASSWORD)
    assert not world.carol.check_password(NEW_PASSWORD)
    assert browser.get("/").status_code == 200  # a refused change does not sign anyone out


def test_it_changes_it_with_the_right_current_one_and_only_then(world: World):
    browser = portal_client(world.carol)
    wrong = browser.post(
        "/accounts/password/change/",
        {
            "oldpassword": "not the password at all",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 200 and "oldpassword" in wrong.context["form"].errors
    right = browser.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert right.status_code == 302
    assert _signs_in(world.carol.email, NEW_PASSWORD)
    assert not _signs_in(world.carol.email, PASSWORD)
