"""The therapist corrects speakers and chapters; nobody else can."""

from __future__ import annotations

import json

import pytest

from revisit.lib.stt import Segment, Transcript, Word
from revisit.recordings.models import Rendition, RenditionKind
from revisit.review.tests.conftest import make_ready_recording
from revisit.testing.actors import World, api_client
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def transcribed(world: World):
    ready = make_ready_recording(world)
    segments = tuple(
        Segment(
            start=float(i * 5),
            end=float(i * 5 + 4),
            text=f"line {i}",
            words=(Word(float(i * 5), float(i * 5 + 4), f"line{i}", 0.9),),
            speaker="therapist" if i % 2 == 0 else "client",
        )
        for i in range(4)
    )
    data = Transcript(language="en", duration=20.0, segments=segments).to_json().encode()
    sealed = vault.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.TRANSCRIPT, data=data
    )
    Rendition.objects.create(
        recording=ready.recording, kind=RenditionKind.TRANSCRIPT, sealed=sealed
    )
    return ready.recording


def test_it_swaps_speakers_and_relabels_one_segment(world: World, transcribed):
    client = api_client(world.alice)
    url = f"/api/v1/recordings/{transcribed.pk}/speakers"
    swapped = client.post(url, {"swap": True}, content_type="application/json").json()
    assert [s["speaker"] for s in swapped["segments"]] == [
        "client",
        "therapist",
        "client",
        "therapist",
    ]
    one = client.post(
        url, {"segment": 0, "speaker": "therapist"}, content_type="application/json"
    ).json()
    assert one["segments"][0]["speaker"] == "therapist"
    captions = client.get(f"/api/v1/recordings/{transcribed.pk}/captions.vtt").content.decode()
    assert "<v Therapist>" in captions


@pytest.mark.parametrize(
    "payload", [{}, {"segment": 9, "speaker": "client"}, {"segment": 0, "speaker": "narrator"}]
)
def test_it_refuses_bad_speaker_corrections(world: World, transcribed, payload):
    response = api_client(world.alice).post(
        f"/api/v1/recordings/{transcribed.pk}/speakers", payload, content_type="application/json"
    )
    assert response.status_code == 422


def test_it_replaces_chapters_after_an_edit(world: World, transcribed):
    chapters = [
        {"start": 0, "end": 30, "title": "  Opening   the session "},
        {"start": 30, "end": 60, "title": "Work"},
    ]
    response = api_client(world.alice).put(
        f"/api/v1/recordings/{transcribed.pk}/chapters", chapters, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()[0]["title"] == "Opening the session"
    stored = Rendition.objects.get(recording=transcribed, kind="chapters")
    assert json.loads(vault.vault_read_bytes(stored.sealed))[1]["title"] == "Work"


@pytest.mark.parametrize(
    "chapters",
    [
        [{"start": 10, "end": 5, "title": "Backwards"}],
        [{"start": 0, "end": 500, "title": "Too long"}],
        [{"start": 0, "end": 30, "title": ""}],
        [{"start": 0, "end": 30, "title": "A"}, {"start": 20, "end": 40, "title": "Overlap"}],
        [{"start": 0, "end": 30, "title": "x" * 81}],
    ],
)
def test_it_refuses_bad_chapters(world: World, transcribed, chapters):
    response = api_client(world.alice).put(
        f"/api/v1/recordings/{transcribed.pk}/chapters", chapters, content_type="application/json"
    )
    assert response.status_code == 422


def test_it_checks_ownership(world: World, transcribed):
    for intruder in (world.bob, world.carol, world.sam, world.mallory):
        client = api_client(intruder)
        assert (
            client.post(
                f"/api/v1/recordings/{transcribed.pk}/speakers",
                {"swap": True},
                content_type="application/json",
            ).status_code
            == 404
        )
        assert (
            client.put(
                f"/api/v1/recordings/{transcribed.pk}/chapters", [], content_type="application/json"
            ).status_code
            == 404
        )


def _page_post(world: World, url: str, data: dict[str, str]):
    from revisit.testing.actors import portal_client

    return portal_client(world.alice).post(url, data, follow=True)


def test_it_corrects_from_the_recording_page(world: World, transcribed):
    from revisit.testing.actors import portal_client

    chapters = [
        {"start": 0, "end": 30, "title": "Opening"},
        {"start": 30, "end": 60, "title": "Work"},
    ]
    api_client(world.alice).put(
        f"/api/v1/recordings/{transcribed.pk}/chapters", chapters, content_type="application/json"
    )
    base = f"/recordings/{transcribed.pk}"
    page = portal_client(world.alice).get(f"{base}/").content.decode()
    assert "Swap therapist and client labels" in page and 'value="Opening"' in page
    _page_post(world, f"{base}/speakers/swap/", {})
    transcript = (
        api_client(world.alice).get(f"/api/v1/recordings/{transcribed.pk}/transcript").json()
    )
    assert transcript["segments"][0]["speaker"] == "client"
    _page_post(
        world, f"{base}/chapters/", {"action": "rename", "index": "1", "title": "Job <b>stress</b>"}
    )
    _page_post(world, f"{base}/chapters/", {"action": "split", "at": "0:45", "title": "Sleep"})
    got = api_client(world.alice).get(f"/api/v1/recordings/{transcribed.pk}/chapters").json()
    assert [(c["start"], c["title"]) for c in got] == [
        (0, "Opening"),
        (30, "Job <b>stress</b>"),
        (45, "Sleep"),
    ]
    _page_post(world, f"{base}/chapters/", {"action": "merge", "index": "0"})
    got = api_client(world.alice).get(f"/api/v1/recordings/{transcribed.pk}/chapters").json()
    assert [c["title"] for c in got] == ["Opening", "Sleep"] and got[0]["end"] == 45
    page = portal_client(world.alice).get(f"{base}/").content.decode()
    assert "<b>stress</b>" not in page
    bad = _page_post(world, f"{base}/chapters/", {"action": "split", "at": "nonsense"})
    assert "Enter the time as mm:ss" in bad.content.decode()


def test_it_keeps_the_correction_pages_to_the_therapist(world: World, transcribed):
    from revisit.testing.actors import portal_client

    for intruder in (world.bob, world.carol, world.mallory):
        client = portal_client(intruder)
        assert client.post(f"/recordings/{transcribed.pk}/speakers/swap/").status_code == 404
        assert (
            client.post(f"/recordings/{transcribed.pk}/chapters/", {"action": "merge"}).status_code
            == 404
        )
