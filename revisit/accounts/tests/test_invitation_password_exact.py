"""The password chosen on the invitation page is kept exactly as typed (ASVS V6.2.8)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from revisit.accounts.services import invitation_create
from revisit.testing.actors import World

pytestmark = pytest.mark.django_db

EMAIL = "newclient@example.org"


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def _accept(world: World, password: str) -> Client:
    issued = invitation_create(inviter=world.alice, email=EMAIL, display_name="New Client")
    browser = Client()
    browser.get(issued.path)
    response = browser.post("/invite/accept/", {"password1": password, "password2": password})
    assert response.status_code == 302, "the invitation page refused a valid password"
    return browser


def _signs_in(password: str) -> bool:
    browser = Client()
    browser.post("/accounts/login/", {"login": EMAIL, "password": password})
    return browser.get("/").status_code == 200


@pytest.mark.parametrize(
    "password",
    ["  a calm river bend  ", "\ta calm river bend", "a calm river bend ", " a calm river bend"],
)
def test_it_keeps_spaces_around_a_password_set_on_the_invitation_page(world: World, password: str):
    _accept(world, password)
    assert _signs_in(password)
    assert not _signs_in(password.strip())


def test_it_keeps_spaces_inside_and_the_letter_case_as_typed(world: World):
    typed = "A  Calm River  Bend"
    _accept(world, typed)
    assert _signs_in(typed)
    assert not _signs_in("A Calm River Bend")
    assert not _signs_in(typed.lower())
