"""Authenticating a raw ASGI request exactly as Django would, without reading its body.

The upload and media handlers take bytes straight from the socket (Django's request cycle would
spool a request body to a temporary file, in plaintext). They still authenticate every request the
same way the rest of the portal does: a Bearer token, or the session cookie with Django's CSRF
check for unsafe methods, the idle timeout, and the MFA rule for staff.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from revisit.accounts.middleware import SESSION_LAST_SEEN, idle_timeout_for
from revisit.accounts.models import User
from revisit.accounts.selectors import has_mfa
from revisit.accounts.services import token_authenticate, user_requires_mfa


@dataclass(frozen=True)
class Refusal:
    status: int
    title: str
    detail: str
    headers: tuple[tuple[str, str], ...] = ()


NOT_AUTHENTICATED = Refusal(
    401,
    "Not authenticated",
    "Sign in, or send a valid token: `Authorization: Bearer rvt_...`.",
    (("WWW-Authenticate", 'Bearer realm="revisit"'),),
)


MFA_MISSING = Refusal(403, "Forbidden", "Set up two-factor authentication in the portal first.")


def _csrf_refusal(request: ASGIRequest) -> Refusal | None:
    def unused(_: Any) -> HttpResponse:
        return HttpResponse()

    middleware = CsrfViewMiddleware(unused)
    middleware.process_request(request)
    response = middleware.process_view(request, unused, (), {})
    if response is None:
        return None
    return Refusal(
        403, "Forbidden", "The request's CSRF token is missing or wrong; reload the page."
    )


def authenticate_scope(
    scope: dict[str, Any], *, touch: bool = True, check_mfa: bool = True
) -> User | Refusal:
    """The user a raw ASGI request acts for, or why it is refused (never cached).

    ``check_mfa=False`` leaves the staff-MFA rule to the caller (the media handler checks it in
    its own grant query).
    """
    request = ASGIRequest(scope, io.BytesIO(b""))
    header = request.headers.get("Authorization")
    if header is not None:
        kind, _, token = header.partition(" ")
        user = token_authenticate(raw=token.strip()) if kind.lower() == "bearer" else None
        if user is None:
            return NOT_AUTHENTICATED
    else:
        engine = import_module(settings.SESSION_ENGINE)
        request.session = engine.SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
        found = get_user(request)
        if not isinstance(found, User) or not found.is_active:
            return NOT_AUTHENTICATED
        user = found
        last = request.session.get(SESSION_LAST_SEEN)
        now = time.time()
        if isinstance(last, (int, float)) and now - last > idle_timeout_for(user):
            request.session.flush()
            return Refusal(401, "Signed out", "You were signed out after a period of inactivity.")
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            refusal = _csrf_refusal(request)
            if refusal is not None:
                return refusal
        if touch and request.headers.get("X-Revisit-Background") != "1":
            request.session[SESSION_LAST_SEEN] = now
            request.session.save()
    if check_mfa and user_requires_mfa(user) and not has_mfa(user):
        return MFA_MISSING
    return user
