"""Search by keyword and by meaning across every session the caller may read."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from revisit.api.accounts import caller
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib.search_index import SearchIndex, search_many
from revisit.recordings.models import RenditionKind
from revisit.recordings.selectors import recordings_visible_to
from revisit.recordings.speech import sentence_embedder
from revisit.review.access import access_for, rendition_for
from revisit.vault.services import vault_read_bytes

router = Router(tags=["search"])

MAX_SESSIONS = 200


class SearchParams(Schema):
    q: str = Field(min_length=1, max_length=200)
    recording: str | None = Field(default=None, description="search within one recording")
    limit: int = Field(default=10, ge=1, le=50)


class HitOut(Schema):
    recording: str
    start: float
    end: float
    text: str
    score: float


@router.get("/search", response=list[HitOut])
def search(request: HttpRequest, params: Query[SearchParams]) -> list[HitOut]:
    """Hits with the recording, the time to jump to, the words around it and a score.

    Only sessions the caller may read are searched: a client's own shared sessions (their
    version, if the transcript is shared with them), a therapist's own, a supervisor's with
    consent.
    """
    user = caller(request)
    recordings = recordings_visible_to(user)
    if params.recording:
        recordings = (
            recordings.filter(pk=params.recording)
            if _is_id(params.recording)
            else recordings.none()
        )
    indexes: dict[str, SearchIndex] = {}
    for recording in recordings[:MAX_SESSIONS]:
        access = access_for(user, recording)
        rendition = rendition_for(access, RenditionKind.SEARCH) if access else None
        if rendition is not None:
            indexes[str(recording.pk)] = SearchIndex.from_bytes(vault_read_bytes(rendition.sealed))
    hits = (
        search_many(indexes, params.q, sentence_embedder(), limit=params.limit) if indexes else []
    )
    with transaction.atomic():
        audit_record(
            event=Event.SEARCHED,
            actor=user,
            practice=user.practice_id,
            detail={"sessions": len(indexes), "hits": len(hits)},
        )
    return [
        HitOut(
            recording=hit.session or "",
            start=hit.start,
            end=hit.end,
            text=hit.text,
            score=round(hit.score, 4),
        )
        for hit in hits
    ]


def _is_id(value: str) -> bool:
    from revisit.ids import parse_id

    return parse_id(value) is not None
