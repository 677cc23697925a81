"""What was deleted and why, what must not be deleted yet, and which shares have run out.

A deletion record holds kinds, ids, times and reasons only: never content, titles or names, so it
can be kept (and shown to an auditor) long after the object itself is gone. Like the audit log it
has no foreign key to what it describes, so it outlives it.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone


class DeletionReason(models.TextChoices):
    RETENTION = "retention", "Retention period ended"
    CONSENT_REVOKED = "consent_revoked", "Client withdrew consent"
    THERAPIST_DELETED = "therapist_deleted", "Deleted by the therapist"


class DeletedKind(models.TextChoices):
    RECORDING = "recording", "Recording"
    ORIGINAL = "original", "Original recording file"
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"
    POSTER = "poster", "Poster image"
    WAVEFORM = "waveform", "Waveform"
    TRANSCRIPT = "transcript", "Transcript"
    CAPTIONS = "captions", "Captions"
    CHAPTERS = "chapters", "Chapters"
    SEARCH = "search", "Search index"
    NOTE = "note", "Note"


class DeletionRecord(models.Model):
    """One object that was deleted (crypto-shredded): what kind, its id, when and why."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    kind = models.CharField(max_length=16, choices=DeletedKind.choices)
    object_id = models.UUIDField()  # the recording, rendition or sealed object
    variant = models.CharField(max_length=16, blank=True)  # "full" or "client" for renditions
    recording_id = models.UUIDField(null=True, blank=True)  # what it belonged to
    sealed_object_id = models.UUIDField(null=True, blank=True)  # the key record destroyed
    reason = models.CharField(max_length=32, choices=DeletionReason.choices)
    actor_id = models.UUIDField(null=True, blank=True)  # None: the retention task
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="deletion_once")
        ]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["practice", "deleted_at"]),
            models.Index(fields=["recording_id"]),
        ]

    def __str__(self) -> str:
        return f"Deletion record {self.id}"


class LegalHold(models.Model):
    """Nothing of a client (or of one of their recordings) may be deleted while this stands.

    `recording_id` None holds every recording of the client. The reason is for staff only; it never
    goes into the audit log or any log.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    client = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recording_id = models.UUIDField(null=True, blank=True)  # no FK: the hold's history outlives it
    reason = models.CharField(max_length=300)
    placed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "released_at"]),
        ]

    def __str__(self) -> str:
        return f"Legal hold {self.id}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class ShareExpiry(models.Model):
    """Marks a share whose expiry the retention task has recorded, so it is audited once."""

    share = models.OneToOneField(
        "review.Share", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Expiry of share {self.pk}"
