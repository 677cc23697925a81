from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "revisit.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from revisit.audit.guard import register_sqlite_function

        # The SQLite append-only triggers ask this function whether a delete may pass.
        connection_created.connect(register_sqlite_function, dispatch_uid="revisit-audit-guard")
