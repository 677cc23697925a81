from __future__ import annotations

import pytest
from django.db import transaction

from revisit.audit.events import Event
from revisit.audit.models import AuditEvent, AuditHead
from revisit.audit.services import AuditOutsideTransactionError, audit_record, audit_verify
from revisit.audit.tests.logcopy import raw, triggers_off

TABLE = AuditEvent._meta.db_table

pytestmark = pytest.mark.django_db


def _record(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit_record(
                event=Event.SIGN_IN, subject_type="user", subject_id=str(i), detail={"i": i}
            )


def test_it_chains_entries_and_verifies_them():
    _record(5)
    result = audit_verify()
    assert result.ok and result.checked == 5
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == [1, 2, 3, 4, 5]


def test_it_refuses_to_record_outside_a_transaction(transactional_db):
    with pytest.raises(AuditOutsideTransactionError):
        audit_record(event=Event.SIGN_IN)


def test_it_rolls_back_with_the_change():
    def change_that_fails() -> None:
        with transaction.atomic():
            audit_record(event=Event.SHARE_CREATED)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_that_fails()
    assert AuditEvent.objects.count() == 0


def test_it_names_the_first_changed_entry():
    _record(6)
    with triggers_off():
        raw(f"UPDATE {TABLE} SET detail = %s WHERE seq = 4", ['{"i": 99}'])
        result = audit_verify()
    assert not result.ok and result.first_bad_seq == 4


def test_it_notices_a_deleted_entry():
    _record(6)
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE seq = 3")
        result = audit_verify()
    assert not result.ok and result.first_bad_seq == 3


def test_it_notices_a_truncated_tail():
    _record(6)
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE seq >= 5")
        result = audit_verify()
    assert not result.ok and result.first_bad_seq == 5


def test_it_notices_entries_added_past_the_head():
    _record(3)
    forged = AuditEvent.objects.get(seq=3)
    forged.pk, forged.seq = None, 4
    forged.save()  # an INSERT: the triggers allow appends; the head was not moved
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 4
    assert "past the head" in result.problem


def test_it_notices_a_missing_head_row():
    _record(2)
    AuditHead.objects.all().delete()  # the head row has no trigger: appends must move it
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 2 and "head row" in result.problem
