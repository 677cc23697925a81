"""Retention policy and legal holds: the writes, each audited in its own transaction.

Holds and policy changes have audit codes of their own (LEGAL_HOLD_PLACED, LEGAL_HOLD_RELEASED,
RETENTION_POLICY_CHANGED); each detail also names the action. Details carry ids and numbers only:
a hold's reason is never in the log.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from revisit.accounts.models import Practice, Role, User
from revisit.accounts.selectors import is_in_caseload
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.models import Recording
from revisit.retention.models import LegalHold

MAX_RETENTION_DAYS = 36500  # a hundred years: anything longer is a typo for "keep"
MAX_SHARE_DAYS = 3650  # what a share may last (review.services.share_create)
HOLD_PLACED = "legal_hold_placed"
HOLD_RELEASED = "legal_hold_released"
POLICY_CHANGED = "policy_changed"


class RetentionError(Exception):
    """A retention change that is not allowed; the message says what to do instead."""


def policy_update(
    *,
    practice: Practice,
    actor: User,
    recording_days: int | None,
    transcript_days: int | None,
    share_days: int,
) -> Practice:
    """Set how long recordings and transcripts are kept (None keeps them) and how long clients
    keep access to a shared recording. Practice admins only."""
    if actor.role != Role.ADMIN or actor.practice_id != practice.pk:
        raise RetentionError("Only an admin of this practice can change its retention policy.")
    for days in (recording_days, transcript_days):
        if days is not None and not 1 <= days <= MAX_RETENTION_DAYS:
            raise RetentionError(
                f"Keep things for 1 to {MAX_RETENTION_DAYS} days, or leave it empty to keep them."
            )
    if not 1 <= share_days <= MAX_SHARE_DAYS:
        raise RetentionError(f"Client access lasts 1 to {MAX_SHARE_DAYS} days.")
    if recording_days is not None and share_days > recording_days:
        raise RetentionError(
            "Client access cannot outlast the recording: shorten access or keep recordings longer."
        )
    with transaction.atomic():
        before = Practice.objects.select_for_update().get(pk=practice.pk)
        changes = {
            "recording_retention_days": recording_days,
            "transcript_retention_days": transcript_days,
            "share_days_default": share_days,
        }
        changed = {k: v for k, v in changes.items() if getattr(before, k) != v}
        if changed:
            Practice.objects.filter(pk=practice.pk).update(**changed)
            audit_record(
                event=Event.RETENTION_POLICY_CHANGED,
                actor=actor,
                practice=practice.pk,
                subject=practice,
                detail={"action": POLICY_CHANGED, **changed},
            )
    practice.refresh_from_db()
    return practice


def _may_hold(actor: User, client: User, recording: Recording | None) -> bool:
    if actor.practice_id != client.practice_id or client.role != Role.CLIENT:
        return False
    if actor.role == Role.ADMIN:
        return True
    if actor.role != Role.THERAPIST:
        return False
    if recording is not None:
        return recording.therapist_id == actor.pk
    return is_in_caseload(therapist=actor, client=client)


def legal_hold_place(
    *, actor: User, client: User, reason: str, recording: Recording | None = None
) -> LegalHold:
    """Pause every deletion of one recording, or (recording None) of all the client's recordings,
    until the hold is released. A therapist holds her own clients and recordings; an admin any in
    her practice."""
    reason = reason.strip()
    if recording is not None and recording.client_id != client.pk:
        raise RetentionError("That recording is not this client's.")
    if not _may_hold(actor, client, recording):
        raise RetentionError("You cannot place a legal hold here.")
    if not reason:
        raise RetentionError("Say why the hold is needed (for example, a records request).")
    if len(reason) > 300:
        raise RetentionError("Keep the reason under 300 characters.")
    with transaction.atomic():
        # Touch the rows a deletion claims first, so a deletion running now either finishes
        # before this hold exists or sees it (retention.deletion).
        rows = Recording.objects.filter(client=client)
        if recording is not None:
            rows = rows.filter(pk=recording.pk)
        rows.update(updated_at=F("updated_at"))
        hold = LegalHold.objects.create(
            practice_id=client.practice_id,
            client=client,
            recording_id=recording.pk if recording is not None else None,
            reason=reason,
            placed_by=actor,
        )
        audit_record(
            event=Event.LEGAL_HOLD_PLACED,
            actor=actor,
            practice=client.practice_id,
            subject=hold,
            subject_type="legal_hold",
            detail={
                "action": HOLD_PLACED,
                "client": str(client.pk),
                "recording": str(recording.pk) if recording is not None else None,
            },
        )
    return hold


def legal_hold_release(*, hold: LegalHold, actor: User) -> bool:
    """Lift a hold; deletions it paused happen on the next retention run. Returns whether it
    was standing. An admin releases any hold in her practice; a therapist those she placed."""
    if actor.practice_id != hold.practice_id:
        raise RetentionError("You cannot release this hold.")
    if actor.role != Role.ADMIN and hold.placed_by_id != actor.pk:
        raise RetentionError("Only a practice admin or whoever placed it can release this hold.")
    with transaction.atomic():
        released = LegalHold.objects.filter(pk=hold.pk, released_at=None).update(
            released_at=timezone.now(), released_by=actor
        )
        if released:
            audit_record(
                event=Event.LEGAL_HOLD_RELEASED,
                actor=actor,
                practice=hold.practice_id,
                subject=hold,
                subject_type="legal_hold",
                detail={
                    "action": HOLD_RELEASED,
                    "client": str(hold.client_id),
                    "recording": str(hold.recording_id) if hold.recording_id else None,
                },
            )
    hold.refresh_from_db()
    return bool(released)
