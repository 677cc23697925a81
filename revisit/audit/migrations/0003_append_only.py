"""Database triggers that refuse UPDATE and DELETE on audit entries and checkpoints.

The SQL for each database lives in revisit/audit/guard.py (SQLite and PostgreSQL); any other
database stops the migration rather than run without the guard.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from revisit.audit import guard


def install(apps: Any, schema_editor: Any) -> None:
    for sql in guard.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def remove(apps: Any, schema_editor: Any) -> None:
    for sql in guard.remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_auditcheckpoint")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
