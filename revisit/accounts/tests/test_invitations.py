from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from revisit.accounts.models import Invitation, Role, User
from revisit.accounts.services import AccountsError, invitation_create
from revisit.audit.events import Event
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db


def _invite(world: World, email: str = "newclient@example.org") -> tuple[str, User]:
    issued = invitation_create(inviter=world.alice, email=email, display_name="Nina Client")
    return issued.path, issued.invitation.user


def test_it_invites_a_client_into_the_caseload(world: World, django_capture_on_commit_callbacks):
    client = portal_client(world.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/clients/", {"email": "Nina@Example.org", "display_name": "Nina"})
    assert response.status_code == 302
    nina = User.objects.get(email="nina@example.org")
    assert nina.role == Role.CLIENT and not nina.is_active and not nina.has_usable_password()
    assert world.alice.caseload.filter(client=nina).exists()
    assert len(mail.outbox) == 1
    assert_audited(Event.INVITATION_SENT, actor=world.alice)


def test_it_sends_an_email_without_health_information(
    world: World, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        path, _ = _invite(world)
    message = mail.outbox[0]
    text = f"{message.subject}\n{message.body}"
    for secret in [world.practice.name, "Alice", "Nina", world.alice.email, "Riverside"]:
        assert secret not in text
    assert path in message.body


def test_it_moves_the_key_out_of_the_url_and_sets_a_password(world: World):
    path, user = _invite(world)
    browser = Client()
    response = browser.get(path)
    assert response.status_code == 302 and response["Location"] == "/invite/accept/"
    page = browser.get("/invite/accept/")
    assert page.status_code == 200 and user.email in page.content.decode()
    response = browser.post(
        "/invite/accept/", {"password1": "a calm river bend", "password2": "a calm river bend"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.check_password("a calm river bend")
    assert browser.get("/").status_code == 200  # signed in
    assert_audited(Event.INVITATION_ACCEPTED, actor=user)


def test_it_refuses_a_used_link(world: World):
    path, _ = _invite(world)
    first = Client()
    first.get(path)
    first.post(
        "/invite/accept/", {"password1": "a calm river bend", "password2": "a calm river bend"}
    )
    second = Client()
    second.get(path)
    response = second.get("/invite/accept/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_it_refuses_an_expired_link(world: World):
    path, user = _invite(world)
    Invitation.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    browser = Client()
    browser.get(path)
    response = browser.post(
        "/invite/accept/", {"password1": "a calm river bend", "password2": "a calm river bend"}
    )
    assert response.status_code == 404
    user.refresh_from_db()
    assert not user.is_active


@pytest.mark.parametrize("key", ["unknown-key-0000000000", "x", "%00", "a" * 300])
def test_it_refuses_unknown_links_with_the_same_page(world: World, key: str):
    browser = Client()
    browser.get(f"/invite/{key}/")
    response = browser.get("/invite/accept/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_it_withdraws_the_old_link_when_reinviting(world: World):
    old_path, user = _invite(world)
    new_path, same_user = _invite(world)
    assert user == same_user
    browser = Client()
    browser.get(old_path)
    assert browser.get("/invite/accept/").status_code == 404
    browser.get(new_path)
    assert browser.get("/invite/accept/").status_code == 200


def test_it_checks_passwords_match_and_are_strong(world: World):
    path, user = _invite(world)
    browser = Client()
    browser.get(path)
    mismatch = browser.post(
        "/invite/accept/", {"password1": "a calm river bend", "password2": "other"}
    )
    assert "not the same" in mismatch.content.decode()
    weak = browser.post("/invite/accept/", {"password1": "12345678", "password2": "12345678"})
    assert weak.status_code == 200
    user.refresh_from_db()
    assert not user.is_active


def test_it_stores_only_a_digest_of_the_key(world: World):
    path, user = _invite(world)
    key = path.strip("/").split("/")[1]
    invitation = Invitation.objects.get(user=user)
    assert key not in invitation.key_digest and len(invitation.key_digest) == 64


def test_it_lets_only_allowed_roles_invite(world: World):
    with pytest.raises(AccountsError):
        invitation_create(inviter=world.carol, email="x@example.org")
    with pytest.raises(AccountsError):
        invitation_create(inviter=world.alice, email="x@example.org", role=Role.ADMIN)
    invitation_create(inviter=world.ada, email="newtherapist@example.org", role=Role.THERAPIST)


def test_it_does_not_take_over_an_account_in_another_practice(world: World):
    with pytest.raises(AccountsError):
        invitation_create(inviter=world.alice, email=world.eve.email)
