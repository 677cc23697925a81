"""Test helpers: a real audit log made through the services, copied into plain rows, and a way to
switch the append-only triggers off inside one test's transaction (rolled back with it)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from revisit.audit import guard
from revisit.audit.events import Event
from revisit.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from revisit.audit.services import audit_checkpoint, audit_record, audit_signing_key
from revisit.audit.verify import VerifyResult, verify_log


@dataclass(frozen=True)
class EntryRow:
    seq: int
    at: datetime
    event: int
    practice_id: uuid.UUID | str | None
    actor_id: uuid.UUID | str | None
    subject_type: str
    subject_id: str
    detail: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class HeadRow:
    seq: int
    hash: str


@dataclass(frozen=True)
class CheckpointRow:
    seq: int
    hash: str
    at: datetime
    prev_seq: int
    key_id: str
    signature: str


@dataclass
class LogCopy:
    entries: list[EntryRow]
    head: HeadRow | None
    checkpoints: list[CheckpointRow] = field(default_factory=list)

    def clone(self) -> LogCopy:
        return LogCopy(list(self.entries), self.head, list(self.checkpoints))

    def verify(self) -> VerifyResult:
        """The same function `revisit audit verify` runs, on these rows."""
        return verify_log(
            entries=self.entries,
            head=self.head,
            checkpoints=self.checkpoints,
            public_key=audit_signing_key().public,
        )


def copy_log() -> LogCopy:
    entries = [
        EntryRow(
            e.seq,
            e.at,
            e.event,
            e.practice_id,
            e.actor_id,
            e.subject_type,
            e.subject_id,
            e.detail,
            e.prev_hash,
            e.hash,
        )
        for e in AuditEvent.objects.order_by("seq")
    ]
    head_row = AuditHead.objects.filter(id=1).first()
    head = HeadRow(head_row.seq, head_row.hash) if head_row else None
    checkpoints = [
        CheckpointRow(c.seq, c.hash, c.at, c.prev_seq, c.key_id, c.signature)
        for c in AuditCheckpoint.objects.order_by("seq")
    ]
    return LogCopy(entries, head, checkpoints)


EVENTS = [Event.SIGN_IN, Event.SHARE_CREATED, Event.PLAYBACK_STARTED, Event.CONSENT_GIVEN]


def record(n: int, *, practice: uuid.UUID | None = None, offset: int = 0) -> None:
    """n entries with varied columns, each in its own transaction as the services write them."""
    for i in range(offset, offset + n):
        with transaction.atomic():
            audit_record(
                event=EVENTS[i % len(EVENTS)],
                actor=uuid.UUID(int=i + 1) if i % 3 else None,
                practice=practice if practice is not None else uuid.UUID(int=1000 + i % 2),
                subject_type="recording" if i % 2 else "user",
                subject_id=f"obj-{i}",
                detail={"i": i, "kind": "k" if i % 2 else "m", "ok": bool(i % 2)},
            )


def build_log(*, entries: int, every: int) -> LogCopy:
    """Record entries, signing a checkpoint every ``every`` entries and after the last."""
    done = 0
    while done < entries:
        step = min(every, entries - done)
        record(step, offset=done)
        done += step
        audit_checkpoint()
    return copy_log()


@contextlib.contextmanager
def triggers_off() -> Iterator[None]:
    """Remove the guard triggers inside the current test transaction (its rollback restores
    them). Never use in a transactional (transaction=True) test."""
    assert connection.in_atomic_block, "only inside a test transaction"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in guard.expected_triggers("sqlite"):
                cursor.execute(f"DROP TRIGGER {name}")
        else:
            for table in guard.TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    yield


def raw(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
