from __future__ import annotations

from django.urls import path

from revisit.recordings import capture

urlpatterns = [
    path("new/", capture.recording_new, name="recording_new"),
    path("new/consent/", capture.consent_attest, name="recording_consent_attest"),
]
