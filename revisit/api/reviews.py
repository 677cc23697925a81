"""The client's side of a share: what to show before playing, bookmarks, progress and ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from revisit.accounts.models import Role
from revisit.api.accounts import caller
from revisit.api.recordings import media_map
from revisit.ids import parse_id
from revisit.recordings.models import RenditionKind
from revisit.review.access import access_for, rendition_for
from revisit.review.models import Bookmark, ContentNote, Share
from revisit.review.reviewing import (
    ReviewError,
    bookmark_add,
    bookmark_remove,
    bookmark_update,
    note_text,
    progress_record,
    rating_add,
)
from revisit.review.selectors import share_of

router = Router(tags=["review"])


class HighlightOut(Schema):
    at: float
    note: str


class BookmarkOut(Schema):
    id: str
    at: float
    note: str
    bring_to_session: bool
    created_at: datetime


class ReviewOut(Schema):
    share: str
    recording: str
    title: str
    duration: float | None
    content_note: str
    crisis_resources: str
    highlights: list[HighlightOut]
    media: dict[str, str]
    has_transcript: bool
    has_chapters: bool
    position: float
    bookmarks: list[BookmarkOut]


class BookmarkIn(Schema):
    at: float
    note: str = Field(default="", max_length=2000)
    bring_to_session: bool = False


class BookmarkPatch(Schema):
    note: str | None = Field(default=None, max_length=2000)
    bring_to_session: bool | None = None


class ProgressIn(Schema):
    position: float
    played: list[tuple[float, float]] = Field(default_factory=list, max_length=200)


class ProgressOut(Schema):
    position: float
    seconds_played: float
    seconds_replayed: float


class RatingIn(Schema):
    helpfulness: int = Field(ge=1, le=7)
    harm: int = Field(ge=1, le=7)
    comment: str = Field(default="", max_length=2000)


class RatingOut(Schema):
    id: str
    helpfulness: int
    harm: int
    created_at: datetime


def _client_share(request: HttpRequest, share_id: str) -> Share:
    user = caller(request)
    share = share_of(user=user, share_id=share_id)
    if share is None or user.role != Role.CLIENT:
        raise Http404
    return share


def bookmark_out(bookmark: Bookmark) -> BookmarkOut:
    return BookmarkOut(
        id=str(bookmark.pk),
        at=bookmark.at,
        note=note_text(bookmark.note),
        bring_to_session=bookmark.bring_to_session,
        created_at=bookmark.created_at,
    )


@router.get("/shares/{share_id}/review", response=ReviewOut)
def get_review(request: HttpRequest, share_id: str) -> ReviewOut:
    share = _client_share(request, share_id)
    access = access_for(caller(request), share.recording)
    if access is None:
        raise Http404
    recording = share.recording
    note = ContentNote.objects.filter(recording=recording).first()
    progress = getattr(share, "progress", None)
    return ReviewOut(
        share=str(share.pk),
        recording=str(recording.pk),
        title=recording.title,
        duration=recording.duration,
        content_note=note_text(note.text) if note else "",
        crisis_resources=recording.practice.crisis_resources,
        highlights=[
            HighlightOut(at=h.at, note=note_text(h.note))
            for h in recording.highlights.order_by("at")
        ],
        media=media_map(access),
        has_transcript=rendition_for(access, RenditionKind.TRANSCRIPT) is not None,
        has_chapters=rendition_for(access, RenditionKind.CHAPTERS) is not None,
        position=progress.position if progress else 0.0,
        bookmarks=[bookmark_out(b) for b in share.bookmarks.order_by("at")],
    )


@router.post("/shares/{share_id}/progress", response=ProgressOut)
def post_progress(request: HttpRequest, share_id: str, payload: ProgressIn) -> ProgressOut:
    share = _client_share(request, share_id)
    report = progress_record(
        share=share, actor=caller(request), position=payload.position, played=payload.played
    )
    return ProgressOut(**report.__dict__)


@router.post("/shares/{share_id}/bookmarks", response={201: BookmarkOut})
def post_bookmark(request: HttpRequest, share_id: str, payload: BookmarkIn) -> Status[Any]:
    share = _client_share(request, share_id)
    try:
        bookmark = bookmark_add(
            share=share,
            actor=caller(request),
            at=payload.at,
            note=payload.note,
            bring_to_session=payload.bring_to_session,
        )
    except ReviewError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(201, bookmark_out(bookmark))


def _bookmark(request: HttpRequest, share_id: str, bookmark_id: str) -> Bookmark:
    share = _client_share(request, share_id)
    pk = parse_id(bookmark_id)
    bookmark = None if pk is None else share.bookmarks.filter(pk=pk, client=caller(request)).first()
    if bookmark is None:
        raise Http404
    return bookmark


@router.patch("/shares/{share_id}/bookmarks/{bookmark_id}", response=BookmarkOut)
def patch_bookmark(
    request: HttpRequest, share_id: str, bookmark_id: str, payload: BookmarkPatch
) -> BookmarkOut:
    bookmark = _bookmark(request, share_id, bookmark_id)
    try:
        bookmark_update(
            bookmark=bookmark,
            actor=caller(request),
            note=payload.note,
            bring=payload.bring_to_session,
        )
    except ReviewError as exc:
        raise HttpError(422, str(exc)) from None
    return bookmark_out(bookmark)


@router.delete("/shares/{share_id}/bookmarks/{bookmark_id}", response={204: None})
def delete_bookmark(request: HttpRequest, share_id: str, bookmark_id: str) -> Status[Any]:
    bookmark = _bookmark(request, share_id, bookmark_id)
    bookmark_remove(bookmark=bookmark, actor=caller(request))
    return Status(204, None)


@router.post("/shares/{share_id}/ratings", response={201: RatingOut})
def post_rating(request: HttpRequest, share_id: str, payload: RatingIn) -> Status[Any]:
    share = _client_share(request, share_id)
    try:
        rating = rating_add(
            share=share,
            actor=caller(request),
            helpfulness=payload.helpfulness,
            harm=payload.harm,
            comment=payload.comment,
        )
    except ReviewError as exc:
        raise HttpError(422, str(exc)) from None
    return Status(
        201,
        RatingOut(
            id=str(rating.pk),
            helpfulness=rating.helpfulness,
            harm=rating.harm,
            created_at=rating.created_at,
        ),
    )
