from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "revisit.retention"
    label = "retention"
    default_auto_field = "django.db.models.BigAutoField"
