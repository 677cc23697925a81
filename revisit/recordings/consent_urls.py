from __future__ import annotations

from django.urls import path

from revisit.recordings import views_consent

urlpatterns = [
    path("consents/", views_consent.my_consents, name="my_consents"),
    path("consents/<str:scope>/give/", views_consent.my_consent_give, name="my_consent_give"),
    path(
        "consents/<str:scope>/withdraw/",
        views_consent.my_consent_withdraw,
        name="my_consent_withdraw",
    ),
    path(
        "clients/<uuid:client_id>/consents/",
        views_consent.client_consents,
        name="client_consents",
    ),
    path(
        "clients/<uuid:client_id>/consents/<str:scope>/withdraw/",
        views_consent.client_consent_withdraw,
        name="client_consent_withdraw",
    ),
]
