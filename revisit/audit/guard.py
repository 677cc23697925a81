"""The database refuses to change or delete audit rows: triggers on both supported databases.

The triggers are a guard rail, not the proof: someone who owns the database can drop them, and
that is what the signed checkpoints are for. They stop the application, an operator's ad hoc SQL
and `manage flush` from quietly rewriting history.

- **SQLite**: ``BEFORE UPDATE`` raises always. ``BEFORE DELETE`` raises unless the SQL function
  ``revisit_audit_flush_open()`` returns 1. Revisit registers that function on each of its own
  connections (:func:`register_sqlite_function`) and it returns 0 unless the test suite's database
  flush is running (:func:`flush_gate`). Any other program (the ``sqlite3`` shell, a script) has
  no such function, so its DELETE fails with "no such function": closed by default.
- **PostgreSQL**: row triggers raise on ``UPDATE`` and ``DELETE``, always. ``TRUNCATE`` (which row
  triggers do not see) is refused by a statement trigger unless the session setting
  ``revisit.audit_flush`` is ``on``, which only the test suite's flush sets.

Any other database is refused at migration time rather than left unguarded.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Final

TABLES: Final = ("audit_auditevent", "audit_auditcheckpoint")
SQLITE_FUNCTION: Final = "revisit_audit_flush_open"
PG_SETTING: Final = "revisit.audit_flush"
_REFUSED: Final = "the audit log is append-only"


def _sqlite_sql(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}: UPDATE on {table} refused'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"WHEN NOT {SQLITE_FUNCTION}() "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}: DELETE on {table} refused'); END",
    ]


def _sqlite_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update",
        f"DROP TRIGGER IF EXISTS {table}_no_delete",
    ]


_PG_FUNCTIONS: Final = [
    "CREATE OR REPLACE FUNCTION revisit_audit_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{_REFUSED}: % on % refused', TG_OP, TG_TABLE_NAME "
    "USING ERRCODE = 'integrity_constraint_violation'; "
    "END $$",
    "CREATE OR REPLACE FUNCTION revisit_audit_refuse_truncate() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"IF coalesce(current_setting('{PG_SETTING}', true), '') <> 'on' THEN "
    f"RAISE EXCEPTION '{_REFUSED}: TRUNCATE on % refused', TG_TABLE_NAME "
    "USING ERRCODE = 'integrity_constraint_violation'; "
    "END IF; RETURN NULL; END $$",
]


def _pg_sql(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION revisit_audit_refuse_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION revisit_audit_refuse_truncate()",
    ]


def _pg_drop(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
    ]


def install_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [sql for table in TABLES for sql in _sqlite_sql(table)]
    if vendor == "postgresql":
        return [*_PG_FUNCTIONS, *(sql for table in TABLES for sql in _pg_sql(table))]
    raise RuntimeError(
        f"the audit log has no append-only guard for the {vendor} database; "
        "use SQLite or PostgreSQL"
    )


def remove_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [sql for table in TABLES for sql in _sqlite_drop(table)]
    if vendor == "postgresql":
        return [
            *(sql for table in TABLES for sql in _pg_drop(table)),
            "DROP FUNCTION IF EXISTS revisit_audit_refuse_change()",
            "DROP FUNCTION IF EXISTS revisit_audit_refuse_truncate()",
        ]
    return []


def installed_triggers(connection: Any) -> set[str]:
    """Names of the guard triggers present in the database, for checks and tests."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        names = {str(row[0]) for row in cursor.fetchall()}
    return {name for name in names if name.startswith(TABLES)}


def expected_triggers(vendor: str) -> set[str]:
    suffixes = ("no_update", "no_delete") if vendor == "sqlite" else ("no_change", "no_truncate")
    return {f"{table}_{suffix}" for table in TABLES for suffix in suffixes}


# --- the flush gate: open only while the test suite empties its database -------------------------

_gate = threading.Lock()
_open_count = 0


def flush_open() -> int:
    """What the SQLite trigger asks; 1 only inside :func:`flush_gate`."""
    return 1 if _open_count > 0 else 0


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: give each SQLite connection the gate function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 0, flush_open)


@contextlib.contextmanager
def flush_gate(connection: Any) -> Iterator[None]:
    """Let the test suite's flush empty the audit tables on ``connection``; nothing else."""
    global _open_count
    with _gate:
        _open_count += 1
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', false)", [PG_SETTING])
        try:
            yield
        finally:
            if connection.vendor == "postgresql" and connection.connection is not None:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'off', false)", [PG_SETTING])
    finally:
        with _gate:
            _open_count -= 1


def allow_test_flush() -> None:
    """Wrap Django's `flush` command so it may empty the audit tables. Called only by the test
    set-up (revisit/testing/env.py): a production process never opens the gate."""
    from django.core.management.commands import flush
    from django.db import DEFAULT_DB_ALIAS, connections

    command = flush.Command
    if getattr(command, "_revisit_audit_flush", False):
        return
    original = command.handle

    def handle(self: Any, **options: Any) -> Any:
        with flush_gate(connections[options.get("database") or DEFAULT_DB_ALIAS]):
            return original(self, **options)

    command.handle = handle  # type: ignore[method-assign]  # test-only wrapper, see docstring
    command._revisit_audit_flush = True  # type: ignore[attr-defined]  # marks the wrapper
