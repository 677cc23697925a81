from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from revisit.testing.actors import World, api_client, portal_client

pytestmark = pytest.mark.django_db


def test_it_sends_staff_without_mfa_to_set_it_up(world: World):
    Authenticator.objects.filter(user=world.alice).delete()
    response = portal_client(world.alice).get("/clients/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"


def test_it_lets_staff_set_up_mfa(world: World):
    Authenticator.objects.filter(user=world.alice).delete()
    browser = portal_client(world.alice)
    assert browser.get("/accounts/2fa/").status_code == 200
    response = browser.get("/accounts/2fa/totp/activate/")
    # Adding an authenticator first asks for the password again; neither page loops back.
    assert response.status_code == 302 and response["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    assert browser.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("who", ["alice", "sam", "ada"])
def test_it_refuses_the_api_to_staff_without_mfa(world: World, who: str):
    user = getattr(world, who)
    Authenticator.objects.filter(user=user).delete()
    response = api_client(user).get("/api/v1/me")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


def test_it_does_not_require_mfa_of_clients(world: World):
    assert portal_client(world.carol).get("/").status_code == 200
    assert api_client(world.carol).get("/api/v1/me").status_code == 200


def test_it_lets_staff_with_mfa_through(world: World):
    assert portal_client(world.alice).get("/clients/").status_code == 200
