"""People and practices. A practice is the tenant: every object belongs to exactly one."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    CLIENT = "client", "Client"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Practice admin"


STAFF_ROLES = frozenset({Role.THERAPIST, Role.SUPERVISOR, Role.ADMIN})


class Practice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    crisis_resources = models.TextField(
        blank=True,
        help_text="Shown to clients before they play a recording (phone lines, what to do now).",
    )
    share_days_default = models.PositiveIntegerField(
        default=30, help_text="How many days a client keeps access to a shared recording."
    )
    # Retention (docs/operations.md): days after a session was recorded; None keeps it.
    recording_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=2557,  # seven years
        help_text="Days a recording is kept after the session; empty keeps recordings.",
    )
    transcript_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=2557,
        help_text="Days transcripts, captions, chapters and search indexes are kept; empty keeps.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Practice {self.id}"


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """Anyone who signs in. One practice and one role per account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_trainee = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["practice", "role"])]

    def __str__(self) -> str:
        # Never the name or email: this string ends up in logs and error pages.
        return f"User {self.id}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def label(self) -> str:
        """What people see on screen for this person."""
        return self.display_name or self.email


class CaseloadEntry(models.Model):
    """A therapist's client. A client may have more than one therapist in the same practice."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT)
    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="caseload")
    client = models.ForeignKey(User, on_delete=models.CASCADE, related_name="therapists")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["therapist", "client"], name="caseload_unique_pair")
        ]

    def __str__(self) -> str:
        return f"Caseload entry {self.pk}"


class Supervision(models.Model):
    """A supervisor oversees a therapist (usually a trainee)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT)
    supervisor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisees")
    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisors")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["supervisor", "therapist"], name="supervision_unique")
        ]

    def __str__(self) -> str:
        return f"Supervision {self.pk}"


class Invitation(models.Model):
    """A one-time, expiring link that lets an invited person set a password.

    Only an HMAC digest of the key is stored, so a database reader cannot use pending links.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Invitation {self.pk}"


class ApiToken(models.Model):
    """A personal API token: `rvt_<prefix>_<secret>`. Stored as prefix + HMAC digest only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"API token {self.prefix}"

    def is_usable(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
