"""Pages for emergency access. Each view parses input and calls one service or selector."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import practice_clients
from revisit.breakglass import selectors, services
from revisit.breakglass.models import DEFAULT_MINUTES, MAX_MINUTES, BreakGlassGrant
from revisit.edge.media import PREFIX as MEDIA_PREFIX
from revisit.recordings.models import Rendition, RenditionKind
from revisit.review.access import access_for

MINUTE_CHOICES = [
    (m, f"{m} minutes" if m < 60 else f"{m // 60} hour{'s' if m > 60 else ''}")
    for m in (15, 30, 60, 120, 180, MAX_MINUTES)
]


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or user.role != Role.ADMIN:
        raise Http404  # a page for another role does not exist for this person
    return user


def mfa_confirmed_at(request: HttpRequest, user: User) -> datetime | None:
    """When this session last re-confirmed a second factor (allauth's re-authentication)."""
    times = [
        record.get("at")
        for record in get_authentication_records(request, user)
        if record.get("method") == "mfa" and record.get("reauthenticated")
    ]
    stamps = [t for t in times if isinstance(t, (int, float)) and not isinstance(t, bool)]
    return datetime.fromtimestamp(max(stamps), tz=UTC) if stamps else None


def _confirm_first(request: HttpRequest) -> HttpResponse:
    query = urlencode({"next": reverse("breakglass_new")})
    return redirect(f"{reverse('mfa_reauthenticate')}?{query}")


def _mfa_is_fresh(request: HttpRequest, user: User) -> bool:
    confirmed = mfa_confirmed_at(request, user)
    return (
        confirmed is not None and timezone.now() - confirmed <= services.reauthentication_window()
    )


if TYPE_CHECKING:
    _UserChoiceField = forms.ModelChoiceField[User]
else:  # the generic form exists for the type checker only
    _UserChoiceField = forms.ModelChoiceField


class ClientField(_UserChoiceField):
    def label_from_instance(self, obj: object) -> str:
        return obj.label if isinstance(obj, User) else ""


class GrantForm(forms.Form):
    client = ClientField(
        queryset=User.objects.none(),
        label="Client",
        empty_label="Choose a client",
        help_text="Access covers this one client's recordings, and nobody else's.",
    )
    reason = forms.CharField(
        label="Why do you need emergency access?",
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=services.REASON_MIN,
        max_length=services.REASON_MAX,
        help_text="Required. The practice's other admins will read this. It is stored "
        "encrypted and never written to logs.",
    )
    minutes = forms.TypedChoiceField(
        label="For how long",
        choices=MINUTE_CHOICES,
        coerce=int,
        initial=DEFAULT_MINUTES,
    )

    def __init__(self, *args: object, admin: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["client"]
        assert isinstance(field, ClientField)
        field.queryset = practice_clients(admin=admin)


class PolicyForm(forms.Form):
    tell_client = forms.BooleanField(
        required=False, label="Tell clients when emergency access to their recordings was used"
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def grant_list(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    now = timezone.now()
    grants = list(selectors.practice_grants(admin=admin)[:200])
    rows = [
        {
            "grant": g,
            "active": g.is_active(now),
            "mine": g.admin_id == admin.pk,
            "reason": selectors.reason_text(g),
        }
        for g in grants
    ]
    policy = selectors.policy_for(admin.practice_id)
    return render(
        request,
        "breakglass/list.html",
        {
            "active": [r for r in rows if r["active"]],
            "past": [r for r in rows if not r["active"]],
            "policy_form": PolicyForm(initial={"tell_client": policy.tell_client}),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def grant_new(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    if not _mfa_is_fresh(request, admin):
        if request.method == "POST":
            messages.info(
                request,
                "For your clients' safety, confirm it is you again, then fill in the form.",
            )
        return _confirm_first(request)
    form = GrantForm(request.POST or None, admin=admin)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.grant_create(
                admin=admin,
                client_id=form.cleaned_data["client"].pk,
                reason=form.cleaned_data["reason"],
                minutes=form.cleaned_data["minutes"],
                mfa_confirmed_at=mfa_confirmed_at(request, admin),
            )
        except services.ReauthenticationNeeded:
            return _confirm_first(request)
        except services.BreakGlassError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Emergency access started. Everything you open is logged.")
            return redirect("breakglass_grant", grant_id=grant.pk)
    return render(
        request, "breakglass/new.html", {"form": form}, status=400 if form.errors else 200
    )


def _own_grant(request: HttpRequest, grant_id: str) -> tuple[User, BreakGlassGrant]:
    admin = _admin(request)
    grant = selectors.own_grant(admin=admin, grant_id=grant_id)
    if grant is None:
        raise Http404
    return admin, grant


@login_required
@require_http_methods(["GET", "HEAD"])
def grant_detail(request: HttpRequest, grant_id: str) -> HttpResponse:
    _, grant = _own_grant(request, grant_id)
    active = grant.is_active()
    recordings = list(selectors.grant_recordings(grant)[:500]) if active else []
    return render(
        request,
        "breakglass/grant.html",
        {"grant": grant, "active": active, "recordings": recordings},
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def grant_recording(request: HttpRequest, grant_id: str, recording_id: str) -> HttpResponse:
    admin, grant = _own_grant(request, grant_id)
    recording = selectors.grant_recording(grant=grant, recording_id=recording_id)
    access = None if recording is None else access_for(admin, recording)
    if recording is None or access is None or access.break_glass != str(grant.pk):
        raise Http404  # ended, expired, or not this client's recording
    found = Rendition.objects.filter(recording=recording, variant="full")
    media = {r.kind: f"{MEDIA_PREFIX}{r.pk}" for r in found if access.allows(r.kind)}
    return render(
        request,
        "breakglass/recording.html",
        {
            "grant": grant,
            "recording": recording,
            "video": media.get(RenditionKind.VIDEO),
            "audio": media.get(RenditionKind.AUDIO),
            "poster": media.get(RenditionKind.POSTER),
            "captions": media.get(RenditionKind.CAPTIONS),
        },
    )


@login_required
@require_POST
def grant_end(request: HttpRequest, grant_id: str) -> HttpResponse:
    admin, grant = _own_grant(request, grant_id)
    if services.grant_end(grant=grant, actor=admin):
        messages.success(request, "Emergency access ended.")
    else:
        messages.info(request, "This emergency access had already ended.")
    return redirect("breakglass_list")


@login_required
@require_POST
def policy_update(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    form = PolicyForm(request.POST)
    form.is_valid()  # a missing box means "off"; nothing else can be wrong
    services.policy_set(admin=admin, tell_client=bool(form.cleaned_data.get("tell_client")))
    messages.success(request, "Saved.")
    return redirect("breakglass_list")
