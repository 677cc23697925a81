"""The therapist's "New recording" page: pick a client, then upload a file or record in a browser.

The bytes never pass through these views: the page's scripts speak tus to `/api/v1/uploads`
(`revisit.edge.uploads`). The views only render the page and record a therapist's attestation
that a client agreed verbally to being recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import caseload_clients, client_in_caseload
from revisit.recordings.consent import ConsentError, consent_current, consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope

# The recording pages live beside this one under /recordings/; the id is filled in by the script.
RECORDING_URL_TEMPLATE = "/recordings/{id}/"
UPLOAD_ENDPOINT = "/api/v1/uploads"
# A file goes up in chunks of 5 MiB at first, growing towards 64 MiB on a fast link.
CHUNK_BYTES = 5 * 1024 * 1024
MAX_CHUNK_BYTES = 64 * 1024 * 1024
# Per-chunk SHA-256 (tus checksum extension) is off for files: TLS already protects the bytes in
# transit, and on a 2-core server a checksummed upload ran at 5.5-7 MB/s against 29 MB/s without
# (the server stages each verified chunk before sealing it). Live recordings send them (small).
SEND_CHECKSUMS = False


@dataclass(frozen=True)
class ClientChoice:
    """One client in the picker, and whether a recording consent is on record for them."""

    id: str
    label: str
    has_consent: bool


class ConsentAttestForm(forms.Form):
    client = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirm = forms.BooleanField(
        required=True,
        error_messages={"required": "Tick the box to confirm the client agreed."},
    )


def _therapist(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or user.role != Role.THERAPIST:
        raise Http404  # the page does not exist for other roles
    return user


def _choices(therapist: User) -> list[ClientChoice]:
    return [
        ClientChoice(
            id=str(client.pk),
            label=client.label,
            has_consent=consent_current(client=client, scope=ConsentScope.RECORDING) is not None,
        )
        for client in caseload_clients(therapist=therapist)
    ]


def _render(
    request: HttpRequest,
    therapist: User,
    *,
    selected_id: str | None,
    attest_form: ConsentAttestForm | None = None,
    status: int = 200,
) -> HttpResponse:
    choices = _choices(therapist)
    selected = next((c for c in choices if c.id == selected_id), None)
    if selected is None and choices:
        selected = choices[0]
    context = {
        "choices": choices,
        "selected": selected,
        "attest_form": attest_form,
        "upload_endpoint": UPLOAD_ENDPOINT,
        "recording_url_template": RECORDING_URL_TEMPLATE,
        "chunk_bytes": CHUNK_BYTES,
        "max_chunk_bytes": MAX_CHUNK_BYTES,
        "send_checksums": SEND_CHECKSUMS,
        "title_initial": request.GET.get("title", "")[:200],
    }
    return render(request, "recordings/new.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD"])
def recording_new(request: HttpRequest) -> HttpResponse:
    therapist = _therapist(request)
    return _render(request, therapist, selected_id=request.GET.get("client"))


@login_required
@require_POST
def consent_attest(request: HttpRequest) -> HttpResponse:
    """The therapist attests that the client agreed verbally today; the service audits it."""
    therapist = _therapist(request)
    form = ConsentAttestForm(request.POST)
    client_id = request.POST.get("client", "")
    client = client_in_caseload(therapist=therapist, client_id=client_id)
    if client is None:
        raise Http404  # not in this caseload: as if the client did not exist
    if not form.is_valid():
        return _render(request, therapist, selected_id=str(client.pk), attest_form=form, status=400)
    try:
        consent_give(
            client=client,
            scope=ConsentScope.RECORDING,
            actor=therapist,
            method=ConsentMethod.VERBAL,
        )
    except ConsentError as exc:
        form.add_error(None, str(exc))
        return _render(request, therapist, selected_id=str(client.pk), attest_form=form, status=400)
    messages.success(request, f"Recording consent for {client.label} is on record.")
    return redirect(f"{reverse('recording_new')}?client={client.pk}")
