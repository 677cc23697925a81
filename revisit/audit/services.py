"""Writing to and checking the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from revisit.audit import chain
from revisit.audit.events import Event
from revisit.audit.models import AuditEvent, AuditHead


class AuditOutsideTransactionError(RuntimeError):
    """Audit entries must commit or roll back together with what they record."""


def _id(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    pk = getattr(value, "pk", value)
    return str(pk)


def audit_record(
    *,
    event: Event,
    actor: Any = None,
    practice: Any = None,
    subject: Any = None,
    subject_type: str = "",
    subject_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry. Must run inside the transaction of the change or access it records.

    `detail` holds ids, codes and counts only: never names, titles, content or secrets.
    """
    if not transaction.get_connection().in_atomic_block:
        raise AuditOutsideTransactionError(
            f"audit event {event.name} recorded outside a transaction"
        )
    if subject is not None and not subject_type:
        subject_type = type(subject).__name__.lower()
    head, _ = AuditHead.objects.select_for_update().get_or_create(
        id=1, defaults={"seq": 0, "hash": chain.GENESIS}
    )
    seq = head.seq + 1
    at = timezone.now()
    practice_id = _id(practice)
    actor_id = _id(actor)
    subject_id = _id(subject) or subject_id
    detail = detail or {}
    fields = chain.entry_fields(
        seq=seq,
        at=at,
        event=int(event),
        practice_id=practice_id,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail,
    )
    digest = chain.entry_hash(head.hash, fields)
    entry = AuditEvent.objects.create(
        seq=seq,
        at=at,
        event=int(event),
        practice_id=practice_id,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail,
        prev_hash=head.hash,
        hash=digest,
    )
    AuditHead.objects.filter(id=1).update(seq=seq, hash=digest)
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def audit_verify() -> VerifyResult:
    """Recompute the whole chain; name the first entry that does not fit."""
    prev = chain.GENESIS
    expected_seq = 1
    checked = 0
    for entry in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, "entry missing or out of order")
        if entry.prev_hash != prev:
            return VerifyResult(False, checked, entry.seq, "does not link to the previous entry")
        fields = chain.entry_fields(
            seq=entry.seq,
            at=entry.at,
            event=entry.event,
            practice_id=_id(entry.practice_id),
            actor_id=_id(entry.actor_id),
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            detail=entry.detail,
        )
        if chain.entry_hash(prev, fields) != entry.hash:
            return VerifyResult(False, checked, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(False, checked, checked + 1, "entries after this point are missing")
    return VerifyResult(True, checked)
