"""Writing to, signing and checking the audit log."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from revisit.audit import chain, signing, verify
from revisit.audit.events import Event
from revisit.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from revisit.audit.verify import VerifyResult

__all__ = [
    "AuditChainBrokenError",
    "AuditOutsideTransactionError",
    "VerifyResult",
    "audit_checkpoint",
    "audit_record",
    "audit_signing_key",
    "audit_verify",
]


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


class AuditChainBrokenError(RuntimeError):
    """The entries since the last checkpoint do not fit; nothing was signed."""


def audit_signing_key(*, create: bool = False) -> signing.SigningKey:
    """The key in REVISIT_AUDIT_KEY_FILE, made first (mode 0600) if ``create`` and missing."""
    path = Path(settings.AUDIT_KEY_FILE)
    if create and not path.exists():
        signing.create_key_file(path)
    return signing.load_key_file(path)


def audit_checkpoint() -> AuditCheckpoint | None:
    """Sign the head of the log if entries were added since the last checkpoint; else None.

    The first call makes the signing key. Once a checkpoint exists, a missing or different key is
    an error: a new key cannot vouch for the checkpoints the old one signed. The entries since the
    last checkpoint are checked before signing, so a checkpoint never vouches for a broken chain.
    """
    with transaction.atomic():
        # Locking the head serialises checkpoints with each other and with appends.
        head = AuditHead.objects.select_for_update().filter(id=1).first()
        last = AuditCheckpoint.objects.order_by("-seq").first()
        key = audit_signing_key(create=last is None)
        if last is not None and last.key_id != key.key_id:
            raise signing.AuditKeyMismatchError(
                f"audit signing key {settings.AUDIT_KEY_FILE}: its id {key.key_id[:16]} is not "
                f"the key {last.key_id[:16]} that signed the existing checkpoints; point the "
                f"setting at that key ({signing.SETTING})"
            )
        last_seq = last.seq if last is not None else 0
        if head is None or head.seq == last_seq:
            return None
        if head.seq < last_seq:
            raise AuditChainBrokenError(
                f"the audit head is at entry {head.seq}, behind the checkpoint at entry "
                f"{last_seq}; run `revisit audit verify`"
            )
        problem = verify.segment_problem(
            entries=AuditEvent.objects.filter(seq__gt=last_seq, seq__lte=head.seq)
            .order_by("seq")
            .iterator(chunk_size=2000),
            after_seq=last_seq,
            after_hash=last.hash if last is not None else chain.GENESIS,
            head=head,
        )
        if problem:
            raise AuditChainBrokenError(
                f"not signing the audit log: {problem}; run `revisit audit verify`"
            )
        at = timezone.now()
        message = signing.checkpoint_message(seq=head.seq, hash=head.hash, at=at, prev_seq=last_seq)
        return AuditCheckpoint.objects.create(
            seq=head.seq,
            hash=head.hash,
            at=at,
            prev_seq=last_seq,
            key_id=key.key_id,
            signature=key.sign(message),
        )


def audit_verify() -> VerifyResult:
    """Recompute the chain and check every checkpoint; name the first entry or checkpoint that
    does not fit. The command line, the background task and the tamper tests share this path."""
    # Checkpoints first, then the head, then entries up to it (see verify.verify_log).
    checkpoints = list(AuditCheckpoint.objects.order_by("seq"))
    key_file = Path(settings.AUDIT_KEY_FILE)
    public_key = audit_signing_key().public if checkpoints or key_file.exists() else None
    head = AuditHead.objects.filter(id=1).first()
    entries = AuditEvent.objects.order_by("seq")
    if head is not None:
        entries = entries.filter(seq__lte=head.seq)
    result = verify.verify_log(
        entries=entries.iterator(chunk_size=2000),
        head=head,
        checkpoints=checkpoints,
        public_key=public_key,
    )
    if result.ok and head is not None:
        # Entries past the head were not written by audit_record (it moves the head with each).
        newest = AuditEvent.objects.aggregate(newest=Max("seq"))["newest"] or 0
        head_now = AuditHead.objects.filter(id=1).values_list("seq", flat=True).first() or 0
        if newest > head_now:
            return replace(
                result,
                ok=False,
                first_bad_seq=head_now + 1,
                problem="entries past the head row were added outside Revisit",
            )
    return result
