"""The database itself refuses UPDATE and DELETE on audit entries and checkpoints, on SQLite and
on PostgreSQL; only the test suite's flush may empty them (tests marked postgres_only run in the
PostgreSQL pass of scripts/test)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from revisit.audit import guard
from revisit.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from revisit.audit.services import audit_checkpoint, audit_verify
from revisit.audit.tests.logcopy import raw, record


def _requires(vendor: str) -> None:
    if connection.vendor != vendor:
        pytest.skip(f"runs in the {vendor} pass")


def _refused(sql: str, params: list[object] | None = None) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql, params)


@pytest.mark.django_db
def test_it_installs_the_guard_triggers():
    assert guard.installed_triggers(connection) == guard.expected_triggers(connection.vendor)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE audit_auditevent SET detail = %s WHERE seq = 2", ['{"i": 0}']),
        ("UPDATE audit_auditevent SET seq = seq + 100", None),
        ("DELETE FROM audit_auditevent WHERE seq = 3", None),
        ("DELETE FROM audit_auditevent", None),
        ("UPDATE audit_auditcheckpoint SET signature = %s", ["00" * 64]),
        ("DELETE FROM audit_auditcheckpoint", None),
    ],
)
def test_it_refuses_to_change_or_delete_rows(key_file: Path, sql: str, params: list[object]):
    record(3)
    audit_checkpoint()
    _refused(sql, params)
    assert AuditEvent.objects.count() == 3 and AuditCheckpoint.objects.count() == 1
    assert audit_verify().ok


@pytest.mark.django_db
def test_it_refuses_changes_made_through_the_orm(key_file: Path):
    record(2)
    checkpoint = audit_checkpoint()
    assert checkpoint is not None
    entry = AuditEvent.objects.get(seq=1)
    entry.subject_id = "changed"
    attempts: list[Callable[[], object]] = [
        entry.save,
        AuditEvent.objects.filter(seq=2).delete,
        lambda: AuditEvent.objects.update(subject_type="x"),
        checkpoint.delete,
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_it_lets_only_the_test_flush_empty_the_tables(key_file: Path):
    record(3)
    audit_checkpoint()
    _refused("DELETE FROM audit_auditevent")
    assert guard.flush_open() == 0
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists() and not AuditCheckpoint.objects.exists()
    assert not AuditHead.objects.exists()
    assert guard.flush_open() == 0  # closed again afterwards
    record(1)
    _refused("DELETE FROM audit_auditevent")


def _sqlite_copy(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for table in guard.TABLES:
        db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, seq INTEGER)")
        db.execute(f"INSERT INTO {table} (seq) VALUES (1), (2)")
    for sql in guard.install_sql("sqlite"):
        db.execute(sql)
    return db


@pytest.mark.django_db
def test_it_fails_closed_on_sqlite_connections_without_the_gate(tmp_path: Path):
    _requires("sqlite")
    db = _sqlite_copy(tmp_path / "copy.sqlite3")
    for table in guard.TABLES:
        # The sqlite3 shell or a script has no gate function: the trigger cannot even run.
        with pytest.raises(sqlite3.OperationalError, match=guard.SQLITE_FUNCTION):
            db.execute(f"DELETE FROM {table}")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(f"UPDATE {table} SET seq = 5")
    db.create_function(guard.SQLITE_FUNCTION, 0, guard.flush_open)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_auditevent WHERE seq = 1")
    assert db.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (2,)
    db.close()


@pytest.mark.django_db
def test_it_opens_the_sqlite_gate_only_inside_the_flush(tmp_path: Path):
    _requires("sqlite")
    db = _sqlite_copy(tmp_path / "copy.sqlite3")
    db.create_function(guard.SQLITE_FUNCTION, 0, guard.flush_open)
    with guard.flush_gate(connection):
        db.execute("DELETE FROM audit_auditevent")
    assert db.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (0,)
    db.execute("INSERT INTO audit_auditevent (seq) VALUES (3)")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_auditevent")
    db.close()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_it_refuses_truncate_on_postgres_unless_the_test_flush_runs(key_file: Path):
    _requires("postgresql")
    record(2)
    audit_checkpoint()
    for table in guard.TABLES:
        _refused(f"TRUNCATE {table}")
    assert AuditEvent.objects.count() == 2
    with guard.flush_gate(connection), transaction.atomic():
        raw("TRUNCATE audit_auditevent, audit_auditcheckpoint")
        assert not AuditEvent.objects.exists()
        transaction.set_rollback(True)  # undo: this test only proves the gate opens
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [guard.PG_SETTING])
        assert cursor.fetchone() == ("off",)
    _refused("TRUNCATE audit_auditevent")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_it_refuses_a_session_setting_other_than_on(key_file: Path):
    _requires("postgresql")
    record(1)
    for value in ("yes", "ON ", "true", ""):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [guard.PG_SETTING, value])
        _refused("TRUNCATE audit_auditevent")
    _refused("DELETE FROM audit_auditevent")
