"""Search returns timestamps from sessions the caller may read, and nothing else."""

from __future__ import annotations

import pytest

from revisit.audit.events import Event
from revisit.lib.search_index import SearchIndex
from revisit.lib.stt import Segment, Transcript, Word
from revisit.recordings.models import Rendition, RenditionKind
from revisit.recordings.speech import sentence_embedder
from revisit.review.services import share_create
from revisit.review.tests.conftest import make_ready_recording
from revisit.testing.actors import World, api_client, assert_audited
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind

pytestmark = pytest.mark.django_db

LINES = [
    (0.0, "Thanks for coming in today. How has the week been?"),
    (4.0, "I have been smoking a lot more since the new job started."),
    (9.0, "You reach for a cigarette when work gets stressful."),
    (14.0, "My sister keeps telling me to cut down on drinking too."),
    (19.0, "Let us talk about what you would like to change first."),
]


def _transcript() -> Transcript:
    segments = []
    for start, text in LINES:
        words = tuple(
            Word(start=start + i * 0.3, end=start + i * 0.3 + 0.25, text=w, probability=0.9)
            for i, w in enumerate(text.split())
        )
        segments.append(Segment(start=start, end=words[-1].end, text=text, words=words))
    return Transcript(language="en", duration=25.0, segments=tuple(segments))


@pytest.fixture
def indexed(world: World):
    ready = make_ready_recording(world)
    index = SearchIndex.from_transcript(_transcript(), sentence_embedder())
    sealed = vault.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.EMBEDDING, data=index.to_bytes()
    )
    Rendition.objects.create(recording=ready.recording, kind=RenditionKind.SEARCH, sealed=sealed)
    return ready


def test_it_finds_a_moment_by_meaning_and_returns_its_time(world: World, indexed):
    hits = api_client(world.alice).get("/api/v1/search", {"q": "cigarettes"}).json()
    assert hits and hits[0]["recording"] == str(indexed.recording.pk)
    assert 3.5 <= hits[0]["start"] <= 12.0
    assert "smoking" in hits[0]["text"] or "cigarette" in hits[0]["text"]
    assert_audited(Event.SEARCHED, actor=world.alice)


def test_it_searches_only_what_the_caller_may_read(world: World, indexed):
    for outsider in (world.bob, world.dave, world.mallory, world.carol, world.sam):
        assert api_client(outsider).get("/api/v1/search", {"q": "smoking"}).json() == []
    share_create(recording=indexed.recording, actor=world.alice, allow_transcript=False)
    assert api_client(world.carol).get("/api/v1/search", {"q": "smoking"}).json() == []


def test_it_lets_the_client_search_a_shared_transcript(world: World, indexed):
    share_create(recording=indexed.recording, actor=world.alice)
    hits = api_client(world.carol).get("/api/v1/search", {"q": "drinking"}).json()
    assert hits and hits[0]["recording"] == str(indexed.recording.pk)


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "x" * 201}, {"q": "a", "limit": 0}, {"q": "a", "limit": 99}]
)
def test_it_refuses_bad_queries(world: World, indexed, params):
    response = api_client(world.alice).get("/api/v1/search", params)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_it_searches_within_one_recording(world: World, indexed):
    client = api_client(world.alice)
    assert client.get(
        "/api/v1/search", {"q": "smoking", "recording": str(indexed.recording.pk)}
    ).json()
    assert client.get("/api/v1/search", {"q": "smoking", "recording": "not-an-id"}).json() == []
