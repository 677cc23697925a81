"""Writes for people, practices, invitations and API tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from revisit.accounts.models import (
    STAFF_ROLES,
    ApiToken,
    CaseloadEntry,
    Invitation,
    Practice,
    Role,
    Supervision,
    User,
)
from revisit.audit.events import Event
from revisit.audit.services import audit_record

TOKEN_PREFIX = "rvt_"  # noqa: S105  (a public prefix, not a secret)


class AccountsError(Exception):
    """A request that cannot be carried out, with a message fit to show the person."""


def _digest(purpose: str, value: str) -> str:
    return salted_hmac(f"revisit.{purpose}", value, algorithm="sha256").hexdigest()


# --- Practices and people ---------------------------------------------------------------------


def practice_create(*, name: str, crisis_resources: str = "") -> Practice:
    with transaction.atomic():
        practice = Practice.objects.create(name=name, crisis_resources=crisis_resources)
        audit_record(event=Event.PRACTICE_CREATED, practice=practice, subject=practice)
    return practice


def user_create(
    *,
    practice: Practice,
    email: str,
    role: Role,
    display_name: str = "",
    password: str | None = None,
    is_trainee: bool = False,
    is_active: bool = True,
) -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise AccountsError("An account with this email address already exists.")
    return User.objects.create_user(
        email,
        password,
        practice=practice,
        role=role,
        display_name=display_name,
        is_trainee=is_trainee,
        is_active=is_active,
    )


def caseload_add(*, therapist: User, client: User, actor: User | None = None) -> CaseloadEntry:
    if therapist.role != Role.THERAPIST or client.role != Role.CLIENT:
        raise AccountsError("Only a client can join a therapist's caseload.")
    if therapist.practice_id != client.practice_id:
        raise AccountsError("That client belongs to another practice.")
    with transaction.atomic():
        entry, created = CaseloadEntry.objects.get_or_create(
            therapist=therapist, client=client, defaults={"practice_id": therapist.practice_id}
        )
        if created:
            audit_record(
                event=Event.CASELOAD_ADDED,
                actor=actor or therapist,
                practice=therapist.practice_id,
                subject=client,
                subject_type="user",
                detail={"therapist": str(therapist.pk)},
            )
    return entry


def supervision_add(*, supervisor: User, therapist: User) -> Supervision:
    if supervisor.role != Role.SUPERVISOR or therapist.role != Role.THERAPIST:
        raise AccountsError("A supervisor can only supervise a therapist.")
    if supervisor.practice_id != therapist.practice_id:
        raise AccountsError("That therapist belongs to another practice.")
    entry, _ = Supervision.objects.get_or_create(
        supervisor=supervisor, therapist=therapist, defaults={"practice_id": therapist.practice_id}
    )
    return entry


# --- Invitations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    key: str  # shown once, in the link; only its digest is stored

    @property
    def path(self) -> str:
        return f"/invite/{self.key}/"


def _may_invite(inviter: User, role: Role) -> bool:
    if inviter.role == Role.ADMIN:
        return True
    return inviter.role == Role.THERAPIST and role == Role.CLIENT


def invitation_create(
    *, inviter: User, email: str, role: Role = Role.CLIENT, display_name: str = ""
) -> IssuedInvitation:
    """Invite someone into the inviter's practice and email them a one-time link.

    A client is added to the inviting therapist's caseload at once (marked as not yet joined), so
    the therapist can prepare before the client accepts. The email carries no health information:
    no practice, therapist or session names, only the link.
    """
    if not _may_invite(inviter, role):
        raise AccountsError("You cannot invite someone with that role.")
    email = email.strip().lower()
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        existing = User.objects.filter(email=email).first()
        if existing is not None:
            if existing.practice_id != inviter.practice_id or existing.role != role:
                raise AccountsError("An account with this email address already exists.")
            if existing.has_usable_password():
                raise AccountsError("This person already has an account; they can sign in.")
            user = existing
            Invitation.objects.filter(user=user, accepted_at=None, withdrawn_at=None).update(
                withdrawn_at=now
            )
        else:
            user = user_create(
                practice=inviter.practice,
                email=email,
                role=role,
                display_name=display_name,
                is_active=False,
            )
        invitation = Invitation.objects.create(
            practice=inviter.practice,
            user=user,
            invited_by=inviter,
            key_digest=_digest("invitation", key),
            expires_at=now + timedelta(hours=settings.INVITATION_TTL_HOURS),
        )
        if role == Role.CLIENT and inviter.role == Role.THERAPIST:
            caseload_add(therapist=inviter, client=user)
        audit_record(
            event=Event.INVITATION_SENT,
            actor=inviter,
            practice=inviter.practice_id,
            subject=invitation,
            detail={"user": str(user.pk), "role": str(role)},
        )
        issued = IssuedInvitation(invitation=invitation, key=key)
        link = f"{settings.PUBLIC_URL}{issued.path}"
        hours = settings.INVITATION_TTL_HOURS
        transaction.on_commit(
            lambda: send_mail(
                subject="Revisit: you have been invited",
                message=(
                    "You have been invited to set up an account on a secure Revisit portal.\n\n"
                    f"Open this link within {hours} hours to choose your password:\n{link}\n\n"
                    "The link works once. If you were not expecting this, you can ignore it.\n"
                ),
                from_email=None,
                recipient_list=[email],
            )
        )
    return issued


def invitation_find(*, key: str) -> Invitation | None:
    """The pending invitation for a key, or None when unknown, used, withdrawn or expired."""
    if not key or len(key) > 100:
        return None
    invitation = (
        Invitation.objects.select_related("user")
        .filter(key_digest=_digest("invitation", key))
        .first()
    )
    if invitation is None or invitation.accepted_at or invitation.withdrawn_at:
        return None
    if invitation.expires_at <= timezone.now():
        return None
    return invitation


def invitation_accept(*, key: str, password: str) -> User:
    with transaction.atomic():
        invitation = invitation_find(key=key)
        if invitation is None:
            raise AccountsError("This invitation link is not valid any more.")
        # Lock the row so two tabs cannot both accept.
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise AccountsError("This invitation link is not valid any more.")
        user = invitation.user
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        audit_record(
            event=Event.INVITATION_ACCEPTED,
            actor=user,
            practice=user.practice_id,
            subject=locked,
        )
    return user


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown once


def token_create(
    *, user: User, name: str = "API token", expires_in_days: int | None = None
) -> IssuedToken:
    if not user.is_active:
        raise AccountsError("Tokens can only be made for active accounts.")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise AccountsError("A token must expire in 1 to 3650 days.")
    days = expires_in_days or settings.API_TOKEN_DEFAULT_DAYS
    prefix = secrets.token_hex(6)
    plaintext = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100] or "API token",
            prefix=prefix,
            digest=_digest("api-token", plaintext),
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            event=Event.TOKEN_CREATED,
            actor=user,
            practice=user.practice_id,
            subject=token,
            subject_type="api_token",
        )
    return IssuedToken(token=token, plaintext=plaintext)


TOKEN_TOUCH_EVERY = timedelta(minutes=5)  # how coarse a token's last-used time is


@dataclass(frozen=True)
class TokenClaim:
    """A well-formed bearer token, taken apart: its public prefix and the digest to compare."""

    prefix: str
    digest: str


def token_parse(*, raw: str) -> TokenClaim | None:
    """Split a presented token; None for anything that is not shaped like one of ours."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    prefix, sep, _ = raw[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12:
        return None
    return TokenClaim(prefix=prefix, digest=_digest("api-token", raw))


def token_authenticate(*, raw: str) -> User | None:
    """The active user a bearer token belongs to, or None for anything malformed or unusable."""
    claim = token_parse(raw=raw)
    if claim is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=claim.prefix).first()
    if token is None or not constant_time_compare(token.digest, claim.digest):
        return None
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def token_revoke(*, token: ApiToken, actor: User) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())
        audit_record(
            event=Event.TOKEN_REVOKED,
            actor=actor,
            practice=actor.practice_id,
            subject=token,
            subject_type="api_token",
        )


def user_requires_mfa(user: User) -> bool:
    return user.role in STAFF_ROLES
