"""Consent, uploads in progress, and recordings."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone


class ConsentScope(models.TextChoices):
    RECORDING = "recording", "Recording sessions"
    CLIENT_REVIEW = "client_review", "Reviewing recordings in the portal"
    SUPERVISION = "supervision", "Use in clinical supervision"
    TRANSCRIPTION = "transcription", "Automatic transcription"
    RESEARCH = "research", "De-identified research"


class ConsentMethod(models.TextChoices):
    PORTAL = "portal", "Client agreed in the portal"
    VERBAL = "verbal_attested", "Therapist attests the client agreed verbally"
    WRITTEN = "written_attested", "Therapist attests a signed form"


class Consent(models.Model):
    """One grant of one scope by one client. Revoking ends it; a new grant is a new row."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    client = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    method = models.CharField(max_length=32, choices=ConsentMethod.choices)
    given_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["client", "scope"])]

    def __str__(self) -> str:
        return f"Consent {self.id}"


class RecordingStatus(models.TextChoices):
    UPLOADING = "uploading", "Uploading"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class RecordingSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded file"
    BROWSER = "browser", "Recorded in the browser"
    IMPORT = "import", "Imported"


class Recording(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    therapist = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="recordings_made"
    )
    client = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="recordings")
    title = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=RecordingSource.choices)
    status = models.CharField(
        max_length=16, choices=RecordingStatus.choices, default=RecordingStatus.PROCESSING
    )
    progress = models.FloatField(default=0.0)
    error = models.CharField(max_length=300, blank=True)
    duration = models.FloatField(null=True, blank=True)
    media_info = models.JSONField(default=dict)  # codecs, sizes, durations: never content
    original = models.ForeignKey(
        "vault.SealedObject", on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    shareable_at = models.DateTimeField(null=True, blank=True)  # audio and video renditions ready
    ready_at = models.DateTimeField(null=True, blank=True)
    job_lease_until = models.DateTimeField(null=True, blank=True)  # a worker is processing it
    job_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["therapist", "created_at"]),
            models.Index(fields=["client", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Recording {self.id}"


class Upload(models.Model):
    """A resumable (tus) upload in progress. Its bytes are sealed as they arrive.

    The body lives in the upload folder as a sealed object in append mode; the last partial chunk
    lives in `tail`, itself sealed. `offset` counts plaintext bytes accepted and committed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    owner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="uploads")
    client = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    source = models.CharField(
        max_length=16, choices=RecordingSource.choices, default=RecordingSource.UPLOAD
    )
    metadata = models.TextField(blank=True)  # the raw Upload-Metadata header, echoed on HEAD
    key = models.ForeignKey("vault.SealedObject", on_delete=models.PROTECT, related_name="+")
    length = models.BigIntegerField(null=True, blank=True)  # None while deferred
    offset = models.BigIntegerField(default=0)
    tail = models.BinaryField(default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)  # a PATCH is writing
    lease_token = models.CharField(max_length=80, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    recording = models.ForeignKey(
        Recording, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Upload {self.id}"


class RenditionKind(models.TextChoices):
    VIDEO = "video", "Video (MP4)"
    AUDIO = "audio", "Audio (M4A)"
    POSTER = "poster", "Poster image"
    WAVEFORM = "waveform", "Waveform peaks"
    TRANSCRIPT = "transcript", "Transcript"
    CAPTIONS = "captions", "Captions (WebVTT)"
    CHAPTERS = "chapters", "Chapters"
    SEARCH = "search", "Search index"


CONTENT_TYPES = {
    RenditionKind.VIDEO: "video/mp4",
    RenditionKind.AUDIO: "audio/mp4",
    RenditionKind.POSTER: "image/jpeg",
    RenditionKind.WAVEFORM: "application/json",
    RenditionKind.TRANSCRIPT: "application/json",
    RenditionKind.CAPTIONS: "text/vtt",
    RenditionKind.CHAPTERS: "application/json",
    RenditionKind.SEARCH: "application/octet-stream",
}


class Rendition(models.Model):
    """A derived, sealed artefact of a recording. `variant` "client" is the held-back version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=16, choices=RenditionKind.choices)
    variant = models.CharField(max_length=16, default="full")
    sealed = models.ForeignKey("vault.SealedObject", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["recording", "kind", "variant"], name="rendition_unique_kind"
            )
        ]

    def __str__(self) -> str:
        return f"Rendition {self.id}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[RenditionKind(self.kind)]


class StepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ProcessingStep(models.Model):
    """One step of one recording's processing: what ran, how often, how long, and why it failed."""

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=StepStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["recording", "name"], name="step_unique_name")
        ]

    def __str__(self) -> str:
        return f"Step {self.name} of {self.recording_id}"
