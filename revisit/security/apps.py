from __future__ import annotations

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "revisit.security"
    label = "security"

    def ready(self) -> None:
        from revisit.security import checks  # noqa: F401  (registers the configuration checks)
