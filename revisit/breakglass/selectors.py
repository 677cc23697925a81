"""Reads for emergency access, scoped to the asking person's practice."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.breakglass.models import BreakGlassGrant, BreakGlassPolicy
from revisit.ids import parse_id
from revisit.recordings.models import Recording
from revisit.vault.services import vault_read_bytes

RECENT = timedelta(days=30)


def active_grant(*, admin: User, client_id: UUID) -> BreakGlassGrant | None:
    """The admin's grant that lets them see this client's recordings now, if any.

    Decided from the database on every call (no cache): an ended or expired grant stops the next
    request, including the next range request of a video already playing.
    """
    if admin.role != Role.ADMIN or not admin.is_active:
        return None
    return (
        BreakGlassGrant.objects.filter(
            admin=admin,
            practice_id=admin.practice_id,
            client_id=client_id,
            ended_at=None,
            expires_at__gt=timezone.now(),
        )
        .order_by("-expires_at")
        .first()
    )


def practice_grants(*, admin: User) -> QuerySet[BreakGlassGrant]:
    """Every grant in the admin's practice, newest first (active and past)."""
    return (
        BreakGlassGrant.objects.filter(practice_id=admin.practice_id)
        .select_related("admin", "client", "ended_by", "reason")
        .order_by("-created_at")
    )


def own_grant(*, admin: User, grant_id: object) -> BreakGlassGrant | None:
    """One of this admin's own grants by id; None for anyone else's, or a malformed id."""
    pk = parse_id(grant_id)
    if pk is None or admin.role != Role.ADMIN:
        return None
    return (
        BreakGlassGrant.objects.filter(pk=pk, admin=admin, practice_id=admin.practice_id)
        .select_related("client")
        .first()
    )


def grant_recordings(grant: BreakGlassGrant) -> QuerySet[Recording]:
    return Recording.objects.filter(
        practice_id=grant.practice_id, client_id=grant.client_id
    ).order_by("-created_at")


def grant_recording(*, grant: BreakGlassGrant, recording_id: object) -> Recording | None:
    pk = parse_id(recording_id)
    if pk is None:
        return None
    return grant_recordings(grant).select_related("client").filter(pk=pk).first()


def reason_text(grant: BreakGlassGrant) -> str:
    """The written reason, for the practice's admins; empty once its key has been destroyed."""
    if grant.reason.shredded_at is not None:
        return ""
    return vault_read_bytes(grant.reason, max_bytes=64 << 10).decode("utf-8")


def policy_for(practice_id: UUID) -> BreakGlassPolicy:
    """The practice's policy; the defaults (unsaved) when it never changed them."""
    found = BreakGlassPolicy.objects.filter(practice_id=practice_id).first()
    return found or BreakGlassPolicy(practice_id=practice_id)


def grants_told_to_client(*, client: User, limit: int = 20) -> list[BreakGlassGrant]:
    """What a client is shown about emergency access to their recordings (none if the practice
    chose not to tell clients)."""
    if client.role != Role.CLIENT or not policy_for(client.practice_id).tell_client:
        return []
    return list(
        BreakGlassGrant.objects.filter(client=client, practice_id=client.practice_id).order_by(
            "-created_at"
        )[:limit]
    )


def notice_for_admin(*, admin: User) -> tuple[int, int]:
    """(active now, started in the last 30 days) in the admin's practice."""
    now = timezone.now()
    grants = BreakGlassGrant.objects.filter(practice_id=admin.practice_id)
    active = grants.filter(ended_at=None, expires_at__gt=now).count()
    recent = grants.filter(created_at__gte=now - RECENT).count()
    return active, recent
