"""Sharing a recording with its client, and taking it back."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.consent import ConsentMissingError, consent_require
from revisit.recordings.models import ConsentScope, Recording, RecordingStatus
from revisit.review.models import Share


class ShareError(Exception):
    """A share that cannot be made; the message says why, in plain words."""


def share_create(
    *,
    recording: Recording,
    actor: User,
    expires_at: datetime | None = None,
    allow_video: bool = True,
    allow_transcript: bool = True,
    allow_download: bool = False,
) -> Share:
    """Share a recording with its client (the recording's therapist only; consent required).

    The client is emailed that something is ready, without a title, a name or a note.
    """
    if actor.role != Role.THERAPIST or recording.therapist_id != actor.pk:
        raise ShareError("Only the recording's therapist can share it.")
    if recording.shareable_at is None or recording.status == RecordingStatus.FAILED:
        raise ShareError("This recording is not ready to share yet.")
    try:
        consent_require(client=recording.client, scope=ConsentScope.CLIENT_REVIEW)
    except ConsentMissingError as exc:
        raise ShareError(str(exc)) from None
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(days=recording.practice.share_days_default)
    if expires_at <= now:
        raise ShareError("The expiry must be in the future.")
    if expires_at > now + timedelta(days=3650):
        raise ShareError("A share can last ten years at most.")
    with transaction.atomic():
        share = Share.objects.create(
            practice_id=recording.practice_id,
            recording=recording,
            client_id=recording.client_id,
            created_by=actor,
            expires_at=expires_at,
            allow_video=allow_video,
            allow_transcript=allow_transcript,
            allow_download=allow_download,
        )
        audit_record(
            event=Event.SHARE_CREATED,
            actor=actor,
            practice=recording.practice_id,
            subject=share,
            detail={
                "recording": str(recording.pk),
                "client": str(recording.client_id),
                "video": allow_video,
                "transcript": allow_transcript,
                "download": allow_download,
            },
        )
        email = recording.client.email
        link = f"{settings.PUBLIC_URL}/"
        transaction.on_commit(
            lambda: send_mail(
                subject="Revisit: something is ready for you",
                message=(
                    "Something has been shared with you on your secure Revisit portal.\n\n"
                    f"Sign in to see it: {link}\n"
                ),
                from_email=None,
                recipient_list=[email],
            )
        )
    return share


def share_revoke(*, share: Share, actor: User, reason: str = "revoked") -> bool:
    """End a share at once: the next request for its media is refused."""
    with transaction.atomic():
        updated = Share.objects.filter(pk=share.pk, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit_record(
                event=Event.SHARE_REVOKED,
                actor=actor,
                practice=share.practice_id,
                subject=share,
                detail={"recording": str(share.recording_id), "reason": reason},
            )
    share.refresh_from_db()
    return bool(updated)


def shares_end_for_client(*, client: User, actor: User | None, reason: str) -> int:
    """End every active share made to this client, at once (e.g. when they withdraw consent to
    review). Run inside the caller's transaction; returns how many shares ended."""
    now = timezone.now()
    ended = 0
    with transaction.atomic():
        active = Share.objects.filter(client=client, revoked_at=None, expires_at__gt=now)
        for share in active.order_by("created_at"):
            if not Share.objects.filter(pk=share.pk, revoked_at=None).update(revoked_at=now):
                continue  # ended by someone else meanwhile
            audit_record(
                event=Event.SHARE_REVOKED,
                actor=actor,
                practice=share.practice_id,
                subject=share,
                detail={"recording": str(share.recording_id), "reason": reason},
            )
            ended += 1
    return ended
