"""Therapists hold their clients' recordings, admins any in the practice; each hold is audited,
and only an admin or whoever placed it can release it."""

from __future__ import annotations

import pytest

from revisit.audit.events import Event
from revisit.retention.models import LegalHold
from revisit.retention.services import RetentionError, legal_hold_place
from revisit.retention.tests.conftest import make_recording
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db


def url(world: World, who: str = "carol") -> str:
    return f"/clients/{getattr(world, who).pk}/holds/"


def test_it_places_a_hold_on_every_recording_of_a_client(world: World):
    alice = portal_client(world.alice)
    assert "/holds/" in alice.get("/clients/").content.decode()  # linked from the caseload
    response = alice.post(url(world), {"target": "all", "reason": "Records request 2031-4"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.client_id, hold.recording_id, hold.placed_by_id) == (
        world.carol.pk,
        None,
        world.alice.pk,
    )
    entry = assert_audited(Event.LEGAL_HOLD_PLACED, actor=world.alice, subject=hold)
    assert entry.detail["action"] == "legal_hold_placed"
    assert "Records request" not in str(entry.detail)  # the reason stays out of the log
    assert "Records request 2031-4" in alice.get(url(world)).content.decode()


def test_it_places_a_hold_on_one_recording(world: World):
    recording = make_recording(world, world.carol)
    body = {"target": str(recording.pk), "reason": "complaint"}
    assert portal_client(world.alice).post(url(world), body).status_code == 302
    assert LegalHold.objects.get().recording_id == recording.pk


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target": "all", "reason": "   "}, "Say why"),
        ({"target": "all", "reason": "x" * 301}, "under 300"),
        ({"target": "all"}, "Say why"),
        ({"target": "not-a-recording", "reason": "complaint"}, "valid choice"),
    ],
)
def test_it_refuses_a_bad_hold_with_a_message(world: World, body, message):
    response = portal_client(world.alice).post(url(world), body)
    assert response.status_code == 400 and message in response.content.decode()
    assert not LegalHold.objects.exists()


def test_it_does_not_offer_another_therapists_recording(world: World):
    bobs = make_recording(world, world.carol, therapist=world.bob)
    body = {"target": str(bobs.pk), "reason": "complaint"}
    response = portal_client(world.alice).post(url(world), body)
    assert response.status_code == 400 and not LegalHold.objects.exists()
    with pytest.raises(RetentionError):
        legal_hold_place(actor=world.alice, client=world.carol, recording=bobs, reason="x")


@pytest.mark.parametrize(
    ("who", "client"),
    [
        ("bob", "carol"),
        ("mallory", "carol"),
        ("carol", "carol"),
        ("sam", "carol"),
        ("ada", "eve"),
        ("alice", "alice"),
    ],
)
def test_it_hides_clients_out_of_reach(world: World, who: str, client: str):
    caller = portal_client(getattr(world, who))
    assert caller.get(url(world, client)).status_code == 404
    assert caller.post(url(world, client), {"target": "all", "reason": "x"}).status_code == 404
    assert not LegalHold.objects.exists()


def test_an_admin_holds_any_client_and_the_therapist_cannot_release_it(world: World):
    ada = portal_client(world.ada)
    assert ada.post(url(world), {"target": "all", "reason": "litigation"}).status_code == 302
    hold = LegalHold.objects.get()
    alice = portal_client(world.alice)
    assert alice.post(f"/holds/{hold.pk}/release/").status_code == 404
    assert LegalHold.objects.get().released_at is None
    assert ada.post(f"/holds/{hold.pk}/release/").status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by_id == world.ada.pk
    entry = assert_audited(Event.LEGAL_HOLD_RELEASED, actor=world.ada, subject=hold)
    assert entry.detail["action"] == "legal_hold_released"


def test_the_therapist_releases_her_own_hold(world: World):
    hold = legal_hold_place(actor=world.alice, client=world.carol, reason="request")
    assert portal_client(world.bob).post(f"/holds/{hold.pk}/release/").status_code == 404
    assert portal_client(world.alice).post(f"/holds/{hold.pk}/release/").status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None


@pytest.mark.parametrize("bad", ["not-an-id", "00000000-0000-0000-0000-000000000000"])
def test_it_answers_a_bad_hold_id_with_404(world: World, bad: str):
    assert portal_client(world.ada).post(f"/holds/{bad}/release/").status_code == 404
