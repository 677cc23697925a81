"""The daily retention run: end shares past their expiry, and delete what the practice's policy
(or a withdrawn consent) says must go, except what a legal hold keeps.

Safe to run from several workers at once and to run twice: each share is claimed by inserting
its expiry mark (unique), each recording by a conditional update of its row (retention.deletion),
so every object is handled, audited and recorded exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from revisit.accounts.models import Practice
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.models import Consent, ConsentScope, Recording
from revisit.retention.deletion import (
    TRANSCRIPT_KINDS,
    RecordingBusyError,
    RecordingHeldError,
    recording_destroy,
    transcripts_shred,
)
from revisit.retention.models import DeletionReason, ShareExpiry
from revisit.review.models import Share

log = logging.getLogger("revisit.retention")


@dataclass
class RetentionReport:
    shares_expired: int = 0
    recordings_deleted: int = 0
    transcripts_deleted: int = 0  # recordings whose transcripts were shredded
    objects_shredded: int = 0
    held: list[str] = field(default_factory=list)  # recording ids a legal hold kept
    busy: list[str] = field(default_factory=list)  # recording ids being processed: next run
    failed: list[str] = field(default_factory=list)  # recording ids that could not be deleted

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def add_skipped(self, bucket: list[str], recording_id: str) -> None:
        if recording_id not in bucket:
            bucket.append(recording_id)


def shares_expire_due(*, now: datetime) -> int:
    """Record, once, the end of each share whose expiry has passed (SHARE_EXPIRED). Access already
    stops at the expiry on its own; this leaves the trace in the audit log."""
    due = (
        Share.objects.filter(revoked_at=None, expires_at__lte=now)
        .exclude(pk__in=ShareExpiry.objects.values("share_id"))
        .order_by("expires_at")
    )
    count = 0
    for share in due.iterator(chunk_size=500):
        try:
            with transaction.atomic():
                ShareExpiry.objects.create(share=share)  # the claim: one mark per share
                audit_record(
                    event=Event.SHARE_EXPIRED,
                    practice=share.practice_id,
                    subject=share,
                    detail={
                        "recording": str(share.recording_id),
                        "expired_at": share.expires_at.isoformat(),
                    },
                )
        except IntegrityError:
            continue  # another worker recorded it first
        count += 1
    return count


def _older_than(practice: Practice, days: int, now: datetime) -> QuerySet[Recording]:
    return Recording.objects.filter(practice=practice, created_at__lt=now - timedelta(days=days))


def _delete_recordings(report: RetentionReport, now: datetime) -> None:
    practices = Practice.objects.exclude(recording_retention_days=None)
    for practice in practices:
        days = practice.recording_retention_days
        assert days is not None  # excluded above; this keeps the type checker honest
        for recording in _older_than(practice, days, now).order_by("created_at"):
            rid = str(recording.pk)
            try:
                shredded = recording_destroy(
                    recording=recording, reason=DeletionReason.RETENTION, actor=None
                )
            except RecordingHeldError:
                report.add_skipped(report.held, rid)
                continue
            except RecordingBusyError:
                report.add_skipped(report.busy, rid)
                continue
            except ProtectedError:
                log.warning("retention: recording %s is still referenced; not deleted", rid)
                report.add_skipped(report.failed, rid)
                continue
            if shredded is not None:
                report.recordings_deleted += 1
                report.objects_shredded += shredded


def _shred_transcripts(
    report: RetentionReport, recordings: QuerySet[Recording], reason: DeletionReason
) -> None:
    for recording in recordings.filter(renditions__kind__in=TRANSCRIPT_KINDS).distinct():
        try:
            shredded = transcripts_shred(recording=recording, reason=reason, actor=None)
        except RecordingHeldError:
            report.add_skipped(report.held, str(recording.pk))
            continue
        if shredded:
            report.transcripts_deleted += 1
            report.objects_shredded += shredded


def _transcripts_past_retention(report: RetentionReport, now: datetime) -> None:
    for practice in Practice.objects.exclude(transcript_retention_days=None):
        days = practice.transcript_retention_days
        assert days is not None
        _shred_transcripts(report, _older_than(practice, days, now), DeletionReason.RETENTION)


def _transcripts_without_consent(report: RetentionReport) -> None:
    """Transcripts of clients who withdrew transcription consent and have not given it again:
    those a legal hold kept at the time, and any a job already running then finished later."""
    scope = ConsentScope.TRANSCRIPTION
    withdrew = Consent.objects.filter(scope=scope).exclude(revoked_at=None).values("client_id")
    standing = Consent.objects.filter(scope=scope, revoked_at=None).values("client_id")
    recordings = Recording.objects.filter(client_id__in=withdrew).exclude(client_id__in=standing)
    _shred_transcripts(report, recordings, DeletionReason.CONSENT_REVOKED)


def retention_run(*, now: datetime | None = None) -> RetentionReport:
    """One retention pass over every practice. Returns what it did and what it skipped."""
    now = now or timezone.now()
    report = RetentionReport()
    report.shares_expired = shares_expire_due(now=now)
    _delete_recordings(report, now)
    _transcripts_past_retention(report, now)
    _transcripts_without_consent(report)
    with transaction.atomic():
        audit_record(
            event=Event.RETENTION_RUN,
            detail={
                "action": "run",
                "shares_expired": report.shares_expired,
                "recordings_deleted": report.recordings_deleted,
                "transcripts_deleted": report.transcripts_deleted,
                "objects_shredded": report.objects_shredded,
                "held": len(report.held),
                "busy": len(report.busy),
                "failed": len(report.failed),
            },
        )
    if report.held or report.busy or report.failed:
        log.info(
            "retention run skipped %s held, %s busy, %s failed recordings",
            len(report.held),
            len(report.busy),
            len(report.failed),
        )
    return report
