from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from revisit.accounts.models import ApiToken
from revisit.accounts.services import token_authenticate, token_create, token_revoke
from revisit.audit.events import Event
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db


def test_it_creates_a_token_shown_once_and_stored_as_a_digest(world: World):
    browser = portal_client(world.carol)
    response = browser.post("/security/", {"name": "my script", "expires_in_days": 30})
    page = response.content.decode()
    token = ApiToken.objects.get(user=world.carol)
    start = page.index("rvt_" + token.prefix + "_")
    plaintext = page[start : page.index("<", start)]
    assert token_authenticate(raw=plaintext) == world.carol
    assert plaintext not in (token.digest, token.prefix)
    assert plaintext not in browser.get("/security/").content.decode()
    assert_audited(Event.TOKEN_CREATED, actor=world.carol)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "rvt_",
        "rvt_abc",
        "Bearer x",
        "rvt_000000000000_nope",
        "x" * 500,
        "rvt_" + "z" * 12 + "_" + "y" * 40,
    ],
)
def test_it_rejects_malformed_or_unknown_tokens(world: World, raw: str):
    token_create(user=world.carol)
    assert token_authenticate(raw=raw) is None


def test_it_rejects_expired_and_revoked_tokens(world: World):
    expired = token_create(user=world.carol)
    ApiToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert token_authenticate(raw=expired.plaintext) is None
    revoked = token_create(user=world.carol)
    token_revoke(token=revoked.token, actor=world.carol)
    assert token_authenticate(raw=revoked.plaintext) is None
    assert_audited(Event.TOKEN_REVOKED, actor=world.carol)


def test_it_rejects_a_token_with_a_changed_secret(world: World):
    issued = token_create(user=world.carol)
    tampered = issued.plaintext[:-1] + ("A" if issued.plaintext[-1] != "A" else "B")
    assert token_authenticate(raw=tampered) is None


def test_it_rejects_tokens_of_deactivated_people(world: World):
    issued = token_create(user=world.carol)
    world.carol.is_active = False
    world.carol.save()
    assert token_authenticate(raw=issued.plaintext) is None


def test_it_revokes_from_the_security_page(world: World):
    issued = token_create(user=world.carol)
    browser = portal_client(world.carol)
    response = browser.post(f"/security/tokens/{issued.token.pk}/revoke/")
    assert response.status_code == 302
    api = Client(headers={"Authorization": f"Bearer {issued.plaintext}"})
    assert api.get("/api/v1/me").status_code == 401


def test_it_checks_ownership(world: World):
    issued = token_create(user=world.carol)
    for intruder in (world.dave, world.alice, world.mallory):
        response = portal_client(intruder).post(f"/security/tokens/{issued.token.pk}/revoke/")
        assert response.status_code == 404
    assert token_authenticate(raw=issued.plaintext) == world.carol
