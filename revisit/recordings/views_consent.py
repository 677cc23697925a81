"""The consent ledger: a client's consents, each scope with its full history.

A client sees "Your consents" and gives or withdraws each scope themselves; their therapist sees
the same ledger on the client's page and records consent the client gave verbally or in writing.
Withdrawing always goes through a page that says plainly what it will do. Each view parses input
and calls one service (`revisit.recordings.consent`); anything outside the caller's reach is 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import client_in_caseload
from revisit.recordings.consent import (
    ConsentError,
    RevokeOutcome,
    ScopeHistory,
    consent_current,
    consent_give,
    consent_ledger,
    consent_revoke,
)
from revisit.recordings.models import Consent, ConsentMethod, ConsentScope


@dataclass(frozen=True)
class ScopeText:
    means: str  # what giving it allows, in the client's words
    withdraw: str  # what withdrawing does, at once ({your}/{you}: said to whom it concerns)

    def withdraw_for(self, *, client_voice: bool) -> str:
        if client_voice:
            return self.withdraw.format(your="your", you="you")
        return self.withdraw.format(your="the client's", you="the client")


SCOPE_TEXT = {
    ConsentScope.RECORDING: ScopeText(
        means="Your therapist may record your sessions (video or audio).",
        withdraw=(
            "No new session can be recorded. Recordings already made are not deleted by this; "
            "they are kept for as long as the practice's records policy says."
        ),
    ),
    ConsentScope.CLIENT_REVIEW: ScopeText(
        means="Your therapist may share recordings of your sessions with you to review here.",
        withdraw=(
            "Every recording shared with {you} closes at once, even in the middle of playing, "
            "and nothing new can be shared with {you}. The recordings themselves are not deleted."
        ),
    ),
    ConsentScope.SUPERVISION: ScopeText(
        means="Your therapist's clinical supervisor may watch or listen to your sessions.",
        withdraw="The supervisor can no longer open any recording of {your} sessions, from now on.",
    ),
    ConsentScope.TRANSCRIPTION: ScopeText(
        means=(
            "Your sessions are turned into text by the practice's own system, for captions, "
            "chapters and search."
        ),
        withdraw=(
            "Every transcript, caption, chapter list and search index of {your} sessions is "
            "destroyed at once and cannot be recovered, and no new ones are made. The recordings "
            "stay. Only if the practice is required by law to keep them for now are they "
            "destroyed later, as soon as that ends."
        ),
    ),
    ConsentScope.RESEARCH: ScopeText(
        means=(
            "Figures about your reviews (how much you played, what you replayed, your ratings) "
            "may be included in research exports, under a random code. Nothing that identifies "
            "you, and nothing you wrote, is exported."
        ),
        withdraw=(
            "Nothing about {your} reviews goes into research exports from now on. Exports "
            "already made cannot be called back."
        ),
    ),
}

HOW = {
    ConsentMethod.PORTAL: "Agreed in the portal",
    ConsentMethod.VERBAL: "Agreed verbally, attested by the therapist",
    ConsentMethod.WRITTEN: "Signed a form, attested by the therapist",
}


@dataclass(frozen=True)
class LedgerEntry:
    given_at: datetime
    how: str
    recorded_by: str
    revoked_at: datetime | None
    revoked_by: str


@dataclass(frozen=True)
class LedgerScope:
    scope: str
    label: str
    text: ScopeText
    current: Consent | None
    entries: tuple[LedgerEntry, ...]


def _person(user: User | None, *, client: User, viewer: User) -> str:
    if user is None:
        return ""
    if user.pk == viewer.pk:
        return "You"
    if user.pk == client.pk:
        return "The client"
    return user.label


def _ledger(client: User, viewer: User) -> list[LedgerScope]:
    def scope_view(history: ScopeHistory) -> LedgerScope:
        entries = tuple(
            LedgerEntry(
                given_at=grant.given_at,
                how=HOW.get(ConsentMethod(grant.method), grant.method),
                recorded_by=_person(grant.recorded_by, client=client, viewer=viewer),
                revoked_at=grant.revoked_at,
                revoked_by=_person(grant.revoked_by, client=client, viewer=viewer),
            )
            for grant in history.grants
        )
        return LedgerScope(
            scope=history.scope.value,
            label=history.scope.label,
            text=SCOPE_TEXT[history.scope],
            current=history.current,
            entries=entries,
        )

    return [scope_view(h) for h in consent_ledger(client=client)]


def _scope(value: str) -> ConsentScope:
    try:
        return ConsentScope(value)
    except ValueError:
        raise Http404 from None


def _user_with_role(request: HttpRequest, role: Role) -> User:
    user = request.user
    if not isinstance(user, User) or user.role != role:
        raise Http404  # the page does not exist for other roles
    return user


def _client_of(request: HttpRequest, client_id: object) -> tuple[User, User]:
    therapist = _user_with_role(request, Role.THERAPIST)
    client = client_in_caseload(therapist=therapist, client_id=str(client_id))
    if client is None:
        raise Http404  # not in this caseload: as if the client did not exist
    return therapist, client


def _outcome_message(scope: ConsentScope, outcome: RevokeOutcome, *, for_client: bool) -> str:
    whose = "your" if for_client else "their"
    parts = [f"Consent to {scope.label.lower()} withdrawn."]
    if scope == ConsentScope.CLIENT_REVIEW:
        parts.append(f"{outcome.shares_ended} shared recording(s) closed at once.")
    if scope == ConsentScope.TRANSCRIPTION:
        parts.append(
            f"Transcripts of {outcome.transcripts_deleted} of {whose} sessions were destroyed."
        )
        if outcome.held:
            parts.append(
                f"Those of {outcome.held} session(s) must be kept by law for now and will be "
                "destroyed when that ends."
            )
    return " ".join(parts)


# --- The client's own consents --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD"])
def my_consents(request: HttpRequest) -> HttpResponse:
    client = _user_with_role(request, Role.CLIENT)
    return render(
        request,
        "recordings/consents_mine.html",
        {"ledger": _ledger(client, client), "person": client},
    )


@login_required
@require_POST
def my_consent_give(request: HttpRequest, scope: str) -> HttpResponse:
    client = _user_with_role(request, Role.CLIENT)
    chosen = _scope(scope)
    try:
        consent_give(client=client, scope=chosen, actor=client, method=ConsentMethod.PORTAL)
    except ConsentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Thank you. Your consent to {chosen.label.lower()} is noted.")
    return redirect(reverse("my_consents") + f"#scope-{chosen.value}")


def _withdraw(
    request: HttpRequest,
    *,
    client: User,
    actor: User,
    chosen: ConsentScope,
    back: str,
    action: str,
) -> HttpResponse:
    """Withdrawing one scope: a page saying what it does (GET), then the withdrawal (POST)."""
    for_client = actor.pk == client.pk
    if request.method == "POST":
        outcome = consent_revoke(client=client, scope=chosen, actor=actor)
        if outcome:
            messages.success(request, _outcome_message(chosen, outcome, for_client=for_client))
        else:
            messages.info(request, "There was no consent to withdraw.")
        return redirect(back)
    context: dict[str, object] = {
        "scope": chosen,
        "effect": SCOPE_TEXT[chosen].withdraw_for(client_voice=for_client),
        "for_client": for_client,
        "given": _is_given(client, chosen),
        "action": action,
        "back": back,
    }
    if not for_client:
        context["client"] = client
    return render(request, "recordings/consent_withdraw.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_consent_withdraw(request: HttpRequest, scope: str) -> HttpResponse:
    client = _user_with_role(request, Role.CLIENT)
    chosen = _scope(scope)
    return _withdraw(
        request,
        client=client,
        actor=client,
        chosen=chosen,
        back=reverse("my_consents") + f"#scope-{chosen.value}",
        action=reverse("my_consent_withdraw", args=[chosen.value]),
    )


def _is_given(client: User, scope: ConsentScope) -> bool:
    return consent_current(client=client, scope=scope) is not None


# --- A therapist's client -----------------------------------------------------------------------


class AttestForm(forms.Form):
    scope = forms.ChoiceField(label="What the client agreed to", choices=ConsentScope.choices)
    method = forms.ChoiceField(
        label="How they agreed",
        choices=[
            (ConsentMethod.VERBAL.value, "Verbally, to me"),
            (ConsentMethod.WRITTEN.value, "On a signed form"),
        ],
    )
    confirm = forms.BooleanField(
        required=True,
        label=(
            "I confirm the client gave this consent; it is recorded under my name with today's date"
        ),
        error_messages={"required": "Tick the box to confirm the client agreed."},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_consents(request: HttpRequest, client_id: object) -> HttpResponse:
    therapist, client = _client_of(request, client_id)
    form = AttestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            scope = ConsentScope(form.cleaned_data["scope"])
            try:
                consent_give(
                    client=client,
                    scope=scope,
                    actor=therapist,
                    method=ConsentMethod(form.cleaned_data["method"]),
                )
            except ConsentError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Consent to {scope.label.lower()} is on record.")
                return redirect("client_consents", client_id=client.pk)
        status = 400
    return render(
        request,
        "recordings/consents_client.html",
        {"client": client, "ledger": _ledger(client, therapist), "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def client_consent_withdraw(request: HttpRequest, client_id: object, scope: str) -> HttpResponse:
    therapist, client = _client_of(request, client_id)
    chosen = _scope(scope)
    return _withdraw(
        request,
        client=client,
        actor=therapist,
        chosen=chosen,
        back=reverse("client_consents", args=[client.pk]) + f"#scope-{chosen.value}",
        action=reverse("client_consent_withdraw", args=[client.pk, chosen.value]),
    )
