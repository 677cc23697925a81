from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from revisit.audit.events import Event
from revisit.recordings.consent import consent_revoke
from revisit.recordings.models import ConsentScope
from revisit.review.models import Share
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World, api_client, assert_audited

pytestmark = pytest.mark.django_db


def _share(world: World, ready: Ready, **extra):
    body = {"recording": str(ready.recording.pk), "client": str(world.carol.pk), **extra}
    return api_client(world.alice).post("/api/v1/shares", body, content_type="application/json")


def test_it_shares_with_defaults_and_emails_without_phi(
    world: World, ready: Ready, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _share(world, ready)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["allow_video"] and body["allow_transcript"] and not body["allow_download"]
    expires = Share.objects.get().expires_at
    assert timedelta(days=29) < expires - timezone.now() <= timedelta(days=30)
    assert set(body["media"]) >= {"video", "audio"}
    message = mail.outbox[-1]
    assert message.to == [world.carol.email]
    text = f"{message.subject}\n{message.body}"
    for secret in ("Session 3", "Alice", world.practice.name):
        assert secret not in text
    assert_audited(Event.SHARE_CREATED, actor=world.alice)


def test_it_needs_client_review_consent(world: World, ready: Ready):
    consent_revoke(client=world.carol, scope=ConsentScope.CLIENT_REVIEW, actor=world.alice)
    response = _share(world, ready)
    assert response.status_code == 409
    assert "consented" in response.json()["detail"]


def test_it_refuses_a_recording_that_is_not_ready(world: World, ready: Ready):
    ready.recording.shareable_at = None
    ready.recording.save()
    assert _share(world, ready).status_code == 409


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"expires_at": "2000-01-01T00:00:00Z"}, 409),
        ({"expires_at": "not a date"}, 422),
        ({"allow_video": "perhaps"}, 422),
        ({"client": "someone-else"}, 404),
        ({"recording": "not-an-id"}, 404),
    ],
)
def test_it_refuses_bad_share_requests(world: World, ready: Ready, payload, status):
    response = _share(world, ready, **payload)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert Share.objects.count() == 0


def test_it_revokes_at_once(world: World, ready: Ready):
    share_id = _share(world, ready).json()["id"]
    carol = api_client(world.carol)
    assert carol.get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 200
    assert api_client(world.alice).delete(f"/api/v1/shares/{share_id}").status_code == 204
    assert carol.get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 404
    assert carol.get("/api/v1/shares").json()["items"] == []
    assert_audited(Event.SHARE_REVOKED, actor=world.alice)


def test_it_ends_access_when_a_share_expires(world: World, ready: Ready):
    _share(world, ready)
    Share.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert (
        api_client(world.carol).get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 404
    )
