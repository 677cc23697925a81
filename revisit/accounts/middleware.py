"""Request guards: staff must have two-factor authentication; idle sessions end."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from revisit.accounts.models import User
from revisit.accounts.selectors import has_mfa
from revisit.accounts.services import user_requires_mfa

# Paths a signed-in staff member without MFA may still use: to set it up, or to leave.
_MFA_SETUP_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/accounts/password/change/",
    "/static/",
    "/healthz",
    "/quick-exit",
)


class MfaRequiredMiddleware:
    """Therapists, supervisors and admins set up MFA before they can do anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and user_requires_mfa(user)
            and not request.path.startswith(_MFA_SETUP_PREFIXES)
            and not request.path.startswith("/api/")  # the API answers with problem JSON itself
            and not has_mfa(user)
        ):
            messages.info(
                request,
                "Before you continue, set up two-factor authentication. It protects your "
                "clients' recordings if your password is ever guessed or stolen.",
            )
            return redirect("mfa_index")
        return self.get_response(request)


SESSION_LAST_SEEN = "revisit_last_seen"


def idle_timeout_for(user: User) -> int:
    if user.is_staff_role:
        return int(settings.IDLE_TIMEOUT_STAFF_S)
    return int(settings.IDLE_TIMEOUT_CLIENT_S)


class IdleTimeoutMiddleware:
    """Sign people out after a quiet period (shorter for staff than for clients)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and "HTTP_AUTHORIZATION" not in request.META:
            now = time.time()
            last = request.session.get(SESSION_LAST_SEEN)
            if isinstance(last, (int, float)) and now - last > idle_timeout_for(user):
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {
                            "type": "about:blank",
                            "title": "Signed out",
                            "status": 401,
                            "detail": "You were signed out after a period of inactivity.",
                        },
                        status=401,
                        content_type="application/problem+json",
                    )
                messages.info(request, "You were signed out after a period of inactivity.")
                return redirect(f"{settings.LOGIN_URL_PATH}?idle=1")
            # Background polling (progress bars) must not keep a session alive forever.
            if request.headers.get("X-Revisit-Background") != "1":
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Pages shown to a signed-in person are never stored by browsers or proxies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(request.user, User) and not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store, private"
        return response
