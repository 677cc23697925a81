"""Named actors shared by every test.

alice is a therapist (a trainee, supervised by sam); carol and dave are her clients; bob is another
therapist in the same practice; ada administers the practice; mallory is a therapist in another
practice with her own client, eve. Staff have an authenticator enrolled, as the portal requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

# Django is imported lazily: this plugin also loads for tests that run without Django.
if TYPE_CHECKING:
    from django.test import Client

    from revisit.accounts.models import Practice, Role, User
    from revisit.audit.events import Event
    from revisit.audit.models import AuditEvent

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class World:
    practice: Practice
    other_practice: Practice
    alice: User
    bob: User
    carol: User
    dave: User
    sam: User
    ada: User
    mallory: User
    eve: User

    def everyone(self) -> list[User]:
        return [
            self.alice,
            self.bob,
            self.carol,
            self.dave,
            self.sam,
            self.ada,
            self.mallory,
            self.eve,
        ]


def enrol_totp(user: User, secret: str = TOTP_SECRET) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


def make_world() -> World:
    from revisit.accounts.models import Role
    from revisit.accounts.services import (
        caseload_add,
        practice_create,
        supervision_add,
        user_create,
    )

    practice = practice_create(name="Riverside Counselling")
    other = practice_create(name="Elsewhere Clinic")

    def person(p: Practice, email: str, role: Role, **extra: Any) -> User:
        user = user_create(practice=p, email=email, role=role, password=PASSWORD, **extra)
        if user.is_staff_role:
            enrol_totp(user)
        return user

    alice = person(
        practice, "alice@example.org", Role.THERAPIST, display_name="Alice", is_trainee=True
    )
    bob = person(practice, "bob@example.org", Role.THERAPIST, display_name="Bob")
    carol = person(practice, "carol@example.org", Role.CLIENT, display_name="Carol")
    dave = person(practice, "dave@example.org", Role.CLIENT, display_name="Dave")
    sam = person(practice, "sam@example.org", Role.SUPERVISOR, display_name="Sam")
    ada = person(practice, "ada@example.org", Role.ADMIN, display_name="Ada")
    mallory = person(other, "mallory@example.net", Role.THERAPIST, display_name="Mallory")
    eve = person(other, "eve@example.net", Role.CLIENT, display_name="Eve")
    caseload_add(therapist=alice, client=carol)
    caseload_add(therapist=alice, client=dave)
    caseload_add(therapist=mallory, client=eve)
    supervision_add(supervisor=sam, therapist=alice)
    return World(practice, other, alice, bob, carol, dave, sam, ada, mallory, eve)


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@pytest.fixture
def alice(world: World) -> User:
    return world.alice


@pytest.fixture
def carol(world: World) -> User:
    return world.carol


@pytest.fixture
def mallory(world: World) -> User:
    return world.mallory


def api_client(user: User) -> Client:
    """A test client that authenticates with a fresh personal token, like an integration would."""
    from django.test import Client

    from revisit.accounts.services import token_create

    issued = token_create(user=user, name="test")
    return Client(headers={"Authorization": f"Bearer {issued.plaintext}"})


def portal_client(user: User) -> Client:
    """A signed-in browser session (MFA already passed)."""
    from django.test import Client

    client = Client()
    client.force_login(user, backend="allauth.account.auth_backends.AuthenticationBackend")
    return client


def assert_audited(event: Event, *, actor: User | None = None, subject: Any = None) -> AuditEvent:
    from revisit.audit.models import AuditEvent

    entries = AuditEvent.objects.filter(event=int(event))
    if actor is not None:
        entries = entries.filter(actor_id=actor.pk)
    if subject is not None:
        entries = entries.filter(subject_id=str(getattr(subject, "pk", subject)))
    entry = entries.order_by("-seq").first()
    assert entry is not None, (
        f"expected an audit entry {event.name} (actor={actor}, subject={subject})"
    )
    return entry
