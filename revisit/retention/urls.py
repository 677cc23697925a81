from __future__ import annotations

from django.urls import include, path

from revisit.retention import views

urlpatterns = [
    path("practice/retention/", views.retention_policy, name="retention_policy"),
    path("clients/<uuid:client_id>/holds/", views.client_holds, name="client_holds"),
    path("holds/<uuid:hold_id>/release/", views.hold_release, name="hold_release"),
    # The consent ledger pages (a client's own, and on a therapist's client page).
    path("", include("revisit.recordings.consent_urls")),
]
