"""Correcting what processing found, from the recording page: speakers and chapters."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from revisit.recordings.corrections import CorrectionError, chapters_replace, speakers_correct
from revisit.recordings.models import Recording, Rendition, RenditionKind
from revisit.recordings.views import _back, _editor, clock, parse_clock
from revisit.vault.services import vault_read_bytes


def chapter_list(recording: Recording) -> list[dict[str, Any]]:
    rendition = Rendition.objects.filter(
        recording=recording, kind=RenditionKind.CHAPTERS, variant="full"
    ).first()
    if rendition is None:
        return []
    chapters = json.loads(vault_read_bytes(rendition.sealed))
    assert isinstance(chapters, list)
    return chapters


def corrections_context(recording: Recording) -> dict[str, object]:
    has_transcript = Rendition.objects.filter(
        recording=recording, kind=RenditionKind.TRANSCRIPT, variant="full"
    ).exists()
    chapters = chapter_list(recording)
    return {
        "has_transcript": has_transcript,
        "chapters": [
            {
                "index": i,
                "start": c["start"],
                "clock": clock(float(c["start"])),
                "title": c["title"],
            }
            for i, c in enumerate(chapters)
        ],
    }


@login_required
@require_POST
def speakers_swap(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    try:
        speakers_correct(recording=recording, actor=actor, swap=True)
    except CorrectionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Therapist and client labels swapped in the transcript.")
    return _back(recording, "corrections")


@login_required
@require_POST
def chapters_edit(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    """Rename a chapter, merge it with the next one, or split one at a time."""
    actor, recording = _editor(request, recording_id)
    chapters = chapter_list(recording)
    action = request.POST.get("action", "")
    try:
        index = int(request.POST.get("index", "-1"))
        if action == "rename" and 0 <= index < len(chapters):
            chapters[index]["title"] = request.POST.get("title", "")
        elif action == "merge" and 0 <= index < len(chapters) - 1:
            following = chapters.pop(index + 1)
            chapters[index]["end"] = following["end"]
        elif action == "split":
            at = parse_clock(request.POST.get("at", ""))
            title = request.POST.get("title", "") or "New chapter"
            for position, chapter in enumerate(chapters):
                if float(chapter["start"]) < at < float(chapter["end"]):
                    chapters.insert(
                        position + 1, {"start": at, "end": chapter["end"], "title": title}
                    )
                    chapter["end"] = at
                    break
            else:
                raise CorrectionError("That time is not inside a chapter.")
        else:
            raise CorrectionError("That change is not possible.")
        chapters_replace(recording=recording, actor=actor, chapters=chapters)
    except CorrectionError as exc:
        messages.error(request, str(exc))
    except ValueError:
        messages.error(request, "Enter the time as mm:ss (for example 12:05) or seconds.")
    else:
        messages.success(request, "Chapters updated.")
    return _back(recording, "corrections")
