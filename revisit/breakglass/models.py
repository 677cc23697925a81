"""Emergency ("break-glass") access: a practice admin's time-limited, logged, read-only access to
one client's recordings, and the practice's policy on telling the client.

A practice admin cannot play media otherwise. A grant names one client, carries a written reason
(sealed like a private note, never logged), ends by itself, and can be ended early.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from django.db import models
from django.utils import timezone

DEFAULT_MINUTES = 60
MAX_MINUTES = 4 * 60


class BreakGlassPolicy(models.Model):
    """A practice's choices about emergency access. A practice without a row has the defaults."""

    practice = models.OneToOneField(
        "accounts.Practice", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    tell_client = models.BooleanField(
        default=True,
        help_text="Show clients, on their home page, when and for how long emergency access to "
        "their recordings was used (not the reason).",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Emergency access policy of practice {self.practice_id}"


class BreakGlassGrant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey("accounts.Practice", on_delete=models.PROTECT, related_name="+")
    admin = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="break_glass_grants"
    )
    client = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    reason = models.ForeignKey("vault.SealedObject", on_delete=models.PROTECT, related_name="+")
    minutes = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["admin", "client", "expires_at"]),
            models.Index(fields=["practice", "created_at"]),
            models.Index(fields=["client", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"Emergency access grant {self.id}"

    def is_active(self, now: datetime | None = None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())

    @property
    def ends_at(self) -> datetime:
        """When access stopped (or will stop): ended early, or at expiry."""
        if self.ended_at is not None and self.ended_at < self.expires_at:
            return self.ended_at
        return self.expires_at

    @property
    def used_minutes(self) -> int:
        """How long access lasted (or may last), in whole minutes, at least one."""
        return max(1, round((self.ends_at - self.created_at).total_seconds() / 60))
