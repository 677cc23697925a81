"""Key records of sealed objects.

A sealed blob holds no key. Its data key (DEK), wrapped by a key-encryption key (KEK), lives here,
so deleting the record crypto-shreds every copy of the blob, backups included, and rotating a KEK
rewraps these rows without touching a single stored byte (docs/storage-format.md).
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.utils import timezone


class ObjectKind(models.TextChoices):
    ORIGINAL = "original", "Original recording"
    UPLOAD = "upload", "Upload in progress"
    RENDITION = "rendition", "Rendition"
    TRANSCRIPT = "transcript", "Transcript"
    NOTE = "note", "Private note"
    EMBEDDING = "embedding", "Search index"
    DERIVED = "derived", "Other derived data"


class SealedObject(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT)
    kind = models.CharField(max_length=16, choices=ObjectKind.choices)
    kek_id = models.CharField(max_length=64, db_index=True)
    wrapped_dek = models.BinaryField(max_length=128)
    length = models.BigIntegerField()  # plaintext bytes
    stored_size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    shredded_at = models.DateTimeField(null=True, blank=True)
    shred_reason = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["practice", "kind"])]

    def __str__(self) -> str:
        return f"Sealed object {self.id}"

    @property
    def blob_key(self) -> str:
        return f"objects/{self.id.hex[:2]}/{self.id.hex}"
