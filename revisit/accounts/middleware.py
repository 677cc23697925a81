"""Request guards: staff must have two-factor authentication; idle sessions end; every session
ends a fixed time after sign-in, however active it stays."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone

from revisit.accounts.models import User
from revisit.accounts.selectors import has_mfa
from revisit.accounts.services import user_requires_mfa
from revisit.accounts.session_store import SESSION_SIGNED_IN_AT, lifetime_end
from revisit.accounts.signins import SESSION_LAST_SEEN as SESSION_LAST_SEEN
from revisit.accounts.signins import sign_out_audit, signin_track

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


def idle_timeout_for(user: User) -> int:
    if user.is_staff_role:
        return int(settings.IDLE_TIMEOUT_STAFF_S)
    return int(settings.IDLE_TIMEOUT_CLIENT_S)


def _signed_out(request: HttpRequest, user: User, *, reason: str, detail: str) -> HttpResponse:
    """End the session, record why, and tell the person (problem JSON for the API)."""
    logout(request)
    sign_out_audit(user=user, reason=reason)
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"type": "about:blank", "title": "Signed out", "status": 401, "detail": detail},
            status=401,
            content_type="application/problem+json",
        )
    messages.info(request, detail)
    return redirect(f"{settings.LOGIN_URL_PATH}?{reason}=1")


class SessionLifetimeMiddleware:
    """A session ends SESSION_COOKIE_AGE (12 hours) after sign-in, however active it has been.

    The session engine (`revisit.accounts.session_store`) already stops storing such a session;
    this check holds the limit on its own as well, and says why the person was signed out. It
    also gives every signed-in session its row in the list of sessions, however it signed in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and "HTTP_AUTHORIZATION" not in request.META:
            end = lifetime_end(request.session.get(SESSION_SIGNED_IN_AT))
            if end is None:
                # Signed in before sign-in times were kept: the limit counts from now.
                request.session[SESSION_SIGNED_IN_AT] = time.time()
            elif timezone.now() >= end:
                return _signed_out(
                    request,
                    user,
                    reason="expired",
                    detail="You were signed out because your session reached its time limit. "
                    "Sign in again to continue.",
                )
        response = self.get_response(request)
        user = request.user  # the view may have signed someone in or out
        if isinstance(user, User) and "HTTP_AUTHORIZATION" not in request.META:
            signin_track(request=request, user=user)
        return response


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
                return _signed_out(
                    request,
                    user,
                    reason="idle",
                    detail="You were signed out after a period of inactivity.",
                )
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
