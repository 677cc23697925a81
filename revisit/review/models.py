"""Sharing a recording with its client, what is held back, and what the client does with it."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone


class Share(models.Model):
    """A therapist lets a client review one recording, until it expires or is revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    recording = models.ForeignKey(
        "recordings.Recording", on_delete=models.CASCADE, related_name="shares"
    )
    client = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="shares")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    allow_video = models.BooleanField(default=True)
    allow_transcript = models.BooleanField(default=True)
    allow_download = models.BooleanField(default=False)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "recording", "revoked_at", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"Share {self.id}"

    def is_active(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and self.expires_at > moment  # type: ignore[operator]


class HoldBack(models.Model):
    """A time range the therapist withholds from the client (silenced and blacked out)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recording = models.ForeignKey(
        "recordings.Recording", on_delete=models.CASCADE, related_name="holdbacks"
    )
    start = models.FloatField()
    end = models.FloatField()
    reason = models.CharField(
        max_length=32,
        choices=[
            ("third_party", "Third-party information"),
            ("harmful", "Judged harmful"),
            ("other", "Other"),
        ],
        default="other",
    )
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Hold-back {self.id}"


class PlaybackSession(models.Model):
    """One person's viewing of one rendition: audited once, not per range request."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    rendition = models.ForeignKey(
        "recordings.Rendition", on_delete=models.CASCADE, related_name="+"
    )
    share = models.ForeignKey(Share, on_delete=models.CASCADE, null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    bytes_sent = models.BigIntegerField(default=0)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "rendition", "last_seen_at"]),
        ]

    def __str__(self) -> str:
        return f"Playback {self.id}"


class Highlight(models.Model):
    """A therapist's "moment to revisit", with a note (sealed)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recording = models.ForeignKey(
        "recordings.Recording", on_delete=models.CASCADE, related_name="highlights"
    )
    at = models.FloatField()
    note = models.ForeignKey("vault.SealedObject", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Highlight {self.id}"


class ContentNote(models.Model):
    """What the client is told before playing (e.g. "we talk about your father's illness")."""

    recording = models.OneToOneField(
        "recordings.Recording", on_delete=models.CASCADE, related_name="content_note"
    )
    text = models.ForeignKey("vault.SealedObject", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Content note {self.pk}"


class Bookmark(models.Model):
    """A client's bookmark with a private note (sealed); shared only if they bring it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="bookmarks")
    client = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    at = models.FloatField()
    note = models.ForeignKey("vault.SealedObject", on_delete=models.PROTECT, related_name="+")
    bring_to_session = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Bookmark {self.id}"


class Rating(models.Model):
    """After a review: how helpful, and how distressing, it was (1-7 each)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="ratings")
    client = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    helpfulness = models.PositiveSmallIntegerField()
    harm = models.PositiveSmallIntegerField()
    comment = models.ForeignKey(
        "vault.SealedObject", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Rating {self.id}"


class ReviewProgress(models.Model):
    """Where the client left off, and which seconds they have played (engagement)."""

    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="progress")
    position = models.FloatField(default=0.0)
    played = models.JSONField(default=list)  # seconds played, as [[start, end], ...]
    replays = models.JSONField(default=list)  # seconds played more than once
    first_played_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Progress of {self.share_id}"
