"""What the client did with a share, as the therapist sees it (and never a bookmark not brought)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.utils import timezone

from revisit.recordings.consent import consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope
from revisit.review.activity import share_activity
from revisit.review.models import PlaybackSession, Share
from revisit.review.reviewing import bookmark_add, progress_record, rating_add
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def share(world: World, ready: Ready) -> Share:
    return share_create(recording=ready.recording, actor=world.alice)


def reviewed(world: World, share: Share) -> None:
    """carol plays 0-30 s, goes back over 10-20 s, bookmarks twice and rates the review."""
    progress_record(share=share, actor=world.carol, position=30, played=[(0, 30)])
    progress_record(share=share, actor=world.carol, position=20, played=[(10, 20)])
    bookmark_add(
        share=share, actor=world.carol, at=12, note="Ask about <this>", bring_to_session=True
    )
    bookmark_add(share=share, actor=world.carol, at=40, note="Only for me", bring_to_session=False)
    rating_add(share=share, actor=world.carol, helpfulness=6, harm=2, comment="It helped & hurt")


def page(world: World, ready: Ready, who: str = "alice") -> str:
    response = portal_client(getattr(world, who)).get(f"/recordings/{ready.recording.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_says_when_nothing_was_reviewed_yet(world: World, share: Share):
    activity = share_activity(share=share)
    assert not activity.reviewed
    assert (activity.seconds_played, activity.percent_played) == (0, 0)
    assert activity.replays == () and activity.ratings == () and activity.bookmarks == ()
    assert activity.first_played_at is None and activity.last_seen_at is None


def test_it_summarises_how_much_was_played_and_replayed(world: World, share: Share):
    reviewed(world, share)
    activity = share_activity(share=share)
    assert activity.reviewed and activity.first_played_at is not None
    assert activity.seconds_played == 30.0
    assert activity.percent_played == 50  # of a 60-second recording
    assert activity.replays == ((10.0, 20.0),)


def test_it_gives_ratings_with_their_comments(world: World, share: Share):
    reviewed(world, share)
    (rating,) = share_activity(share=share).ratings
    assert (rating.helpfulness, rating.harm, rating.comment) == (6, 2, "It helped & hurt")


def test_it_gives_only_the_bookmarks_the_client_brings(world: World, share: Share):
    reviewed(world, share)
    bookmarks = share_activity(share=share).bookmarks
    assert [(b.at, b.note) for b in bookmarks] == [(12.0, "Ask about <this>")]


def test_it_takes_the_last_seen_time_from_streaming_too(world: World, ready: Ready, share: Share):
    reviewed(world, share)
    later = timezone.now() + timedelta(hours=2)
    PlaybackSession.objects.create(
        user=world.carol, rendition=ready.video, share=share, last_seen_at=later
    )
    assert share_activity(share=share).last_seen_at == later


def test_it_keeps_each_shares_activity_apart(world: World, ready: Ready, share: Share):
    reviewed(world, share)
    second = share_create(recording=ready.recording, actor=world.alice)
    activity = share_activity(share=second)
    assert not activity.reviewed and activity.ratings == () and activity.bookmarks == ()


def test_it_shows_the_therapist_what_the_client_did(world: World, ready: Ready, share: Share):
    reviewed(world, share)
    text = page(world, ready)
    assert "first played" in text and "last seen" in text
    assert "00:30 of 01:00 played (50%)" in text
    assert "00:10\u201300:20" in text
    assert "Helpfulness <strong>6</strong> of 7" in text
    assert "Harm or distress <strong>2</strong> of 7" in text
    assert html.escape("It helped & hurt") in text
    assert html.escape("Ask about <this>") in text and "Ask about <this>" not in text
    assert 'data-seek="12.0"' in text
    assert "Only for me" not in text and 'data-seek="40.0"' not in text


def test_it_shows_not_yet_reviewed(world: World, ready: Ready, share: Share):
    text = page(world, ready)
    assert "Not yet" in text and "00:00 of 01:00 played (0%)" in text


def test_it_shows_a_supervisor_numbers_but_not_what_the_client_wrote(
    world: World, ready: Ready, share: Share
):
    reviewed(world, share)
    consent_give(
        client=world.carol,
        scope=ConsentScope.SUPERVISION,
        actor=world.alice,
        method=ConsentMethod.VERBAL,
    )
    text = page(world, ready, who="sam")
    assert "Helpfulness <strong>6</strong> of 7" in text and "00:10\u201300:20" in text
    assert "It helped" not in text and "Ask about" not in text
    assert "shown only to their therapist" in text
    assert share_activity(share=share, include_client_text=False).ratings[0].comment == ""
