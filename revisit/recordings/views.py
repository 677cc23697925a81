"""The therapist's recording pages: the list, and one recording with its progress, player,
sharing, holding back, highlights, content note and what the client did with each share.

Each view parses input and calls one service. A supervisor with the client's supervision consent
may look at a recording read-only; anyone else gets a 404, as if it did not exist.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from revisit.accounts.models import Role, User
from revisit.edge.media import PREFIX as MEDIA_PREFIX
from revisit.recordings.consent import consent_current
from revisit.recordings.models import (
    ConsentScope,
    Recording,
    RecordingStatus,
    Rendition,
    RenditionKind,
)
from revisit.recordings.selectors import recordings_visible_to
from revisit.review.access import Access, recording_access
from revisit.review.activity import ShareActivity, share_activity
from revisit.review.models import ContentNote, HoldBack, Share
from revisit.review.reviewing import (
    ReviewError,
    content_note_set,
    highlight_add,
    highlight_remove,
    holdback_add,
    holdback_remove,
    note_text,
)
from revisit.review.services import ShareError, share_create, share_revoke

STEP_LABELS = {
    "renditions": "Playable copies (video and audio)",
    "poster": "Preview image",
    "waveform": "Waveform",
    "transcript": "Transcript and captions",
}
_PART = re.compile(r"\d{1,6}")
_SECONDS = re.compile(r"\d{1,6}(\.\d{1,3})?")
DASH = "\u2013"  # an en dash between two times
_EXCEPTION_NAME = re.compile(r"[A-Z]\w*(Error|Exception)")


def clock(seconds: float) -> str:
    """12:05, or 1:02:05 past an hour."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def parse_clock(text: str) -> float:
    """ "75", "75.5", "1:15", "01:15.5" or "1:01:15" as seconds; ValueError otherwise."""
    parts = text.strip().split(":")
    if len(parts) > 3 or not _SECONDS.fullmatch(parts[-1]):
        raise ValueError(text)
    if any(not _PART.fullmatch(part) for part in parts[:-1]):
        raise ValueError(text)
    numbers = [int(part) for part in parts[:-1]] + [float(parts[-1])]
    if (len(numbers) > 1 and numbers[-1] >= 60) or (len(numbers) == 3 and numbers[1] >= 60):
        raise ValueError(text)
    total = 0.0
    for number in numbers:
        total = total * 60 + number
    return total


# --- Forms ------------------------------------------------------------------------------------


class ClockField(forms.CharField):
    default_error_messages = {
        "invalid": "Enter a time as mm:ss (for example 12:05) or as a number of seconds.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> float:
        text = super().clean(value)
        try:
            return parse_clock(str(text))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ShareForm(forms.Form):
    expires_on = forms.DateField(
        label="Available until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Access ends at the end of this day. You can revoke it at any time before.",
        error_messages={"invalid": "Enter a date, for example 2027-03-31."},
    )
    allow_video = forms.BooleanField(
        label="Show the video (otherwise audio only)", required=False, initial=True
    )
    allow_transcript = forms.BooleanField(label="Show the transcript", required=False, initial=True)
    allow_download = forms.BooleanField(
        label="Allow an encrypted download for offline listening", required=False, initial=False
    )

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data["expires_on"]
        if day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later date.")
        return day

    def expires_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.cleaned_data["expires_on"], time(23, 59)))


class HoldBackForm(forms.Form):
    start = ClockField(label="From")
    end = ClockField(label="To")
    reason = forms.ChoiceField(label="Why", choices=HoldBack._meta.get_field("reason").flatchoices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, float) and isinstance(end, float) and end <= start:
            self.add_error("end", "The end must come after the start.")
        return data


class HighlightForm(forms.Form):
    at = ClockField(label="At")
    note = forms.CharField(
        label="Note for the client",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class ContentNoteForm(forms.Form):
    text = forms.CharField(
        label="Content note",
        help_text="Shown to the client before they press play. Leave empty for none.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


# --- Who may see what -------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user


def _viewer(request: HttpRequest, recording_id: uuid.UUID) -> Access:
    access = recording_access(user=_user(request), recording_id=recording_id)
    if access is None or access.as_role not in (Role.THERAPIST, Role.SUPERVISOR):
        raise Http404  # clients have their own player; everyone else: no such recording
    return access


def _editor(request: HttpRequest, recording_id: uuid.UUID) -> tuple[User, Recording]:
    access = _viewer(request, recording_id)
    if access.as_role != Role.THERAPIST:
        raise Http404  # a supervisor looks, but changes nothing
    return _user(request), access.recording


def _back(recording: Recording, anchor: str) -> HttpResponse:
    return redirect(reverse("recording_detail", args=[recording.pk]) + f"#{anchor}")


# --- The list ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def recording_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role not in (Role.THERAPIST, Role.SUPERVISOR):
        raise Http404
    active = Share.objects.filter(revoked_at=None, expires_at__gt=timezone.now()).order_by(
        "-expires_at"
    )
    recordings = recordings_visible_to(user).select_related("therapist")
    recordings = recordings.prefetch_related(Prefetch("shares", active, to_attr="active_shares"))
    return render(
        request,
        "recordings/list.html",
        {"recordings": recordings[:500], "is_supervisor": user.role == Role.SUPERVISOR},
    )


# --- One recording ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    id: str
    at: float
    clock: str
    text: str


@dataclass(frozen=True)
class HeldRange:
    id: str
    start: float
    clock: str
    reason: str


@dataclass(frozen=True)
class ShareRow:
    share: Share
    active: bool
    activity: ShareActivity
    played: str
    replays: list[str]
    bookmarks: list[Moment]


@dataclass
class DetailForms:
    share: ShareForm | None = None
    holdback: HoldBackForm | None = None
    highlight: HighlightForm | None = None
    content_note: ContentNoteForm | None = None


def _share_row(share: Share, *, with_text: bool) -> ShareRow:
    activity = share_activity(share=share, include_client_text=with_text)
    played = clock(activity.seconds_played)
    if activity.duration:
        played += f" of {clock(activity.duration)}"
    return ShareRow(
        share=share,
        active=share.is_active(),
        activity=activity,
        played=played,
        replays=[f"{clock(s)}{DASH}{clock(e)}" for s, e in activity.replays],
        bookmarks=[Moment("", b.at, clock(b.at), b.note) for b in activity.bookmarks],
    )


def _media(recording: Recording) -> dict[str, str]:
    """Same-origin media URLs of the full version (the media handler authorizes each request)."""
    found = Rendition.objects.filter(recording=recording, variant="full")
    return {r.kind: f"{MEDIA_PREFIX}{r.pk}" for r in found}


def _client_version_state(recording: Recording, holds: list[HoldBack]) -> str:
    """ "" (nothing held back), "building" (none yet: the client can open nothing) or "ready".

    Every change to what is held back withdraws the client's version at once, so there is
    never an older version on offer while a new one is built."""
    if not holds:
        return ""
    built = Rendition.objects.filter(
        recording=recording, variant="client", kind=RenditionKind.AUDIO
    ).exists()
    return "ready" if built else "building"


def _share_form_place(
    editable: bool, shareable: bool, has_active: bool, form: ShareForm | None
) -> str:
    """Where the share form goes: the prominent next step, "share again", or nowhere. A refused
    attempt is always shown with its message, even when the page would not offer sharing."""
    if not editable:
        return ""
    if shareable and has_active:
        return "again"
    if shareable or (form is not None and form.errors):
        return "prompt"
    return ""


def _detail(
    request: HttpRequest, access: Access, forms_: DetailForms | None = None, status: int = 200
) -> HttpResponse:
    recording = access.recording
    editable = access.as_role == Role.THERAPIST
    forms_ = forms_ or DetailForms()
    note = ContentNote.objects.filter(recording=recording).select_related("text").first()
    if editable:
        forms_.share = forms_.share or ShareForm(
            prefix="share",
            initial={
                "expires_on": timezone.localdate()
                + timedelta(days=recording.practice.share_days_default)
            },
        )
        forms_.holdback = forms_.holdback or HoldBackForm(prefix="hold")
        forms_.highlight = forms_.highlight or HighlightForm(prefix="hl")
        forms_.content_note = forms_.content_note or ContentNoteForm(
            prefix="note", initial={"text": note_text(note.text) if note else ""}
        )
    holds = list(recording.holdbacks.order_by("start"))
    shares = [
        _share_row(s, with_text=editable)
        for s in recording.shares.select_related("recording").order_by("-created_at")
    ]
    media = _media(recording)
    has_active = any(row.active for row in shares)
    shareable = recording.shareable_at is not None and recording.status != RecordingStatus.FAILED
    steps = list(recording.steps.order_by("id"))
    context = {
        "recording": recording,
        "client_name": recording.client.label,
        "editable": editable,
        "forms": forms_,
        "steps": [
            {
                "label": STEP_LABELS.get(s.name, s.name.capitalize()),
                "status": s.status,
                "status_label": s.get_status_display(),
                "error": "an unexpected problem; it is tried again"
                if _EXCEPTION_NAME.fullmatch(s.error)
                else s.error,
                "attempts": s.attempts,
                "seconds": s.seconds,
            }
            for s in steps
        ],
        "processing": recording.status in (RecordingStatus.PROCESSING, RecordingStatus.UPLOADING),
        "failed": recording.status == RecordingStatus.FAILED,
        "shareable": shareable,
        "percent": round(recording.progress * 100),
        "duration_clock": clock(recording.duration or 0),
        "video": media.get(RenditionKind.VIDEO),
        "audio": media.get(RenditionKind.AUDIO),
        "poster": media.get(RenditionKind.POSTER),
        "captions": media.get(RenditionKind.CAPTIONS),
        "poll_url": f"/api/v1/recordings/{recording.pk}",
        "holdbacks": [
            HeldRange(
                str(h.pk), h.start, f"{clock(h.start)}{DASH}{clock(h.end)}", h.get_reason_display()
            )
            for h in holds
        ],
        "client_version": _client_version_state(recording, holds),
        "highlights": [
            Moment(str(h.pk), h.at, clock(h.at), note_text(h.note))
            for h in recording.highlights.select_related("note").order_by("at")
        ],
        "content_note": note_text(note.text) if note else "",
        "shares": shares,
        "has_active_share": has_active,
        "share_form_place": _share_form_place(editable, shareable, has_active, forms_.share),
        "review_consent": consent_current(client=recording.client, scope=ConsentScope.CLIENT_REVIEW)
        is not None,
    }
    if editable:
        from revisit.recordings.views_corrections import corrections_context

        context.update(corrections_context(recording))
    return render(request, "recordings/detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def recording_detail(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    return _detail(request, _viewer(request, recording_id))


@login_required
@require_POST
def recording_share(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    form = ShareForm(request.POST, prefix="share")
    if form.is_valid():
        try:
            share_create(
                recording=recording,
                actor=actor,
                expires_at=form.expires_at(),
                allow_video=form.cleaned_data["allow_video"],
                allow_transcript=form.cleaned_data["allow_transcript"],
                allow_download=form.cleaned_data["allow_download"],
            )
        except ShareError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Shared with {recording.client.label}. They have an email.")
            return _back(recording, "sharing")
    return _detail(request, _viewer(request, recording_id), DetailForms(share=form), status=400)


@login_required
@require_POST
def recording_share_revoke(
    request: HttpRequest, recording_id: uuid.UUID, share_id: uuid.UUID
) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    share = recording.shares.filter(pk=share_id).first()
    if share is None:
        raise Http404
    if share_revoke(share=share, actor=actor):
        messages.success(request, "Access revoked. The client can no longer open this recording.")
    return _back(recording, "sharing")


@login_required
@require_POST
def holdback_create(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    form = HoldBackForm(request.POST, prefix="hold")
    if form.is_valid():
        try:
            holdback_add(
                recording=recording,
                actor=actor,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                reason=form.cleaned_data["reason"],
            )
        except ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Held back. The client's version is being rebuilt.")
            return _back(recording, "holding-back")
    return _detail(request, _viewer(request, recording_id), DetailForms(holdback=form), 400)


@login_required
@require_POST
def holdback_delete(
    request: HttpRequest, recording_id: uuid.UUID, holdback_id: uuid.UUID
) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    holdback = recording.holdbacks.filter(pk=holdback_id).first()
    if holdback is None:
        raise Http404
    holdback_remove(holdback=holdback, actor=actor)
    messages.success(request, "No longer held back. The client's version is being rebuilt.")
    return _back(recording, "holding-back")


@login_required
@require_POST
def highlight_create(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    form = HighlightForm(request.POST, prefix="hl")
    if form.is_valid():
        try:
            highlight_add(
                recording=recording,
                actor=actor,
                at=form.cleaned_data["at"],
                note=form.cleaned_data["note"],
            )
        except ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Moment added.")
            return _back(recording, "highlights")
    return _detail(request, _viewer(request, recording_id), DetailForms(highlight=form), 400)


@login_required
@require_POST
def highlight_delete(
    request: HttpRequest, recording_id: uuid.UUID, highlight_id: uuid.UUID
) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    highlight = recording.highlights.filter(pk=highlight_id).first()
    if highlight is None:
        raise Http404
    highlight_remove(highlight=highlight, actor=actor)
    messages.success(request, "Moment removed.")
    return _back(recording, "highlights")


@login_required
@require_POST
def content_note_update(request: HttpRequest, recording_id: uuid.UUID) -> HttpResponse:
    actor, recording = _editor(request, recording_id)
    form = ContentNoteForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            content_note_set(recording=recording, actor=actor, text=form.cleaned_data["text"])
        except ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Content note saved.")
            return _back(recording, "content-note")
    return _detail(request, _viewer(request, recording_id), DetailForms(content_note=form), 400)
