"""Reads for retention: legal holds and deletion records, scoped to the asking person."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import client_in_caseload
from revisit.ids import parse_id
from revisit.recordings.models import Recording
from revisit.retention.models import DeletionRecord, LegalHold


def recording_is_held(*, recording_id: UUID, client_id: UUID) -> bool:
    """Whether a standing legal hold covers this recording (its own, or all of its client's)."""
    return (
        LegalHold.objects.filter(released_at=None, client_id=client_id)
        .filter(Q(recording_id=None) | Q(recording_id=recording_id))
        .exists()
    )


def client_for_holds(*, user: User, client_id: object) -> User | None:
    """The client whose holds this person may see and set: a therapist's own client, or any client
    of an admin's practice. None otherwise (the page answers 404)."""
    if user.role == Role.THERAPIST:
        return client_in_caseload(therapist=user, client_id=client_id)
    if user.role == Role.ADMIN:
        pk = parse_id(client_id)
        if pk is None:
            return None
        return User.objects.filter(pk=pk, role=Role.CLIENT, practice_id=user.practice_id).first()
    return None


def recordings_for_holds(*, user: User, client: User) -> QuerySet[Recording]:
    """Recordings of this client one person may hold: a therapist her own, an admin all."""
    recordings = Recording.objects.filter(client=client, practice_id=client.practice_id)
    if user.role != Role.ADMIN:
        recordings = recordings.filter(therapist=user)
    return recordings.order_by("-created_at")


def holds_of_client(*, client: User) -> QuerySet[LegalHold]:
    return (
        LegalHold.objects.filter(client=client)
        .select_related("placed_by", "released_by")
        .order_by("released_at", "-placed_at")
    )


def hold_for(*, user: User, hold_id: object) -> LegalHold | None:
    """A hold this person may release: an admin any in her practice; a therapist those she placed
    on her own clients."""
    pk = parse_id(hold_id)
    if pk is None:
        return None
    hold = LegalHold.objects.filter(pk=pk, practice_id=user.practice_id).first()
    if hold is None:
        return None
    if user.role == Role.ADMIN:
        return hold
    if user.role == Role.THERAPIST and hold.placed_by_id == user.pk:
        return hold if client_in_caseload(therapist=user, client_id=hold.client_id) else None
    return None


def active_holds(*, practice_id: UUID) -> QuerySet[LegalHold]:
    return (
        LegalHold.objects.filter(practice_id=practice_id, released_at=None)
        .select_related("client", "placed_by")
        .order_by("-placed_at")
    )


def recent_deletions(*, practice_id: UUID, limit: int = 25) -> QuerySet[DeletionRecord]:
    return DeletionRecord.objects.filter(practice_id=practice_id).order_by("-deleted_at")[:limit]
