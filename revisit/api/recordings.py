"""Recordings, transcripts, captions and chapters; every read decided by `review.access`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from revisit.api.accounts import caller
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib.stt import Transcript
from revisit.recordings.corrections import CorrectionError, chapters_replace, speakers_correct
from revisit.recordings.models import Recording, Rendition, RenditionKind
from revisit.recordings.selectors import recordings_visible_to
from revisit.review.access import Access, access_for, recording_access, rendition_for
from revisit.vault.services import vault_read_bytes

router = Router(tags=["recordings"])

MEDIA_KINDS = (
    RenditionKind.VIDEO,
    RenditionKind.AUDIO,
    RenditionKind.POSTER,
    RenditionKind.CAPTIONS,
    RenditionKind.WAVEFORM,
)


class RecordingOut(Schema):
    id: str
    title: str
    client: str
    therapist: str
    status: str
    progress: float
    error: str
    duration: float | None
    created_at: datetime
    shareable: bool
    renditions: dict[str, str]


class WordOut(Schema):
    start: float
    end: float
    text: str


class SegmentOut(Schema):
    start: float
    end: float
    speaker: str | None
    text: str
    words: list[WordOut]


class TranscriptOut(Schema):
    recording: str
    language: str
    segments: list[SegmentOut]


class ChapterOut(Schema):
    start: float
    end: float
    title: str


def media_url(rendition: Rendition) -> str:
    return f"{settings.PUBLIC_URL}/media/{rendition.pk}"


def media_map(access: Access) -> dict[str, str]:
    renditions = Rendition.objects.filter(recording=access.recording, kind__in=MEDIA_KINDS)
    if access.is_client:
        renditions = renditions.filter(variant=access.variant)
    else:
        renditions = renditions.filter(variant="full")
    return {r.kind: media_url(r) for r in renditions if access.allows(r.kind)}


def recording_out(recording: Recording, access: Access) -> RecordingOut:
    return RecordingOut(
        id=str(recording.pk),
        title=recording.title,
        client=str(recording.client_id),
        therapist=str(recording.therapist_id),
        status=recording.status,
        progress=round(recording.progress, 3),
        error=recording.error,
        duration=recording.duration,
        created_at=recording.created_at,
        shareable=recording.shareable_at is not None,
        renditions=media_map(access),
    )


def _access(request: HttpRequest, recording_id: str) -> Access:
    access = recording_access(user=caller(request), recording_id=recording_id)
    if access is None:
        raise Http404
    return access


@router.get("/recordings", response=list[RecordingOut])
@paginate(LimitOffsetPagination)
def list_recordings(request: HttpRequest) -> list[RecordingOut]:
    user = caller(request)
    result = []
    for recording in recordings_visible_to(user)[:500]:
        access = access_for(user, recording)
        if access is not None:
            result.append(recording_out(recording, access))
    return result


@router.get("/recordings/{recording_id}", response=RecordingOut)
def get_recording(request: HttpRequest, recording_id: str) -> RecordingOut:
    access = _access(request, recording_id)
    return recording_out(access.recording, access)


def _read(request: HttpRequest, access: Access, kind: RenditionKind) -> bytes:
    """Decrypt a small rendition for the caller, recording the access in the audit log."""
    rendition = rendition_for(access, kind)
    if rendition is None:
        raise Http404
    user = caller(request)
    with transaction.atomic():
        audit_record(
            event=Event.TRANSCRIPT_VIEWED,
            actor=user,
            practice=user.practice_id,
            subject=access.recording,
            detail={
                "rendition": str(rendition.pk),
                "kind": str(kind),
                "via": "api",
                **access.audit_detail,  # e.g. the emergency-access grant it was read under
            },
        )
    return vault_read_bytes(rendition.sealed)


@router.get("/recordings/{recording_id}/transcript", response=TranscriptOut)
def get_transcript(request: HttpRequest, recording_id: str) -> TranscriptOut:
    access = _access(request, recording_id)
    transcript = Transcript.from_json(_read(request, access, RenditionKind.TRANSCRIPT).decode())
    return _transcript_out(access, transcript)


def _transcript_out(access: Access, transcript: Transcript) -> TranscriptOut:
    return TranscriptOut(
        recording=str(access.recording.pk),
        language=transcript.language,
        segments=[
            SegmentOut(
                start=s.start,
                end=s.end,
                speaker=s.speaker,
                text=s.text,
                words=[WordOut(start=w.start, end=w.end, text=w.text) for w in s.words],
            )
            for s in transcript.segments
        ],
    )


@router.get("/recordings/{recording_id}/captions.vtt", response={200: None})
def get_captions(request: HttpRequest, recording_id: str) -> HttpResponse:
    access = _access(request, recording_id)
    body = _read(request, access, RenditionKind.CAPTIONS)
    response = HttpResponse(body, content_type="text/vtt; charset=utf-8")
    response["Cache-Control"] = "no-store, private"
    return response


@router.get("/recordings/{recording_id}/chapters", response=list[ChapterOut])
def get_chapters(request: HttpRequest, recording_id: str) -> list[ChapterOut]:
    access = _access(request, recording_id)
    chapters = json.loads(_read(request, access, RenditionKind.CHAPTERS))
    assert isinstance(chapters, list)
    return [ChapterOut(start=c["start"], end=c["end"], title=c["title"]) for c in chapters]


class SpeakerFix(Schema):
    swap: bool = False
    segment: int | None = None
    speaker: Literal["therapist", "client"] | None = None


class ChapterIn(Schema):
    start: float
    end: float
    title: str


def _own(request: HttpRequest, recording_id: str) -> Access:
    access = _access(request, recording_id)
    if access.as_role != "therapist":
        raise Http404
    return access


@router.post("/recordings/{recording_id}/speakers", response=TranscriptOut)
def correct_speakers(request: HttpRequest, recording_id: str, payload: SpeakerFix) -> TranscriptOut:
    """Swap the two speakers everywhere, or set one segment's speaker (the therapist only)."""
    access = _own(request, recording_id)
    try:
        transcript = speakers_correct(
            recording=access.recording,
            actor=caller(request),
            swap=payload.swap,
            segment=payload.segment,
            speaker=payload.speaker,
        )
    except CorrectionError as exc:
        raise HttpError(422, str(exc)) from None
    return _transcript_out(access, transcript)


@router.put("/recordings/{recording_id}/chapters", response=list[ChapterOut])
def replace_chapters(
    request: HttpRequest, recording_id: str, payload: list[ChapterIn]
) -> list[ChapterOut]:
    """Replace the chapters after renaming, merging or splitting them (the therapist only)."""
    access = _own(request, recording_id)
    try:
        chapters = chapters_replace(
            recording=access.recording,
            actor=caller(request),
            chapters=[c.dict() for c in payload],
        )
    except CorrectionError as exc:
        raise HttpError(422, str(exc)) from None
    return [ChapterOut(**c) for c in chapters]  # type: ignore[arg-type]
