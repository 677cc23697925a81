from __future__ import annotations

import pytest

from revisit.accounts.models import Role
from revisit.accounts.services import user_create
from revisit.accounts.signins import EndReason
from revisit.audit.events import Event
from revisit.testing.actors import (
    PASSWORD,
    World,
    api_client,
    assert_audited,
    enrol_totp,
    portal_client,
)

pytestmark = pytest.mark.django_db


def test_it_lets_a_practice_admin_end_all_sessions_of_a_member(world: World):
    laptop, phone = portal_client(world.alice), portal_client(world.alice)
    laptop.get("/clients/")
    phone.get("/clients/")
    integration = api_client(world.alice)
    admin = portal_client(world.ada)

    response = admin.post(f"/practice/people/{world.alice.pk}/sessions/end/")

    assert response.status_code == 302 and response["Location"] == "/practice/people/"
    assert laptop.get("/clients/").status_code == 302
    assert phone.get("/api/v1/me").status_code == 401
    assert integration.get("/api/v1/me").status_code == 200  # tokens are separate
    assert admin.get("/practice/people/").status_code == 200
    entry = assert_audited(Event.SESSIONS_ENDED, actor=world.ada, subject=world.alice)
    assert entry.detail["reason"] == EndReason.ADMIN and entry.detail["count"] == 2


def test_it_offers_the_button_on_the_people_page(world: World):
    page = portal_client(world.ada).get("/practice/people/").content.decode()
    assert f"/practice/people/{world.alice.pk}/sessions/end/" in page


def test_it_answers_404_to_an_admin_of_another_practice(world: World):
    victim = portal_client(world.alice)
    victim.get("/clients/")
    outsider = user_create(
        practice=world.other_practice, email="otto@example.net", role=Role.ADMIN, password=PASSWORD
    )
    enrol_totp(outsider)

    response = portal_client(outsider).post(f"/practice/people/{world.alice.pk}/sessions/end/")

    assert response.status_code == 404
    assert victim.get("/clients/").status_code == 200


@pytest.mark.parametrize("who", ["alice", "sam", "carol"])
def test_it_answers_404_to_everyone_but_admins(world: World, who: str):
    victim = portal_client(world.dave)
    victim.get("/")
    response = portal_client(getattr(world, who)).post(
        f"/practice/people/{world.dave.pk}/sessions/end/"
    )
    assert response.status_code == 404
    assert victim.get("/").status_code == 200


@pytest.mark.parametrize("user_id", ["nope", "00000000-0000-0000-0000-000000000000", "1 OR 1=1"])
def test_it_answers_404_for_unknown_or_malformed_ids(world: World, user_id: str):
    assert (
        portal_client(world.ada).post(f"/practice/people/{user_id}/sessions/end/").status_code
        == 404
    )


def test_it_keeps_the_admins_own_session_when_she_ends_her_own(world: World):
    here, there = portal_client(world.ada), portal_client(world.ada)
    there.get("/practice/people/")
    here.post(f"/practice/people/{world.ada.pk}/sessions/end/")
    assert here.get("/practice/people/").status_code == 200
    assert there.get("/practice/people/").status_code == 302
