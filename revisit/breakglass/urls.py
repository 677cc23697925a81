from __future__ import annotations

from django.urls import path

from revisit.breakglass import views

urlpatterns = [
    path("", views.grant_list, name="breakglass_list"),
    path("new/", views.grant_new, name="breakglass_new"),
    path("policy/", views.policy_update, name="breakglass_policy"),
    path("<str:grant_id>/", views.grant_detail, name="breakglass_grant"),
    path("<str:grant_id>/end/", views.grant_end, name="breakglass_end"),
    path(
        "<str:grant_id>/recordings/<str:recording_id>/",
        views.grant_recording,
        name="breakglass_recording",
    ),
]
