"""Range requests against the real media handler, as a table of RFC 9110 cases."""

from __future__ import annotations

import pytest

from revisit.accounts.services import token_create
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready, media_get
from revisit.testing.actors import World

pytestmark = pytest.mark.django_db(transaction=True)

SIZE = 300_000


@pytest.fixture
def alice_auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(user=world.alice).plaintext}"}


@pytest.mark.parametrize(
    ("range_header", "status", "span"),
    [
        (None, 200, (0, SIZE - 1)),
        ("bytes=0-0", 206, (0, 0)),
        ("bytes=0-99", 206, (0, 99)),
        ("bytes=65530-65545", 206, (65530, 65545)),  # across a chunk boundary
        ("bytes=1000-", 206, (1000, SIZE - 1)),
        ("bytes=-500", 206, (SIZE - 500, SIZE - 1)),
        ("bytes=-999999", 206, (0, SIZE - 1)),  # suffix longer than the file
        ("bytes=299990-400000", 206, (299990, SIZE - 1)),  # end past the size is clamped
        ("bytes=300000-", 416, None),  # starts at the size
        ("bytes=400000-500000", 416, None),  # past the end
        ("bytes=-0", 416, None),
        ("bytes=5-4", 200, (0, SIZE - 1)),  # invalid: ignored
        ("bytes=0-1,5-9", 200, (0, SIZE - 1)),  # several ranges: the whole body
        ("items=0-9", 200, (0, SIZE - 1)),  # unknown unit
        ("bytes=abc", 200, (0, SIZE - 1)),  # malformed
        ("bytes=", 200, (0, SIZE - 1)),
    ],
)
def test_it_answers_ranges_exactly(ready: Ready, alice_auth, range_header, status, span):
    headers = dict(alice_auth)
    if range_header is not None:
        headers["Range"] = range_header
    response = media_get(f"/media/{ready.video.pk}", headers)
    assert response.status == status
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["cache-control"] == "no-store, private"
    if status == 416:
        assert response.headers["content-range"] == f"bytes */{SIZE}"
        return
    first, last = span
    assert response.body == ready.video_bytes[first : last + 1]
    assert int(response.headers["content-length"]) == last - first + 1
    if status == 206:
        assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"


def test_it_honours_if_range_only_with_the_current_etag(ready: Ready, alice_auth):
    full = media_get(f"/media/{ready.video.pk}", alice_auth, method="HEAD")
    etag = full.headers["etag"]
    assert full.body == b"" and full.headers["content-length"] == str(SIZE)
    same = media_get(
        f"/media/{ready.video.pk}", {**alice_auth, "Range": "bytes=10-19", "If-Range": etag}
    )
    assert same.status == 206 and same.body == ready.video_bytes[10:20]
    other = media_get(
        f"/media/{ready.video.pk}", {**alice_auth, "Range": "bytes=10-19", "If-Range": '"stale"'}
    )
    assert other.status == 200 and len(other.body) == SIZE


def test_it_stops_the_next_range_after_a_revoke(world: World, ready: Ready):
    share = share_create(recording=ready.recording, actor=world.alice)
    carol = {"Authorization": f"Bearer {token_create(user=world.carol).plaintext}"}
    first = media_get(f"/media/{ready.video.pk}", {**carol, "Range": "bytes=0-999"})
    assert first.status == 206
    from revisit.review.services import share_revoke

    share_revoke(share=share, actor=world.alice)
    second = media_get(f"/media/{ready.video.pk}", {**carol, "Range": "bytes=1000-1999"})
    assert second.status == 404
    assert second.headers["content-type"] == "application/problem+json"


def test_it_gives_a_calm_error_for_a_tampered_rendition(world: World, ready: Ready, alice_auth):
    from revisit.audit.events import Event
    from revisit.testing.actors import assert_audited
    from revisit.vault import services as vault

    store = vault.blobstore()
    key = ready.video.sealed.blob_key
    stored = bytearray(store.read_at(key, 0, ready.video.sealed.stored_size))
    stored[20] ^= 1  # inside the header
    store.put_bytes(key, bytes(stored))
    response = media_get(f"/media/{ready.video.pk}", alice_auth)
    assert response.status == 503
    assert "cannot be played" in response.json()["detail"]
    assert ready.video_bytes[:100] not in response.body
    assert_audited(Event.MEDIA_TAMPERED, actor=world.alice)
    from django.core import mail

    alert = mail.outbox[-1]
    assert alert.to == [world.ada.email] and str(ready.video.pk) in alert.body
    assert ready.recording.title not in alert.body


def test_it_never_sends_unverified_bytes_from_a_damaged_chunk(
    world: World, ready: Ready, alice_auth
):
    from revisit.vault import services as vault

    store = vault.blobstore()
    key = ready.video.sealed.blob_key
    stored = bytearray(store.read_at(key, 0, ready.video.sealed.stored_size))
    stored[-100] ^= 1  # inside the last chunk
    store.put_bytes(key, bytes(stored))
    response = media_get(f"/media/{ready.video.pk}", alice_auth)
    assert len(response.body) < SIZE  # the stream stopped before the damaged chunk
    assert ready.video_bytes.startswith(response.body)


def test_it_audits_a_viewing_once_not_per_range(world: World, ready: Ready, alice_auth):
    from revisit.audit.events import Event
    from revisit.audit.models import AuditEvent

    for start in range(0, 50_000, 10_000):
        media_get(
            f"/media/{ready.video.pk}", {**alice_auth, "Range": f"bytes={start}-{start + 999}"}
        )
    assert (
        AuditEvent.objects.filter(
            event=int(Event.PLAYBACK_STARTED), actor_id=world.alice.pk
        ).count()
        == 1
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_it_refuses_other_methods(ready: Ready, alice_auth, method):
    assert media_get(f"/media/{ready.video.pk}", alice_auth, method=method).status == 405
