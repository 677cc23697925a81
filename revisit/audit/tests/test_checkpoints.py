"""Signed checkpoints: made only when the log grew, chained to each other, refused with the wrong
key, and checked by verify so a re-hashed rewrite or a truncation is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction

from revisit import scheduler
from revisit.audit import signing
from revisit.audit.events import Event
from revisit.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from revisit.audit.services import (
    AuditChainBrokenError,
    audit_checkpoint,
    audit_record,
    audit_verify,
)
from revisit.audit.tests.logcopy import raw, record, triggers_off
from revisit.audit.verify import entry_digest

pytestmark = pytest.mark.django_db
TABLE = AuditEvent._meta.db_table


def test_it_signs_the_head_only_when_entries_were_added(key_file: Path):
    assert audit_checkpoint() is None  # empty log: nothing to sign, but the key is made
    assert key_file.stat().st_mode & 0o777 == 0o600
    record(4)
    first = audit_checkpoint()
    assert first is not None and first.seq == 4 and first.prev_seq == 0
    head = AuditHead.objects.get(id=1)
    assert first.hash == head.hash
    assert first.key_id == signing.load_key_file(key_file).key_id
    assert audit_checkpoint() is None  # nothing new
    record(2, offset=4)
    second = audit_checkpoint()
    assert second is not None and (second.seq, second.prev_seq) == (6, 4)
    result = audit_verify()
    assert result.ok and result.checked == 6 and result.checkpoints == 2
    assert result.latest_checkpoint == 6 and result.key_id == first.key_id


def test_it_refuses_to_make_a_new_key_once_checkpoints_exist(key_file: Path):
    record(2)
    audit_checkpoint()
    key_file.unlink()
    record(1, offset=2)
    with pytest.raises(signing.AuditKeyMissingError, match="REVISIT_AUDIT_KEY_FILE"):
        audit_checkpoint()
    assert not key_file.exists()
    with pytest.raises(signing.AuditKeyMissingError):
        audit_verify()


def test_it_refuses_a_different_key(key_file: Path):
    record(2)
    audit_checkpoint()
    key_file.unlink()
    signing.create_key_file(key_file)
    record(1, offset=2)
    with pytest.raises(signing.AuditKeyMismatchError, match="REVISIT_AUDIT_KEY_FILE"):
        audit_checkpoint()
    result = audit_verify()
    assert (
        not result.ok
        and result.first_bad_checkpoint == 2
        and "not by the configured key" in (result.problem)
    )


def test_it_refuses_a_key_file_others_can_read(key_file: Path):
    audit_checkpoint()
    key_file.chmod(0o644)
    with pytest.raises(signing.AuditKeyPermissionError, match="REVISIT_AUDIT_KEY_FILE"):
        audit_checkpoint()
    with pytest.raises(signing.AuditKeyPermissionError):
        audit_verify()


def test_it_does_not_sign_a_broken_chain(key_file: Path):
    record(3)
    audit_checkpoint()
    record(3, offset=3)
    with triggers_off():
        raw(f"UPDATE {TABLE} SET subject_id = %s WHERE seq = 5", ["changed"])
        with pytest.raises(AuditChainBrokenError, match="entry 5"):
            audit_checkpoint()
    assert AuditCheckpoint.objects.count() == 1


def _rehash_from(seq: int) -> None:
    """What someone with database access but no key would do: rewrite and re-link the chain."""
    entries = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for entry in entries:
        entry.prev_hash = prev
        entry.hash = entry_digest(entry, prev)
        raw(
            f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev, entry.hash, entry.seq],
        )
        prev = entry.hash
    raw("UPDATE audit_audithead SET hash = %s WHERE id = 1", [prev])


def test_it_catches_a_rewritten_chain_at_the_checkpoint_after_it(key_file: Path):
    record(5)
    audit_checkpoint()
    record(5, offset=5)
    audit_checkpoint()
    with triggers_off():
        raw(f"UPDATE {TABLE} SET detail = %s WHERE seq = 7", ['{"i": 1000}'])
        _rehash_from(7)
        result = audit_verify()
    assert not result.ok
    assert result.first_bad_checkpoint == 10 and result.first_bad_seq == 6
    assert "entries 6 to 10" in result.problem


def test_it_catches_a_truncation_that_a_checkpoint_covers(key_file: Path):
    record(6)
    audit_checkpoint()
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE seq >= 5")
        last = AuditEvent.objects.get(seq=4)
        raw("UPDATE audit_audithead SET seq = 4, hash = %s WHERE id = 1", [last.hash])
        result = audit_verify()
    assert not result.ok and result.first_bad_seq == 5 and result.first_bad_checkpoint == 6
    assert "entries were removed" in result.problem


def test_it_catches_a_removed_checkpoint_in_the_middle(key_file: Path):
    for offset in (0, 2, 4):
        record(2, offset=offset)
        audit_checkpoint()
    with triggers_off():
        raw("DELETE FROM audit_auditcheckpoint WHERE seq = 4")
        result = audit_verify()
    assert not result.ok and result.first_bad_checkpoint == 6


def test_it_catches_a_forged_signature(key_file: Path):
    record(3)
    audit_checkpoint()
    with triggers_off():
        raw("UPDATE audit_auditcheckpoint SET signature = %s", ["00" * 64])
        result = audit_verify()
    assert not result.ok and result.first_bad_checkpoint == 3 and result.first_bad_seq is None
    assert "signature" in result.problem


def test_it_signs_from_the_worker_every_ten_minutes(key_file: Path):
    jobs = {job.__name__: (every, job) for every, job in scheduler.periodic()}
    every, job = jobs["_audit_checkpoint"]
    assert every == 600.0
    with transaction.atomic():
        audit_record(event=Event.SIGN_IN)
    job()
    assert AuditCheckpoint.objects.filter(seq=1).exists()
    assert job() is None  # nothing new since: no second checkpoint
