"""The audit log: append-only, hash-chained, written in the same transaction as what it records.

Entries hold ids and codes only (no names, titles or content) and no foreign keys, so the log
outlives the objects it talks about.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField(default=timezone.now)
    event = models.PositiveIntegerField(db_index=True)
    practice_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True)
    subject_type = models.CharField(max_length=32, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering: ClassVar[list[str]] = ["seq"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["actor_id", "at"]),
        ]

    def __str__(self) -> str:
        return f"Audit entry {self.seq}"


class AuditHead(models.Model):
    """One row: the latest sequence number and hash. Locked to serialise appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"Audit head at {self.seq}"


class AuditCheckpoint(models.Model):
    """A signature over the chain at one entry, made with a key kept outside the database.

    ``prev_seq`` is the entry the checkpoint before this one covers (0 for the first), so the
    checkpoints form a chain of their own. Rows are never changed or deleted (database triggers).
    """

    seq = models.BigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    prev_seq = models.BigIntegerField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering: ClassVar[list[str]] = ["seq"]

    def __str__(self) -> str:
        return f"Audit checkpoint at entry {self.seq}"
