"""Reads for shares, scoped to the asking person."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.ids import parse_id
from revisit.review.models import Share


def shares_visible_to(user: User) -> QuerySet[Share]:
    """A therapist sees the shares she made; a client the active shares made to them."""
    base = Share.objects.select_related("recording").filter(practice_id=user.practice_id)
    if user.role == Role.THERAPIST:
        return base.filter(created_by=user).order_by("-created_at")
    if user.role == Role.CLIENT:
        return base.filter(client=user, revoked_at=None, expires_at__gt=timezone.now()).order_by(
            "-created_at"
        )
    return base.none()


def share_of(*, user: User, share_id: object) -> Share | None:
    pk = parse_id(share_id)
    if pk is None:
        return None
    return shares_visible_to(user).filter(pk=pk).first()
