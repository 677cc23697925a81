from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.generic import RedirectView

from revisit.api.api import api
from revisit.api.problems import problem
from revisit.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    # allauth's own sessions page would end sessions without an audit entry: the portal's
    # page (with the audit) answers at its address instead.
    path(
        "accounts/sessions/",
        RedirectView.as_view(pattern_name="sessions"),
        name="usersessions_list",
    ),
    path("accounts/", include("allauth.urls")),
    path("recordings/", include("revisit.recordings.capture_urls")),
    path("recordings/", include("revisit.recordings.urls")),
    path("sessions/", include("revisit.review.urls")),
    path("emergency-access/", include("revisit.breakglass.urls")),
    path("", include("revisit.retention.urls")),  # consents, legal holds, retention policy
    path("practice/audit/", include("revisit.audit.urls")),
    path("", include("revisit.accounts.urls")),
]


def _error(request: HttpRequest, status: int, template: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem(status)
    return render(request, template, status=status)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 404, "errors/404.html")


def handler403(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 403, "errors/403.html")


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 400, "errors/400.html")


def handler500(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "errors/500.html")
