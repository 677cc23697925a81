"""Writes for emergency access: granting it, ending it early, and the practice's policy."""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.account import app_settings as account_settings
from django.db import transaction
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.breakglass.models import MAX_MINUTES, BreakGlassGrant, BreakGlassPolicy
from revisit.breakglass.selectors import active_grant
from revisit.ids import parse_id
from revisit.vault.models import ObjectKind
from revisit.vault.services import vault_seal_bytes

REASON_MIN = 20
REASON_MAX = 2000


class BreakGlassError(Exception):
    """A request that cannot be carried out, with a message fit to show the person."""


class ReauthenticationNeeded(BreakGlassError):
    """The admin has not confirmed their second factor recently enough."""


def reauthentication_window() -> timedelta:
    """How long a second-factor confirmation counts (django-allauth's re-authentication time)."""
    return timedelta(seconds=int(account_settings.REAUTHENTICATION_TIMEOUT))


def clean_reason(reason: str) -> str:
    text = reason.strip()
    if len(text) < REASON_MIN:
        raise BreakGlassError(
            f"Write why you need emergency access, in at least {REASON_MIN} characters. "
            "The practice's other admins will read it."
        )
    if len(text) > REASON_MAX:
        raise BreakGlassError(f"Keep the reason to at most {REASON_MAX} characters.")
    return text


def grant_create(
    *,
    admin: User,
    client_id: object,
    reason: str,
    minutes: int,
    mfa_confirmed_at: datetime | None,
) -> BreakGlassGrant:
    """Give a practice admin read-only access to one client's recordings for `minutes`.

    `mfa_confirmed_at` is when the admin last confirmed their second factor in this session; it
    must be within the re-authentication window. The reason is sealed; the audit entry and logs
    hold ids and the duration only.
    """
    if admin.role != Role.ADMIN or not admin.is_active:
        raise BreakGlassError("Only a practice admin can use emergency access.")
    now = timezone.now()
    if mfa_confirmed_at is None or now - mfa_confirmed_at > reauthentication_window():
        raise ReauthenticationNeeded(
            "Confirm it is you with your authenticator or passkey, then try again."
        )
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise BreakGlassError(f"Emergency access lasts from 1 to {MAX_MINUTES} minutes.")
    text = clean_reason(reason)
    pk = parse_id(client_id)
    client = (
        None
        if pk is None
        else User.objects.filter(pk=pk, practice_id=admin.practice_id, role=Role.CLIENT).first()
    )
    if client is None:
        raise BreakGlassError("Choose a client of this practice.")
    if active_grant(admin=admin, client_id=client.pk) is not None:
        raise BreakGlassError(
            "You already have emergency access to this client's recordings. End it first if "
            "you need a different length of time."
        )
    sealed_reason = vault_seal_bytes(
        practice_id=admin.practice_id, kind=ObjectKind.NOTE, data=text.encode("utf-8")
    )
    with transaction.atomic():
        grant = BreakGlassGrant.objects.create(
            practice_id=admin.practice_id,
            admin=admin,
            client=client,
            reason=sealed_reason,
            minutes=minutes,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        audit_record(
            event=Event.BREAK_GLASS,
            actor=admin,
            practice=admin.practice_id,
            subject=grant,
            subject_type="break_glass_grant",
            detail={"action": "granted", "client": str(client.pk), "minutes": minutes},
        )
    return grant


def grant_end(*, grant: BreakGlassGrant, actor: User) -> bool:
    """End a grant now; False when it had already ended or expired."""
    if actor.role != Role.ADMIN or actor.practice_id != grant.practice_id:
        raise BreakGlassError("Only a practice admin of this practice can end emergency access.")
    now = timezone.now()
    with transaction.atomic():
        ended = BreakGlassGrant.objects.filter(
            pk=grant.pk, ended_at=None, expires_at__gt=now
        ).update(ended_at=now, ended_by=actor)
        if ended:
            audit_record(
                event=Event.BREAK_GLASS,
                actor=actor,
                practice=grant.practice_id,
                subject=grant,
                subject_type="break_glass_grant",
                detail={"action": "ended", "client": str(grant.client_id)},
            )
    grant.refresh_from_db()
    return bool(ended)


def policy_set(*, admin: User, tell_client: bool) -> BreakGlassPolicy:
    if admin.role != Role.ADMIN or not admin.is_active:
        raise BreakGlassError("Only a practice admin can change this.")
    with transaction.atomic():
        policy, _ = BreakGlassPolicy.objects.update_or_create(
            practice_id=admin.practice_id,
            defaults={"tell_client": tell_client, "updated_at": timezone.now()},
        )
        audit_record(
            event=Event.BREAK_GLASS,
            actor=admin,
            practice=admin.practice_id,
            subject_type="break_glass_policy",
            subject_id=str(admin.practice_id),
            detail={"action": "policy", "tell_client": tell_client},
        )
    return policy
