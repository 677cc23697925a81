from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from revisit.breakglass.models import BreakGlassGrant
from revisit.breakglass.services import BreakGlassError, grant_create
from revisit.breakglass.tests.conftest import REASON, admin_in, grant_for, mark_mfa_confirmed
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db


def _post(world: World, **changes: object):
    admin = portal_client(world.ada)
    mark_mfa_confirmed(admin, world.ada)
    data = {"client": str(world.carol.pk), "reason": REASON, "minutes": "60", **changes}
    return admin.post("/emergency-access/new/", data)


@pytest.mark.parametrize(
    "client",
    ["eve", "alice", "ada", "", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "' OR 1=1"],
)
def test_it_accepts_only_a_client_of_the_practice(world: World, client: str):
    value = str(getattr(world, client).pk) if hasattr(world, client) and client else client
    response = _post(world, client=value)
    assert response.status_code == 400
    assert response.context["form"].errors["client"]
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("minutes", ["0", "-5", "241", "999", "abc", "", "60.5"])
def test_it_accepts_only_offered_durations(world: World, minutes: str):
    response = _post(world, minutes=minutes)
    assert response.status_code == 400
    assert response.context["form"].errors["minutes"]
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("minutes", [0, -1, 241, True])
def test_the_service_checks_the_duration_too(world: World, minutes: int):
    with pytest.raises(BreakGlassError):
        grant_create(
            admin=world.ada,
            client_id=world.carol.pk,
            reason=REASON,
            minutes=minutes,
            mfa_confirmed_at=timezone.now(),
        )


def test_the_service_refuses_another_practices_client(world: World):
    with pytest.raises(BreakGlassError):
        grant_create(
            admin=world.ada,
            client_id=world.eve.pk,
            reason=REASON,
            minutes=60,
            mfa_confirmed_at=timezone.now(),
        )


@pytest.mark.parametrize(
    "grant_id", ["nope", "00000000-0000-0000-0000-000000000000", str(uuid.uuid4()), "1 OR 1=1"]
)
def test_it_answers_404_for_unknown_or_malformed_grant_ids(world: World, grant_id: str):
    admin = portal_client(world.ada)
    assert admin.get(f"/emergency-access/{grant_id}/").status_code == 404
    assert admin.post(f"/emergency-access/{grant_id}/end/").status_code == 404
    assert admin.get(f"/emergency-access/{grant_id}/recordings/{uuid.uuid4()}/").status_code == 404


def test_it_answers_404_for_another_admins_grant(world: World):
    grant = grant_for(world.ada, world.carol)
    colleague = portal_client(admin_in(world.practice, "ava@example.org"))
    outsider = portal_client(admin_in(world.other_practice, "otto@example.net"))
    for browser in (colleague, outsider):
        assert browser.get(f"/emergency-access/{grant.pk}/").status_code == 404
        assert browser.post(f"/emergency-access/{grant.pk}/end/").status_code == 404
    grant.refresh_from_db()
    assert grant.is_active()


@pytest.mark.parametrize("recording_id", ["nope", str(uuid.uuid4()), "..%2F..%2Fetc"])
def test_it_answers_404_for_tampered_recording_ids(world: World, recording_id: str):
    grant = grant_for(world.ada, world.carol)
    admin = portal_client(world.ada)
    response = admin.get(f"/emergency-access/{grant.pk}/recordings/{recording_id}/")
    assert response.status_code == 404
