"""The practice admin's audit page and CSV export. Anyone but a practice admin gets a 404."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from revisit.accounts.models import Role, User
from revisit.audit.export import audit_log_export, event_label, safe_detail
from revisit.audit.forms import AuditFilterForm
from revisit.audit.selectors import audit_entries_for_practice

PAGE_SIZE = 50


def _admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or user.role != Role.ADMIN:
        raise Http404  # the page does not exist for anyone else
    return user


def _query(form: AuditFilterForm) -> list[tuple[str, str]]:
    """The valid filters as query pairs: ids and codes only (an email becomes the account id)."""
    pairs: list[tuple[str, str]] = []
    for name, value in form.cleaned_data.items():
        if value is None or value == "":
            continue
        pairs.append((name, value.isoformat() if isinstance(value, date) else str(value)))
    return pairs


def _render(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, "audit/log.html", context, status=status)


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    form = AuditFilterForm(request.GET, admin=admin)
    if not form.is_valid():
        return _render(request, {"form": form, "page": None}, status=400)
    pairs = _query(form)
    if "@" in request.GET.get("actor", ""):
        # Keep email addresses out of the address bar and history: continue with the id.
        return redirect(f"{reverse('audit_log')}?{urlencode(pairs)}")
    entries = audit_entries_for_practice(practice_id=admin.practice_id, filters=form.filters())
    page = Paginator(entries.order_by("-seq"), PAGE_SIZE).get_page(request.GET.get("page"))
    actor_ids = {entry.actor_id for entry in page.object_list if entry.actor_id}
    people = {
        member.pk: member
        for member in User.objects.filter(practice_id=admin.practice_id, pk__in=actor_ids)
    }
    rows = [
        {
            "entry": entry,
            "label": event_label(entry.event),
            "actor": people.get(entry.actor_id) if entry.actor_id else None,
            "detail": safe_detail(entry.detail),
        }
        for entry in page.object_list
    ]
    return _render(
        request,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": urlencode(pairs),
            "export_fields": pairs,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@login_required
@require_POST
def audit_export(request: HttpRequest) -> HttpResponseBase:
    admin = _admin(request)
    form = AuditFilterForm(request.POST, admin=admin)
    if not form.is_valid():
        return _render(request, {"form": form, "page": None}, status=400)
    lines = audit_log_export(admin=admin, filters=form.filters())
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
