"""API authentication: Bearer personal tokens, or the browser session with CSRF.

Both lead to the same authorization rules. A request that presents an Authorization header which
is not a usable token is refused, even if it also carries a session cookie (fail closed).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from revisit.accounts.models import User
from revisit.accounts.selectors import has_mfa
from revisit.accounts.services import token_authenticate, user_requires_mfa


class BearerTokenError(AuthenticationError):
    """An Authorization header that is malformed, unknown, expired or revoked."""


def _check_mfa(user: User) -> User:
    if user_requires_mfa(user) and not has_mfa(user):
        raise HttpError(403, "Set up two-factor authentication in the portal before using the API.")
    return user


class BearerAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BearerTokenError()
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = token_authenticate(raw=token)
        if user is None:
            raise BearerTokenError()
        request.user = user
        return _check_mfa(user)


class PortalSessionAuth(SessionAuth):
    """The signed-in browser session; unsafe methods need the CSRF token."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if "Authorization" in request.headers:
            return None  # handled (and refused if bad) by BearerAuth
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated and user.is_active:
            return _check_mfa(user)
        return None
