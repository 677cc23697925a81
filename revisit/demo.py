"""The demo practice: people to try Revisit with, created once and described once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from revisit.accounts.models import Practice, Role, User
from revisit.accounts.services import (
    caseload_add,
    practice_create,
    supervision_add,
    user_create,
)

DEMO_PRACTICE = "Demo Practice"
SAMPLE_SESSION = Path(__file__).resolve().parent / "testing" / "fixtures" / "annomi-0-stereo.mp4"
DEMO_DOMAIN = "demo.revisit.test"

# (local part, role, display name, trainee)
DEMO_PEOPLE = [
    ("alice", Role.THERAPIST, "Alice Moreno", True),
    ("carol", Role.CLIENT, "Carol Jensen", False),
    ("dave", Role.CLIENT, "Dave Okafor", False),
    ("sam", Role.SUPERVISOR, "Sam Whitfield", False),
    ("admin", Role.ADMIN, "Practice Admin", False),
]

CRISIS_RESOURCES = (
    "If you feel unsafe right now, call your local emergency number. "
    "In the US you can call or text 988 (Suicide & Crisis Lifeline) at any time."
)


@dataclass
class DemoAccount:
    email: str
    role: str
    password: str
    totp_secret: str = ""


@dataclass
class DemoResult:
    created: bool
    accounts: list[DemoAccount] = field(default_factory=list)


def _password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


def demo_create() -> DemoResult:
    """Create the demo practice unless it exists. Passwords are returned once, never stored."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    if Practice.objects.filter(name=DEMO_PRACTICE).exists():
        return DemoResult(created=False)
    result = DemoResult(created=True)
    with transaction.atomic():
        practice = practice_create(name=DEMO_PRACTICE, crisis_resources=CRISIS_RESOURCES)
        people: dict[str, User] = {}
        for local, role, name, trainee in DEMO_PEOPLE:
            password = _password()
            user = user_create(
                practice=practice,
                email=f"{local}@{DEMO_DOMAIN}",
                role=role,
                display_name=name,
                password=password,
                is_trainee=trainee,
            )
            account = DemoAccount(email=user.email, role=role.label, password=password)
            if user.is_staff_role:
                # Staff must use two-step sign-in; the demo enrols an authenticator for them.
                account.totp_secret = generate_totp_secret()
                TOTP.activate(user, account.totp_secret)
            people[local] = user
            result.accounts.append(account)
        caseload_add(therapist=people["alice"], client=people["carol"])
        caseload_add(therapist=people["alice"], client=people["dave"])
        supervision_add(supervisor=people["sam"], therapist=people["alice"])
        _sample_session(therapist=people["alice"], client=people["carol"])
    return result


def _sample_session(*, therapist: User, client: User) -> None:
    """Carol agreed (verbally, as Alice attests) and Alice imported a short sample session.

    The sample is spoken from a published counselling dialogue (see the fixture's README); the
    worker processes it like any other recording.
    """
    from revisit.recordings.consent import consent_give
    from revisit.recordings.imports import recording_import
    from revisit.recordings.models import ConsentMethod, ConsentScope

    for scope in (ConsentScope.RECORDING, ConsentScope.CLIENT_REVIEW, ConsentScope.TRANSCRIPTION):
        consent_give(client=client, scope=scope, actor=therapist, method=ConsentMethod.VERBAL)
    recording_import(
        path=SAMPLE_SESSION, therapist=therapist, client=client, title="Sample session: first visit"
    )


def describe(result: DemoResult, *, url: str) -> str:
    if not result.created:
        return (
            f"The demo practice already exists at {url} (its passwords were shown when it was "
            "created). To start over, stop Revisit and remove the data folder."
        )
    lines = [f"Demo practice ready at {url}", "Sign in with (shown once, not stored):"]
    for account in result.accounts:
        lines.append(f"  {account.role:<15} {account.email:<28} password {account.password}")
        if account.totp_secret:
            lines.append(
                f"  {'':<15} {'':<28} authenticator secret {account.totp_secret} "
                "(add it to an authenticator app for the 6-digit code)"
            )
    return "\n".join(lines)
