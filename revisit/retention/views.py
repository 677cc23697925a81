"""Retention pages: the practice's policy (admins) and a client's legal holds (their therapist or
an admin). Each view parses input and calls one service; anything out of reach is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import practice_clients
from revisit.retention import selectors
from revisit.retention.services import (
    MAX_RETENTION_DAYS,
    MAX_SHARE_DAYS,
    RetentionError,
    legal_hold_place,
    legal_hold_release,
    policy_update,
)

ALL_RECORDINGS = "all"


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required has run; this keeps the type checker honest
        raise Http404
    return user


def _days_field(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        required=False,
        min_value=1,
        max_value=MAX_RETENTION_DAYS,
        error_messages={
            "invalid": "Enter a whole number of days, or leave it empty to keep them.",
            "min_value": "Keep them for at least 1 day, or leave it empty to keep them.",
            "max_value": f"{MAX_RETENTION_DAYS} days at most; leave it empty to keep them.",
        },
    )


class PolicyForm(forms.Form):
    recording_retention_days = _days_field(
        "Keep recordings for (days)",
        "Counted from the day of the session. 2557 days is seven years. Empty: keep recordings "
        "until someone deletes them.",
    )
    transcript_retention_days = _days_field(
        "Keep transcripts for (days)",
        "Transcripts, captions, chapters and search indexes; they also go with their recording. "
        "Empty: keep them as long as the recording.",
    )
    share_days_default = forms.IntegerField(
        label="Clients keep access to a shared recording for (days)",
        help_text="The default when a therapist shares a recording.",
        min_value=1,
        max_value=MAX_SHARE_DAYS,
        error_messages={
            "required": "Say how many days clients keep access.",
            "invalid": "Enter a whole number of days.",
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        recordings = cleaned.get("recording_retention_days")
        transcripts = cleaned.get("transcript_retention_days")
        share = cleaned.get("share_days_default")
        if recordings and transcripts and transcripts > recordings:
            self.add_error(
                "transcript_retention_days",
                "Transcripts go with their recording, so they cannot be kept longer than it.",
            )
        if recordings and share and share > recordings:
            self.add_error(
                "share_days_default",
                "Client access cannot outlast the recording: shorten it, or keep recordings "
                "longer.",
            )
        return cleaned


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def retention_policy(request: HttpRequest) -> HttpResponse:
    admin = _user(request)
    if admin.role != Role.ADMIN:
        raise Http404
    practice = admin.practice
    initial = {
        "recording_retention_days": practice.recording_retention_days,
        "transcript_retention_days": practice.transcript_retention_days,
        "share_days_default": practice.share_days_default,
    }
    form = PolicyForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                policy_update(
                    practice=practice,
                    actor=admin,
                    recording_days=form.cleaned_data["recording_retention_days"],
                    transcript_days=form.cleaned_data["transcript_retention_days"],
                    share_days=form.cleaned_data["share_days_default"],
                )
            except RetentionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Retention policy saved. It applies from the next run.")
                return redirect("retention_policy")
        status = 400
    clients = practice_clients(admin=admin)
    return render(
        request,
        "retention/policy.html",
        {
            "form": form,
            "holds": selectors.active_holds(practice_id=admin.practice_id),
            "deletions": selectors.recent_deletions(practice_id=admin.practice_id),
            "clients": clients,
        },
        status=status,
    )


class HoldForm(forms.Form):
    target = forms.ChoiceField(label="What to keep")
    reason = forms.CharField(
        label="Why (seen by staff only)",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Say why the hold is needed (for example, a records request).",
            "max_length": "Keep the reason under 300 characters.",
        },
    )

    def __init__(self, *args: Any, recordings: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [(ALL_RECORDINGS, "Every recording of this client"), *recordings]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_holds(request: HttpRequest, client_id: object) -> HttpResponse:
    actor = _user(request)
    client = selectors.client_for_holds(user=actor, client_id=str(client_id))
    if client is None:
        raise Http404
    recordings = list(selectors.recordings_for_holds(user=actor, client=client))
    options = [(str(r.pk), f"{r.title} ({r.created_at:%d %B %Y})") for r in recordings]
    form = HoldForm(request.POST or None, recordings=options)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            target = form.cleaned_data["target"]
            recording = None
            if target != ALL_RECORDINGS:
                recording = next((r for r in recordings if str(r.pk) == target), None)
            try:
                legal_hold_place(
                    actor=actor,
                    client=client,
                    recording=recording,
                    reason=form.cleaned_data["reason"],
                )
            except RetentionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Legal hold placed. Nothing it covers will be deleted.")
                return redirect("client_holds", client_id=client.pk)
        status = 400
    titles = {r.pk: r.title for r in recordings}
    holds = [
        {
            "hold": hold,
            "covers": "Every recording"
            if hold.recording_id is None
            else titles.get(hold.recording_id, "One recording"),
            "releasable": selectors.hold_for(user=actor, hold_id=hold.pk) is not None,
        }
        for hold in selectors.holds_of_client(client=client)
    ]
    return render(
        request,
        "retention/holds.html",
        {"client": client, "form": form, "holds": holds},
        status=status,
    )


@login_required
@require_POST
def hold_release(request: HttpRequest, hold_id: object) -> HttpResponse:
    actor = _user(request)
    hold = selectors.hold_for(user=actor, hold_id=hold_id)
    if hold is None:
        raise Http404
    try:
        released = legal_hold_release(hold=hold, actor=actor)
    except RetentionError:
        raise Http404 from None
    if released:
        messages.success(request, "Hold released. What it kept is deleted when its time is due.")
    return redirect("client_holds", client_id=hold.client_id)
