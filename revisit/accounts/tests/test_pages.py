from __future__ import annotations

import pytest
from django.test import Client

from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("alice", "/clients/", 200),
        ("bob", "/clients/", 200),
        ("carol", "/clients/", 404),
        ("sam", "/clients/", 404),
        ("ada", "/clients/", 404),
        ("ada", "/practice/people/", 200),
        ("alice", "/practice/people/", 404),
        ("carol", "/practice/people/", 404),
        ("carol", "/", 200),
        ("sam", "/", 200),
        ("alice", "/", 302),
        ("carol", "/security/", 200),
    ],
)
def test_it_shows_each_role_its_pages(world: World, who: str, path: str, status: int):
    assert portal_client(getattr(world, who)).get(path).status_code == status


def test_it_shows_a_therapist_only_her_own_caseload(world: World):
    page = portal_client(world.alice).get("/clients/").content.decode()
    assert world.carol.email in page and world.dave.email in page
    assert world.eve.email not in page
    assert world.carol.email not in portal_client(world.bob).get("/clients/").content.decode()


def test_it_shows_an_admin_only_her_own_practice(world: World):
    page = portal_client(world.ada).get("/practice/people/").content.decode()
    assert world.alice.email in page and world.mallory.email not in page


def test_it_asks_visitors_to_sign_in(world: World):
    response = Client().get("/clients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_leaves_quickly(world: World):
    browser = portal_client(world.carol)
    response = browser.get("/quick-exit/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "Revisit" not in response.content.decode()
    assert browser.get("/").status_code == 302  # signed out


def test_it_sets_a_strict_content_security_policy(world: World):
    response = portal_client(world.carol).get("/")
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_it_keeps_signed_in_pages_out_of_caches_and_warns_before_idle_sign_out(world: World):
    response = portal_client(world.carol).get("/")
    assert response["Cache-Control"] == "no-store, private"
    assert 'data-idle-timeout="1800"' in response.content.decode()
