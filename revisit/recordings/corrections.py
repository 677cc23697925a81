"""A therapist's corrections to what processing found: who spoke, and where chapters fall."""

from __future__ import annotations

import json
from dataclasses import replace

from django.db import transaction

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib.chapters import MAX_TITLE_CHARS
from revisit.lib.speakers import relabel, swap_labels
from revisit.lib.stt import Transcript
from revisit.recordings.models import Recording, RenditionKind
from revisit.recordings.pipeline import rendition_store, transcript_store
from revisit.recordings.selectors import full_transcript


class CorrectionError(Exception):
    """A correction that cannot be applied; the message says why."""


def _check_owner(recording: Recording, actor: User) -> None:
    if recording.therapist_id != actor.pk:
        raise CorrectionError("Only the recording's therapist can correct it.")


def _transcript(recording: Recording) -> Transcript:
    transcript = full_transcript(recording)
    if transcript is None:
        raise CorrectionError("This recording has no transcript yet.")
    return transcript


def _refresh_client_version(recording: Recording) -> None:
    if recording.holdbacks.exists():
        from revisit.review.reviewing import rebuild_client_version

        rebuild_client_version(recording)


def speakers_correct(
    *,
    recording: Recording,
    actor: User,
    swap: bool = False,
    segment: int | None = None,
    speaker: str | None = None,
) -> Transcript:
    """Swap the two speakers everywhere, or set one segment's speaker."""
    _check_owner(recording, actor)
    transcript = _transcript(recording)
    if swap:
        segments = swap_labels(transcript.segments)
    elif segment is not None and speaker is not None:
        try:
            segments = relabel(transcript.segments, segment_index=segment, speaker=speaker)
        except (ValueError, IndexError) as exc:
            raise CorrectionError(str(exc)) from None
    else:
        raise CorrectionError("Say `swap`, or a `segment` and its `speaker`.")
    corrected = replace(transcript, segments=segments)
    with transaction.atomic():
        transcript_store(recording, corrected)
        audit_record(
            event=Event.TRANSCRIPT_CORRECTED,
            actor=actor,
            practice=recording.practice_id,
            subject=recording,
            detail={"swap": swap, "segment": segment},
        )
        _refresh_client_version(recording)
    return corrected


def chapters_replace(
    *, recording: Recording, actor: User, chapters: list[dict[str, object]]
) -> list[dict[str, object]]:
    """Replace the chapter list (after a rename, merge or split in the editor), validated."""
    _check_owner(recording, actor)
    duration = (recording.duration or 0) + 0.5
    cleaned: list[dict[str, object]] = []
    previous_end = 0.0
    for number, chapter in enumerate(chapters, start=1):
        start, end = float(chapter["start"]), float(chapter["end"])  # type: ignore[arg-type]
        title = " ".join(str(chapter["title"]).split())
        if not title or len(title) > MAX_TITLE_CHARS:
            raise CorrectionError(
                f"Chapter {number} needs a title of 1 to {MAX_TITLE_CHARS} characters."
            )
        if not 0 <= start < end <= duration:
            raise CorrectionError(
                f"Chapter {number} must start before it ends, within the recording."
            )
        if start < previous_end - 0.001:
            raise CorrectionError(f"Chapter {number} overlaps the one before it.")
        previous_end = end
        cleaned.append({"start": round(start, 3), "end": round(end, 3), "title": title})
    with transaction.atomic():
        rendition_store(
            recording=recording, kind=RenditionKind.CHAPTERS, data=json.dumps(cleaned).encode()
        )
        audit_record(
            event=Event.TRANSCRIPT_CORRECTED,
            actor=actor,
            practice=recording.practice_id,
            subject=recording,
            detail={"chapters": len(cleaned)},
        )
        _refresh_client_version(recording)
    return cleaned
