from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.test import Client
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.accounts.services import user_create
from revisit.breakglass.models import BreakGlassGrant
from revisit.breakglass.services import grant_create
from revisit.recordings.models import (
    Recording,
    RecordingSource,
    RecordingStatus,
    Rendition,
    RenditionKind,
)
from revisit.review.tests.conftest import Ready, make_ready_recording
from revisit.testing.actors import PASSWORD, TOTP_SECRET, World, enrol_totp
from revisit.testing.asgi import RawResponse, call
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind

REASON = "Client reported in danger; therapist unreachable on call line"


@pytest.fixture
def ready(world: World) -> Ready:
    return make_ready_recording(world)


def current_code() -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(TOTP_SECRET, counter)))


def mark_mfa_confirmed(browser: Client, user: User, *, ago: float = 0, method: str = "mfa") -> None:
    """What allauth records in the session after a re-authentication (time travel by `ago`)."""
    session = browser.session
    session["account_authentication_methods"] = [
        {"method": method, "at": time.time() - ago, "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def admin_in(practice: Any, email: str) -> User:
    user = user_create(practice=practice, email=email, role=Role.ADMIN, password=PASSWORD)
    enrol_totp(user)
    return user


def grant_for(admin: User, client: User, *, minutes: int = 60) -> BreakGlassGrant:
    return grant_create(
        admin=admin,
        client_id=client.pk,
        reason=REASON,
        minutes=minutes,
        mfa_confirmed_at=timezone.now(),
    )


def recording_of(world: World, client: User) -> Recording:
    """A small playable recording of another client of alice's."""
    recording = Recording.objects.create(
        practice=world.practice,
        therapist=world.alice,
        client=client,
        title="Session 1",
        source=RecordingSource.UPLOAD,
        status=RecordingStatus.READY,
        progress=1.0,
        duration=60.0,
        original=vault.vault_seal_bytes(
            practice_id=world.practice.pk, kind=ObjectKind.ORIGINAL, data=b"o"
        ),
        shareable_at=timezone.now(),
    )
    sealed = vault.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.RENDITION, data=b"a" * 1000
    )
    Rendition.objects.create(recording=recording, kind=RenditionKind.AUDIO, sealed=sealed)
    return recording


def media(browser: Client, rendition: Rendition, query: str = "") -> RawResponse:
    """A media request with the browser's session cookie, through the raw ASGI handler."""
    from revisit.edge import media as handler

    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    url = f"/media/{rendition.pk}" + (f"?{query}" if query else "")
    return call(
        lambda scope, receive, send: asyncio.run(handler.app(scope, receive, send)),
        "GET",
        url,
        headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}", "Range": "bytes=0-99"},
    )
