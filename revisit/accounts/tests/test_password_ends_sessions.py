from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from revisit.accounts.signins import EndReason
from revisit.audit.events import Event
from revisit.testing.actors import PASSWORD, World, api_client, assert_audited, portal_client

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and longer passphrase 42"


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def test_it_ends_every_other_session_when_the_password_changes(world: World):
    here, there = portal_client(world.carol), portal_client(world.carol)
    there.get("/")
    here.get("/")
    integration = api_client(world.carol)

    response = here.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert here.get("/").status_code == 200  # the browser that changed it stays signed in
    assert there.get("/").status_code == 302
    assert integration.get("/api/v1/me").status_code == 200
    entry = assert_audited(Event.SESSIONS_ENDED, actor=world.carol, subject=world.carol)
    assert entry.detail["reason"] == EndReason.PASSWORD_CHANGED and entry.detail["count"] == 1
    page = here.get("/security/sessions/").content.decode()
    assert page.count("<tr>") == 2  # the header row and this session


def test_it_ends_every_session_when_the_password_is_reset(world: World):
    there = portal_client(world.carol)
    there.get("/")
    visitor = Client()

    visitor.post("/accounts/password/reset/", {"email": world.carol.email})
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", str(mail.outbox[-1].body))
    assert link is not None
    form_page = visitor.get(link.group(0).split("testserver", 1)[-1], follow=True)
    response = visitor.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(0),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert there.get("/").status_code == 302
    entry = assert_audited(Event.SESSIONS_ENDED, subject=world.carol)
    assert entry.detail["reason"] == EndReason.PASSWORD_RESET and entry.detail["count"] == 1
