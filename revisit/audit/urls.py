from __future__ import annotations

from django.urls import path

from revisit.audit import views

urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    path("export.csv", views.audit_export, name="audit_export"),
]
