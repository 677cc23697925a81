"""Importing existing recordings from files: the same checks and sealing as an upload."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import is_in_caseload
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib.ffmpeg import FfmpegError
from revisit.lib.ffprobe import MediaRejected, probe
from revisit.lib.media_check import validate_media
from revisit.recordings.consent import consent_require
from revisit.recordings.mediainfo import media_summary
from revisit.recordings.models import ConsentScope, Recording, RecordingSource, RecordingStatus
from revisit.recordings.tasks import enqueue_processing
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind


class ImportRefused(Exception):
    """A file that cannot be imported; the message is fit to show."""


def recording_import(*, path: Path, therapist: User, client: User, title: str = "") -> Recording:
    """Check a media file, seal it as a recording's original, and queue its processing."""
    if therapist.role != Role.THERAPIST:
        raise ImportRefused("Recordings are imported for a therapist.")
    if not is_in_caseload(therapist=therapist, client=client):
        raise ImportRefused("That client is not in the therapist's caseload.")
    consent_require(client=client, scope=ConsentScope.RECORDING)
    try:
        info = probe(path)
        validate_media(
            info,
            max_duration_s=settings.MEDIA_MAX_DURATION_S,
            max_width=settings.MEDIA_MAX_WIDTH,
            max_height=settings.MEDIA_MAX_HEIGHT,
        )
    except MediaRejected as exc:
        raise ImportRefused(exc.message) from None
    except FfmpegError:
        raise ImportRefused("This file could not be read as audio or video.") from None
    with transaction.atomic():
        with open(path, "rb") as source:
            original = vault.vault_seal(
                practice_id=therapist.practice_id, kind=ObjectKind.ORIGINAL, source=source
            )
        recording = Recording.objects.create(
            practice_id=therapist.practice_id,
            therapist=therapist,
            client=client,
            title=(title.strip() or path.stem)[:200],
            source=RecordingSource.IMPORT,
            status=RecordingStatus.PROCESSING,
            duration=info.duration_s,
            media_info=media_summary(info),
            original=original,
        )
        audit_record(
            event=Event.RECORDING_CREATED,
            actor=therapist,
            practice=therapist.practice_id,
            subject=recording,
            detail={"client": str(client.pk), "source": "import"},
        )
        enqueue_processing(recording)
    return recording
