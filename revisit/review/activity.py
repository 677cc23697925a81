"""What a client did with a share, summarised for the therapist who made it.

Reads only: whether and when the client reviewed, how much they played, which moments they
replayed, how they rated it, and the bookmarks they chose to bring to a session. Bookmarks the
client kept to themselves are never read here, not even their count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max

from revisit.review.models import PlaybackSession, ReviewProgress, Share
from revisit.review.reviewing import note_text

Span = tuple[float, float]


@dataclass(frozen=True)
class RatingSummary:
    helpfulness: int
    harm: int
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class BroughtBookmark:
    at: float
    note: str
    created_at: datetime


@dataclass(frozen=True)
class ShareActivity:
    share: Share
    first_played_at: datetime | None
    last_seen_at: datetime | None
    seconds_played: float
    duration: float | None
    replays: tuple[Span, ...]
    ratings: tuple[RatingSummary, ...]
    bookmarks: tuple[BroughtBookmark, ...]

    @property
    def reviewed(self) -> bool:
        return self.first_played_at is not None or self.seconds_played > 0

    @property
    def percent_played(self) -> int | None:
        """Share of the recording played at least once, 0-100; None when the length is unknown."""
        if not self.duration or self.duration <= 0:
            return None
        return max(0, min(100, round(100 * self.seconds_played / self.duration)))


def _spans(raw: object) -> list[Span]:
    spans: list[Span] = []
    if not isinstance(raw, list):
        return spans
    for item in raw:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            start, end = float(item[0]), float(item[1])
            if end > start:
                spans.append((start, end))
    return sorted(spans)


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def share_activity(*, share: Share, include_client_text: bool = True) -> ShareActivity:
    """Summarise one share. `include_client_text=False` leaves out what the client wrote
    (rating comments, brought bookmark notes): for readers other than the share's therapist."""
    progress = ReviewProgress.objects.filter(share=share).first()
    played = _spans(progress.played) if progress is not None else []
    replays = _spans(progress.replays) if progress is not None else []
    streamed = PlaybackSession.objects.filter(share=share).aggregate(last=Max("last_seen_at"))
    last_seen = _latest(
        streamed["last"],
        progress.updated_at if progress is not None and played else None,
    )
    ratings = tuple(
        RatingSummary(
            helpfulness=rating.helpfulness,
            harm=rating.harm,
            comment=note_text(rating.comment) if include_client_text else "",
            created_at=rating.created_at,
        )
        for rating in share.ratings.select_related("comment").order_by("created_at")
    )
    bookmarks = tuple(
        BroughtBookmark(
            at=bookmark.at,
            note=note_text(bookmark.note) if include_client_text else "",
            created_at=bookmark.created_at,
        )
        for bookmark in share.bookmarks.filter(bring_to_session=True)
        .select_related("note")
        .order_by("at")
    )
    return ShareActivity(
        share=share,
        first_played_at=progress.first_played_at if progress is not None else None,
        last_seen_at=last_seen,
        seconds_played=round(sum(end - start for start, end in played), 1),
        duration=share.recording.duration,
        replays=tuple(replays),
        ratings=ratings,
        bookmarks=bookmarks,
    )
