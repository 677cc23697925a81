from __future__ import annotations

import pytest

from revisit.audit.events import Event
from revisit.review.models import Bookmark, Rating
from revisit.review.reviewing import content_note_set, highlight_add
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World, api_client, assert_audited
from revisit.vault.models import SealedObject

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(world: World, ready: Ready):
    content_note_set(
        recording=ready.recording, actor=world.alice, text="We talk about a hard week at work."
    )
    highlight_add(
        recording=ready.recording, actor=world.alice, at=12.5, note="Notice how you named it."
    )
    return share_create(recording=ready.recording, actor=world.alice)


def test_it_gives_the_client_what_to_show_before_playing(world: World, shared):
    body = api_client(world.carol).get(f"/api/v1/shares/{shared.pk}/review").json()
    assert body["content_note"] == "We talk about a hard week at work."
    assert body["highlights"] == [{"at": 12.5, "note": "Notice how you named it."}]
    assert (
        "988" in body["crisis_resources"]
        or body["crisis_resources"] == world.practice.crisis_resources
    )
    assert set(body["media"]) >= {"video", "audio"}
    assert body["position"] == 0.0


def test_it_keeps_bookmark_notes_sealed_and_private(world: World, shared):
    carol = api_client(world.carol)
    note = "<script>alert('x')</script> I want to talk about this"
    made = carol.post(
        f"/api/v1/shares/{shared.pk}/bookmarks",
        {"at": 30, "note": note},
        content_type="application/json",
    )
    assert made.status_code == 201 and made.json()["note"] == note
    bookmark = Bookmark.objects.get()
    sealed = SealedObject.objects.get(pk=bookmark.note_id)
    assert sealed.kind == "note"
    listed = carol.get(f"/api/v1/shares/{shared.pk}/review").json()["bookmarks"]
    assert [b["note"] for b in listed] == [note]
    # Nobody else can read or change it.
    for intruder in (world.alice, world.dave, world.mallory):
        client = api_client(intruder)
        assert client.get(f"/api/v1/shares/{shared.pk}/review").status_code == 404
        assert (
            client.patch(
                f"/api/v1/shares/{shared.pk}/bookmarks/{bookmark.pk}",
                {"bring_to_session": True},
                content_type="application/json",
            ).status_code
            == 404
        )
    changed = carol.patch(
        f"/api/v1/shares/{shared.pk}/bookmarks/{bookmark.pk}",
        {"bring_to_session": True},
        content_type="application/json",
    )
    assert changed.json()["bring_to_session"] is True
    assert carol.delete(f"/api/v1/shares/{shared.pk}/bookmarks/{bookmark.pk}").status_code == 204
    assert Bookmark.objects.count() == 0


def test_it_records_progress_and_replays(world: World, shared):
    carol = api_client(world.carol)
    url = f"/api/v1/shares/{shared.pk}/progress"
    first = carol.post(
        url, {"position": 20, "played": [[0, 20]]}, content_type="application/json"
    ).json()
    assert first == {"position": 20.0, "seconds_played": 20.0, "seconds_replayed": 0.0}
    again = carol.post(
        url, {"position": 15, "played": [[10, 15], [40, 45]]}, content_type="application/json"
    ).json()
    assert again["seconds_played"] == 25.0 and again["seconds_replayed"] == 5.0
    assert carol.get(f"/api/v1/shares/{shared.pk}/review").json()["position"] == 15.0


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"helpfulness": 6, "harm": 2, "comment": "It helped."}, 201),
        ({"helpfulness": 0, "harm": 2}, 422),
        ({"helpfulness": 8, "harm": 2}, 422),
        ({"helpfulness": 3, "harm": -1}, 422),
        ({"helpfulness": "lots", "harm": 2}, 422),
        ({"harm": 2}, 422),
        ({"helpfulness": 3, "harm": 3, "comment": "x" * 2001}, 422),
    ],
)
def test_it_stores_ratings_in_range(world: World, shared, payload, status):
    response = api_client(world.carol).post(
        f"/api/v1/shares/{shared.pk}/ratings", payload, content_type="application/json"
    )
    assert response.status_code == status, response.content
    assert Rating.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        assert_audited(Event.REVIEW_RATED, actor=world.carol)


def test_it_refuses_reviews_after_revoke(world: World, shared):
    from revisit.review.services import share_revoke

    share_revoke(share=shared, actor=world.alice)
    carol = api_client(world.carol)
    assert carol.get(f"/api/v1/shares/{shared.pk}/review").status_code == 404
    assert (
        carol.post(
            f"/api/v1/shares/{shared.pk}/ratings",
            {"helpfulness": 3, "harm": 3},
            content_type="application/json",
        ).status_code
        == 404
    )
