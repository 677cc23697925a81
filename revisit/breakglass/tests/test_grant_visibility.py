from __future__ import annotations

import pytest

from revisit.audit.events import Event
from revisit.breakglass.models import BreakGlassPolicy
from revisit.breakglass.tests.conftest import REASON, admin_in, grant_for
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db


def test_it_shows_active_and_past_grants_to_the_practices_other_admins(world: World):
    colleague = admin_in(world.practice, "ava@example.org")
    ended = grant_for(world.ada, world.dave)
    portal_client(world.ada).post(f"/emergency-access/{ended.pk}/end/")
    grant_for(world.ada, world.carol)
    browser = portal_client(colleague)

    home = browser.get("/practice/people/").content.decode()
    assert "1 emergency access grant is active now" in home
    assert "started 2 times in the last 30 days" in home
    page = browser.get("/emergency-access/").content.decode()
    active, past = page.split('id="past-heading"')
    assert "Carol" in active and "Dave" not in active
    assert "Dave" in past and "ended early" in past
    assert page.count(REASON) == 2


def test_it_keeps_grants_within_the_practice(world: World):
    grant_for(world.ada, world.carol)
    outsider = admin_in(world.other_practice, "otto@example.net")
    browser = portal_client(outsider)
    assert (
        "No emergency access in the last 30 days"
        in browser.get("/practice/people/").content.decode()
    )
    assert REASON not in browser.get("/emergency-access/").content.decode()


def test_it_tells_the_client_when_and_for_how_long_but_not_why(world: World):
    grant_for(world.ada, world.carol, minutes=30)
    carols = portal_client(world.carol).get("/").content.decode()
    assert "Emergency access to your recordings" in carols
    assert "up to 30 minutes" in carols
    assert REASON not in carols and "Ada" not in carols
    daves = portal_client(world.dave).get("/").content.decode()
    assert "Emergency access to your recordings" not in daves


def test_it_keeps_it_from_clients_when_the_practice_chooses_so(world: World):
    grant_for(world.ada, world.carol)
    admin = portal_client(world.ada)

    assert admin.post("/emergency-access/policy/", {}).status_code == 302

    assert BreakGlassPolicy.objects.get(practice=world.practice).tell_client is False
    entry = assert_audited(Event.BREAK_GLASS, actor=world.ada)
    assert entry.detail == {"action": "policy", "tell_client": False}
    carols = portal_client(world.carol).get("/").content.decode()
    assert "Emergency access to your recordings" not in carols
    admin.post("/emergency-access/policy/", {"tell_client": "on"})
    assert (
        "Emergency access to your recordings"
        in portal_client(world.carol).get("/").content.decode()
    )


def test_it_tells_clients_by_default(world: World):
    assert not BreakGlassPolicy.objects.exists()
    page = portal_client(world.ada).get("/emergency-access/").content.decode()
    assert 'name="tell_client" id="id_tell_client" checked' in page
