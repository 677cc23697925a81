"""Shares: a therapist shares a ready recording with its client, and can revoke it at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from revisit.api.accounts import caller
from revisit.api.recordings import media_map
from revisit.ids import parse_id
from revisit.recordings.selectors import recordings_visible_to
from revisit.review.access import access_for
from revisit.review.models import Share
from revisit.review.selectors import share_of, shares_visible_to
from revisit.review.services import ShareError, share_create, share_revoke

router = Router(tags=["shares"])


class ShareIn(Schema):
    recording: str
    client: str
    expires_at: datetime | None = None
    allow_video: bool = True
    allow_transcript: bool = True
    allow_download: bool = False


class ShareOut(Schema):
    id: str
    recording: str
    client: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    allow_video: bool
    allow_transcript: bool
    allow_download: bool
    media: dict[str, str]


def share_out(request: HttpRequest, share: Share) -> ShareOut:
    access = access_for(caller(request), share.recording)
    return ShareOut(
        id=str(share.pk),
        recording=str(share.recording_id),
        client=str(share.client_id),
        created_at=share.created_at,
        expires_at=share.expires_at,
        revoked_at=share.revoked_at,
        allow_video=share.allow_video,
        allow_transcript=share.allow_transcript,
        allow_download=share.allow_download,
        media=media_map(access) if access is not None and share.is_active() else {},
    )


@router.post("/shares", response={201: ShareOut})
def create_share(request: HttpRequest, payload: ShareIn) -> Status[Any]:
    user = caller(request)
    pk = parse_id(payload.recording)
    recording = None if pk is None else recordings_visible_to(user).filter(pk=pk).first()
    if recording is None or str(recording.client_id) != payload.client.strip():
        raise Http404
    try:
        share = share_create(
            recording=recording,
            actor=user,
            expires_at=payload.expires_at,
            allow_video=payload.allow_video,
            allow_transcript=payload.allow_transcript,
            allow_download=payload.allow_download,
        )
    except ShareError as exc:
        raise HttpError(409, str(exc)) from None
    return Status(201, share_out(request, share))


@router.get("/shares", response=list[ShareOut])
@paginate(LimitOffsetPagination)
def list_shares(request: HttpRequest) -> list[ShareOut]:
    return [share_out(request, share) for share in shares_visible_to(caller(request))[:500]]


@router.delete("/shares/{share_id}", response={204: None})
def revoke_share(request: HttpRequest, share_id: str) -> Status[Any]:
    user = caller(request)
    share = share_of(user=user, share_id=share_id)
    if share is None or share.created_by_id != user.pk:
        raise Http404
    share_revoke(share=share, actor=user)
    return Status(204, None)
