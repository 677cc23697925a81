"""Withdrawing consent to review ends every share of that client at once, in one transaction."""

from __future__ import annotations

import pytest

from revisit.accounts.services import token_create
from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.recordings.consent import consent_revoke
from revisit.recordings.models import ConsentScope, RenditionKind
from revisit.retention.tests.conftest import Two, make_share
from revisit.review.models import Share
from revisit.review.tests.conftest import media_get
from revisit.testing.actors import World, api_client, assert_audited, portal_client

pytestmark = pytest.mark.django_db(transaction=True)  # the media handler reads in a thread


def test_it_ends_every_share_of_the_client_and_the_next_request_gets_404(world: World, two: Two):
    first = make_share(world, two.carol, reviewed=False)
    second = make_share(world, two.carol, reviewed=False)
    daves = make_share(world, two.dave, reviewed=False)
    video = two.carol.renditions.get(kind=RenditionKind.VIDEO, variant="full")
    bearer = {"Authorization": f"Bearer {token_create(user=world.carol).plaintext}"}
    carol_api = api_client(world.carol)
    assert media_get(f"/media/{video.pk}", {**bearer, "Range": "bytes=0-9"}).status == 206
    assert carol_api.get(f"/api/v1/recordings/{two.carol.pk}").status_code == 200

    outcome = consent_revoke(
        client=world.carol, scope=ConsentScope.CLIENT_REVIEW, actor=world.carol
    )

    assert outcome.revoked and outcome.shares_ended == 2
    assert media_get(f"/media/{video.pk}", {**bearer, "Range": "bytes=10-19"}).status == 404
    assert carol_api.get(f"/api/v1/recordings/{two.carol.pk}").status_code == 404
    assert carol_api.get("/api/v1/shares").json()["items"] == []
    assert portal_client(world.carol).get(f"/sessions/{first.pk}/").status_code == 404
    for share in (first, second):
        share.refresh_from_db()
        assert share.revoked_at is not None
        entry = assert_audited(Event.SHARE_REVOKED, actor=world.carol, subject=share)
        assert entry.detail["reason"] == "consent_revoked"
    daves.refresh_from_db()
    assert daves.revoked_at is None  # another client's shares are untouched


def test_it_writes_the_revocation_and_its_effects_in_one_transaction(world: World, two: Two):
    share = make_share(world, two.carol, reviewed=False)
    revoked = assert_audited  # keep the name short below
    consent_revoke(client=world.carol, scope=ConsentScope.CLIENT_REVIEW, actor=world.alice)
    consent_entry = revoked(Event.CONSENT_REVOKED, actor=world.alice)
    share_entry = revoked(Event.SHARE_REVOKED, actor=world.alice, subject=share)
    # Consecutive entries of one chain: nothing else was written between them.
    assert share_entry.seq == consent_entry.seq + 1
    assert AuditEvent.objects.filter(seq__gt=share_entry.seq).count() == 0


def test_it_lets_the_therapist_share_again_only_after_consent_is_given_again(
    world: World, two: Two
):
    make_share(world, two.carol, reviewed=False)
    consent_revoke(client=world.carol, scope=ConsentScope.CLIENT_REVIEW, actor=world.carol)
    body = {"recording": str(two.carol.pk), "client": str(world.carol.pk)}
    response = api_client(world.alice).post("/api/v1/shares", body, content_type="application/json")
    assert response.status_code == 409
    assert Share.objects.filter(client=world.carol, revoked_at=None).count() == 0
