"""Deleting session content for good: crypto-shredding through the vault, with a record of each.

Every function here runs inside one transaction per recording and starts by claiming the
recording's row with a conditional update. That lock serialises it with a legal hold being placed
(which touches the same row), and with another worker doing the same job: whoever comes second
finds the work done (or the recording gone) and does nothing. A legal hold is checked after the
claim, so a hold that committed first always wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.models import Recording, RecordingStatus, Rendition, RenditionKind, Upload
from revisit.retention.models import DeletedKind, DeletionReason, DeletionRecord
from revisit.retention.selectors import recording_is_held
from revisit.vault import services as vault
from revisit.vault.models import SealedObject

TRANSCRIPT_KINDS = (
    RenditionKind.TRANSCRIPT,
    RenditionKind.CAPTIONS,
    RenditionKind.CHAPTERS,
    RenditionKind.SEARCH,
)


class RecordingHeldError(Exception):
    """A legal hold covers the recording: nothing of it may be deleted until the hold is lifted."""

    def __init__(self, recording_id: uuid.UUID) -> None:
        self.recording_id = recording_id
        super().__init__(
            "A legal hold covers this recording, so nothing of it can be deleted. "
            "Lift the hold first (the client's Legal hold page)."
        )


class RecordingBusyError(Exception):
    """The recording is being processed right now; try again when its job has finished."""

    def __init__(self, recording_id: uuid.UUID) -> None:
        self.recording_id = recording_id
        super().__init__("This recording is being processed; delete it once processing ends.")


@dataclass
class ShredOutcome:
    recordings: int = 0  # recordings something was shredded from
    objects: int = 0  # sealed objects shredded
    held: list[str] = field(default_factory=list)  # recording ids a legal hold kept


def _claim(recording_id: uuid.UUID) -> bool:
    """Lock the recording's row for this transaction; False when it no longer exists."""
    return bool(Recording.objects.filter(pk=recording_id).update(updated_at=F("updated_at")))


def _record(
    *,
    practice_id: uuid.UUID,
    kind: str,
    object_id: uuid.UUID,
    reason: DeletionReason,
    actor: User | None,
    recording_id: uuid.UUID | None,
    sealed_object_id: uuid.UUID | None = None,
    variant: str = "",
) -> None:
    DeletionRecord.objects.create(
        practice_id=practice_id,
        kind=kind,
        object_id=object_id,
        variant=variant,
        recording_id=recording_id,
        sealed_object_id=sealed_object_id,
        reason=reason,
        actor_id=actor.pk if actor is not None else None,
    )


def _shred_rendition(
    rendition: Rendition, *, reason: DeletionReason, actor: User | None, practice_id: uuid.UUID
) -> bool:
    if not Rendition.objects.filter(pk=rendition.pk).delete()[0]:
        return False  # already gone
    vault.vault_shred(rendition.sealed, reason=reason.value, actor=actor)
    _record(
        practice_id=practice_id,
        kind=rendition.kind,
        object_id=rendition.pk,
        variant=rendition.variant,
        recording_id=rendition.recording_id,
        sealed_object_id=rendition.sealed_id,
        reason=reason,
        actor=actor,
    )
    return True


def transcripts_shred(*, recording: Recording, reason: DeletionReason, actor: User | None) -> int:
    """Shred a recording's transcripts, captions, chapters and search indexes (full and client
    versions). Returns how many objects were shredded; raises RecordingHeldError under a hold."""
    with transaction.atomic():
        if not _claim(recording.pk):
            return 0
        if recording_is_held(recording_id=recording.pk, client_id=recording.client_id):
            raise RecordingHeldError(recording.pk)
        renditions = Rendition.objects.filter(
            recording_id=recording.pk, kind__in=TRANSCRIPT_KINDS
        ).select_related("sealed")
        return sum(
            _shred_rendition(r, reason=reason, actor=actor, practice_id=recording.practice_id)
            for r in renditions
        )


def client_transcripts_shred(
    *, client: User, reason: DeletionReason, actor: User | None
) -> ShredOutcome:
    """Shred the transcripts of every recording of a client (those a legal hold covers stay,
    and are listed in `held`)."""
    outcome = ShredOutcome()
    recordings = Recording.objects.filter(
        client=client, renditions__kind__in=TRANSCRIPT_KINDS
    ).distinct()
    for recording in recordings:
        try:
            shredded = transcripts_shred(recording=recording, reason=reason, actor=actor)
        except RecordingHeldError:
            outcome.held.append(str(recording.pk))
            continue
        if shredded:
            outcome.recordings += 1
            outcome.objects += shredded
    return outcome


def _notes_of(recording: Recording) -> list[SealedObject]:
    """Sealed texts that belong to a recording: highlights, its content note, and on each share
    the client's bookmarks and rating comments."""
    from revisit.review.models import Bookmark, ContentNote, Highlight, Rating

    ids: list[uuid.UUID] = []
    ids += Highlight.objects.filter(recording=recording).values_list("note_id", flat=True)
    ids += ContentNote.objects.filter(recording=recording).values_list("text_id", flat=True)
    ids += Bookmark.objects.filter(share__recording=recording).values_list("note_id", flat=True)
    ids += (
        Rating.objects.filter(share__recording=recording)
        .exclude(comment=None)
        .values_list("comment_id", flat=True)
    )
    return list(SealedObject.objects.filter(pk__in=ids))


def recording_destroy(
    *, recording: Recording, reason: DeletionReason, actor: User | None
) -> int | None:
    """Delete a recording for good: shred its original, every rendition (both versions), its
    notes and its clients' notes on it; remove its rows (shares and reviews with it); leave
    deletion records. Returns the number of objects shredded, or None when it was already gone.

    Raises RecordingHeldError under a legal hold and RecordingBusyError while it is processed.
    """
    recording_id = recording.pk
    with transaction.atomic():
        if not _claim(recording_id):
            return None
        fresh = Recording.objects.select_related("original").get(pk=recording_id)
        if recording_is_held(recording_id=recording_id, client_id=fresh.client_id):
            raise RecordingHeldError(recording_id)
        lease = fresh.job_lease_until
        if fresh.status == RecordingStatus.PROCESSING and lease and lease > timezone.now():
            raise RecordingBusyError(recording_id)
        practice_id = fresh.practice_id
        shredded = 0
        for rendition in Rendition.objects.filter(recording=fresh).select_related("sealed"):
            shredded += _shred_rendition(
                rendition, reason=reason, actor=actor, practice_id=practice_id
            )
        owned = [(note, DeletedKind.NOTE) for note in _notes_of(fresh)]
        if fresh.original is not None:
            owned.append((fresh.original, DeletedKind.ORIGINAL))
        for obj, kind in owned:
            vault.vault_shred(obj, reason=reason.value, actor=actor)
            _record(
                practice_id=practice_id,
                kind=kind,
                object_id=obj.pk,
                recording_id=recording_id,
                sealed_object_id=obj.pk,
                reason=reason,
                actor=actor,
            )
            shredded += 1
        # The upload that made it carries the title; the key records stay, emptied.
        Upload.objects.filter(recording_id=recording_id).delete()
        fresh.delete()
        _record(
            practice_id=practice_id,
            kind=DeletedKind.RECORDING,
            object_id=recording_id,
            recording_id=recording_id,
            reason=reason,
            actor=actor,
        )
        audit_record(
            event=Event.RECORDING_DELETED,
            actor=actor,
            practice=practice_id,
            subject_type="recording",
            subject_id=str(recording_id),
            detail={"reason": reason.value, "objects": shredded},
        )
    return shredded
