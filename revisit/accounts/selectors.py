"""Reads for people and practices, always scoped to what the asking user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from revisit.accounts.models import ApiToken, CaseloadEntry, Role, User
from revisit.ids import parse_id


def caseload_clients(*, therapist: User) -> QuerySet[User]:
    return User.objects.filter(
        role=Role.CLIENT, practice_id=therapist.practice_id, therapists__therapist=therapist
    ).order_by("display_name", "email")


def client_in_caseload(*, therapist: User, client_id: object) -> User | None:
    """The client with this id if they are in this therapist's caseload; None otherwise."""
    pk = parse_id(client_id)
    if pk is None:
        return None
    return caseload_clients(therapist=therapist).filter(pk=pk).first()


def client_by_reference(*, therapist: User, reference: str) -> User | None:
    """Find a client in the caseload by id or by email (as tus Upload-Metadata allows)."""
    if "@" in reference:
        return caseload_clients(therapist=therapist).filter(email=reference.strip().lower()).first()
    return client_in_caseload(therapist=therapist, client_id=reference)


def practice_members(*, admin: User) -> QuerySet[User]:
    return User.objects.filter(practice_id=admin.practice_id).order_by("role", "email")


def practice_clients(*, admin: User) -> QuerySet[User]:
    """The clients of the admin's practice, by name."""
    return User.objects.filter(practice_id=admin.practice_id, role=Role.CLIENT).order_by(
        "display_name", "email"
    )


def tokens_for(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def token_of(*, user: User, token_id: object) -> ApiToken | None:
    pk = parse_id(token_id)
    if pk is None:
        return None
    return tokens_for(user=user).filter(pk=pk).first()


def is_in_caseload(*, therapist: User, client: User) -> bool:
    return CaseloadEntry.objects.filter(therapist=therapist, client=client).exists()


def has_mfa(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return bool(
        Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
        ).exists()
    )
