from __future__ import annotations

from django.apps import AppConfig


class BreakGlassConfig(AppConfig):
    name = "revisit.breakglass"
    label = "breakglass"
    verbose_name = "Emergency access"
    default_auto_field = "django.db.models.BigAutoField"
