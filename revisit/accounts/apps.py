from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "revisit.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from revisit.accounts import (  # noqa: F401  (connect the audit receivers)
            receivers,
            signin_receivers,
        )
