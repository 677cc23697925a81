"""Reads of recordings, scoped to what the asking person may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from revisit.accounts.models import Role, Supervision, User
from revisit.lib.stt import Transcript
from revisit.recordings.models import (
    Consent,
    ConsentScope,
    Recording,
    Rendition,
    RenditionKind,
)


def recordings_visible_to(user: User) -> QuerySet[Recording]:
    base = Recording.objects.filter(practice_id=user.practice_id).select_related("client")
    if user.role == Role.THERAPIST:
        return base.filter(therapist=user).order_by("-created_at")
    if user.role == Role.CLIENT:
        return (
            base.filter(
                client=user,
                shares__client=user,
                shares__revoked_at=None,
                shares__expires_at__gt=timezone.now(),
            )
            .distinct()
            .order_by("-created_at")
        )
    if user.role == Role.SUPERVISOR:
        supervised = Supervision.objects.filter(supervisor=user).values("therapist_id")
        consenting = Consent.objects.filter(scope=ConsentScope.SUPERVISION, revoked_at=None).values(
            "client_id"
        )
        return base.filter(Q(therapist_id__in=supervised) & Q(client_id__in=consenting)).order_by(
            "-created_at"
        )
    return base.none()


def full_transcript(recording: Recording) -> Transcript | None:
    """The therapist's (full) transcript of a recording, decrypted; None until there is one."""
    from revisit.vault.services import vault_read_bytes

    rendition = Rendition.objects.filter(
        recording=recording, kind=RenditionKind.TRANSCRIPT, variant="full"
    ).first()
    if rendition is None:
        return None
    return Transcript.from_json(vault_read_bytes(rendition.sealed).decode())
