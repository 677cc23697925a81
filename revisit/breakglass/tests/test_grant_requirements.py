from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.breakglass.models import BreakGlassGrant
from revisit.breakglass.services import BreakGlassError, ReauthenticationNeeded, grant_create
from revisit.breakglass.tests.conftest import REASON, current_code, mark_mfa_confirmed
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def _form(world: World, **changes: object) -> dict[str, object]:
    return {"client": str(world.carol.pk), "reason": REASON, "minutes": "60", **changes}


def test_it_sends_an_admin_to_confirm_her_second_factor_first(world: World):
    admin = portal_client(world.ada)

    response = admin.get("/emergency-access/new/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/reauthenticate/?next=%2Femergency-access%2Fnew%2F"
    response = admin.post(
        "/accounts/2fa/reauthenticate/?next=/emergency-access/new/", {"code": current_code()}
    )
    assert response.status_code == 302 and response["Location"] == "/emergency-access/new/"
    assert admin.get("/emergency-access/new/").status_code == 200
    response = admin.post("/emergency-access/new/", _form(world))

    grant = BreakGlassGrant.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/emergency-access/{grant.pk}/"
    assert grant.admin == world.ada and grant.client == world.carol
    assert grant.expires_at - grant.created_at == timedelta(minutes=60)
    entry = assert_audited(Event.BREAK_GLASS, actor=world.ada, subject=grant)
    assert entry.detail == {"action": "granted", "client": str(world.carol.pk), "minutes": 60}


def test_it_does_not_count_a_password_confirmation_or_a_stale_one(world: World):
    admin = portal_client(world.ada)
    mark_mfa_confirmed(admin, world.ada, method="password")
    assert admin.get("/emergency-access/new/").status_code == 302
    mark_mfa_confirmed(admin, world.ada, ago=301)
    assert admin.post("/emergency-access/new/", _form(world)).status_code == 302
    assert not BreakGlassGrant.objects.exists()
    mark_mfa_confirmed(admin, world.ada, ago=10)
    assert admin.post("/emergency-access/new/", _form(world)).status_code == 302
    assert BreakGlassGrant.objects.count() == 1


def test_it_refuses_a_service_call_without_a_recent_confirmation(world: World):
    for confirmed in (None, timezone.now() - timedelta(minutes=6)):
        with pytest.raises(ReauthenticationNeeded):
            grant_create(
                admin=world.ada,
                client_id=world.carol.pk,
                reason=REASON,
                minutes=60,
                mfa_confirmed_at=confirmed,
            )
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("who", ["alice", "bob", "sam", "carol", "mallory"])
def test_it_exists_only_for_practice_admins(world: World, who: str):
    person = getattr(world, who)
    browser = portal_client(person)
    mark_mfa_confirmed(browser, person)
    for path in ("/emergency-access/", "/emergency-access/new/"):
        assert browser.get(path).status_code == 404
    assert browser.post("/emergency-access/new/", _form(world)).status_code == 404
    assert browser.post("/emergency-access/policy/", {}).status_code == 404
    with pytest.raises(BreakGlassError):
        grant_create(
            admin=person,
            client_id=world.carol.pk,
            reason=REASON,
            minutes=60,
            mfa_confirmed_at=timezone.now(),
        )
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize(
    "reason",
    ["", "   ", "because", "x" * 19, " " * 30 + "short" + " " * 30, "y" * 2001, "z" * 100_000],
)
def test_it_requires_a_written_reason_of_sensible_length(world: World, reason: str):
    admin = portal_client(world.ada)
    mark_mfa_confirmed(admin, world.ada)
    response = admin.post("/emergency-access/new/", _form(world, reason=reason))
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert not BreakGlassGrant.objects.exists()


def test_it_never_puts_the_reason_in_the_audit_log_or_the_logs(world: World, caplog):
    admin = portal_client(world.ada)
    mark_mfa_confirmed(admin, world.ada)
    with caplog.at_level("DEBUG"):
        admin.post("/emergency-access/new/", _form(world))
        admin.get("/emergency-access/")
    assert BreakGlassGrant.objects.count() == 1
    assert "therapist unreachable" not in caplog.text
    details = json.dumps([e.detail for e in AuditEvent.objects.all()])
    assert "therapist unreachable" not in details
    assert BreakGlassGrant.objects.filter(reason__kind="note").count() == 1


def test_it_refuses_a_second_grant_for_the_same_client_while_one_is_open(world: World):
    admin = portal_client(world.ada)
    mark_mfa_confirmed(admin, world.ada)
    assert admin.post("/emergency-access/new/", _form(world)).status_code == 302
    response = admin.post("/emergency-access/new/", _form(world, minutes="240"))
    assert response.status_code == 400
    assert "already have emergency access" in response.content.decode()
    assert BreakGlassGrant.objects.count() == 1
