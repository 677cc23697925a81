from __future__ import annotations

import pytest
from django.db import connection, transaction

from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.audit.services import AuditOutsideTransactionError, audit_record, audit_verify

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


def _raw(sql: str, params: list[str]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_it_names_the_first_changed_entry():
    _record(6)
    _raw(f"UPDATE {AuditEvent._meta.db_table} SET detail = %s WHERE seq = 4", ['{"i": 99}'])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 4


def test_it_notices_a_deleted_entry():
    _record(6)
    _raw(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq = 3", [])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 3


def test_it_notices_a_truncated_tail():
    _record(6)
    _raw(f"DELETE FROM {AuditEvent._meta.db_table} WHERE seq >= 5", [])
    result = audit_verify()
    assert not result.ok and result.first_bad_seq == 5
