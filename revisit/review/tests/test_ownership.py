"""The IDOR matrix: every role asking for someone else's object gets 404, on every endpoint."""

from __future__ import annotations

import pytest

from revisit.accounts.services import token_create
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready, media_get
from revisit.testing.actors import World, api_client

pytestmark = pytest.mark.django_db(transaction=True)

OUTSIDERS = ["bob", "dave", "sam", "ada", "mallory", "eve"]


def _api_paths(ready: Ready, share_id: str) -> list[tuple[str, str]]:
    rid = ready.recording.pk
    return [
        ("get", f"/api/v1/recordings/{rid}"),
        ("get", f"/api/v1/recordings/{rid}/transcript"),
        ("get", f"/api/v1/recordings/{rid}/captions.vtt"),
        ("get", f"/api/v1/recordings/{rid}/chapters"),
        ("delete", f"/api/v1/shares/{share_id}"),
    ]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_it_checks_ownership(world: World, ready: Ready, who: str):
    share = share_create(recording=ready.recording, actor=world.alice)
    intruder = getattr(world, who)
    client = api_client(intruder)
    for method, path in _api_paths(ready, str(share.pk)):
        response = getattr(client, method)(path)
        assert response.status_code == 404, (who, path, response.status_code)
        assert response["Content-Type"] == "application/problem+json"
    auth = {"Authorization": f"Bearer {token_create(user=intruder).plaintext}"}
    for rendition in (ready.video, ready.audio, ready.captions):
        assert media_get(f"/media/{rendition.pk}", auth).status == 404
    listing = client.get("/api/v1/recordings").json()
    assert all(item["id"] != str(ready.recording.pk) for item in listing["items"])
    shares = client.get("/api/v1/shares").json()
    assert all(item["id"] != str(share.pk) for item in shares["items"])


def test_it_lets_the_client_see_only_while_shared(world: World, ready: Ready):
    carol = api_client(world.carol)
    assert carol.get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 404
    share = share_create(recording=ready.recording, actor=world.alice, allow_video=False)
    body = carol.get(f"/api/v1/recordings/{ready.recording.pk}").json()
    assert set(body["renditions"]) == {"audio", "captions"}  # video not allowed by this share
    auth = {"Authorization": f"Bearer {token_create(user=world.carol).plaintext}"}
    assert media_get(f"/media/{ready.video.pk}", auth).status == 404
    assert media_get(f"/media/{ready.audio.pk}", auth).status == 200
    shares = carol.get("/api/v1/shares").json()["items"]
    assert [s["id"] for s in shares] == [str(share.pk)]
    assert set(shares[0]["media"]) == {"audio", "captions"}
    assert (
        carol.delete(f"/api/v1/shares/{share.pk}").status_code == 404
    )  # only the therapist revokes


def test_it_lets_a_supervisor_see_only_with_supervision_consent(world: World, ready: Ready):
    from revisit.recordings.consent import consent_give
    from revisit.recordings.models import ConsentMethod, ConsentScope

    sam = api_client(world.sam)
    assert sam.get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 404
    consent_give(
        client=world.carol,
        scope=ConsentScope.SUPERVISION,
        actor=world.alice,
        method=ConsentMethod.VERBAL,
    )
    assert sam.get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 200
    assert [r["id"] for r in sam.get("/api/v1/recordings").json()["items"]] == [
        str(ready.recording.pk)
    ]
