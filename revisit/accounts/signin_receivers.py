"""Thin receivers that keep sign-ins honest: note when a session signed in, and end a person's
other sessions when their password changes or is reset. Each calls one service or sets one value.

Connected when `revisit.accounts.middleware` is imported, which every web request does first.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.account import signals as account_signals
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from revisit.accounts.models import User
from revisit.accounts.session_store import SESSION_SIGNED_IN_AT
from revisit.accounts.signins import EndReason, sessions_end


def _session_key(request: Any) -> str | None:
    session = getattr(request, "session", None)
    return getattr(session, "session_key", None)


@receiver(user_logged_in, dispatch_uid="revisit.signed_in_at")
def on_signed_in(sender: Any, request: Any, user: Any, **_: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        # The absolute lifetime counts from here, also when the same person signs in again.
        session[SESSION_SIGNED_IN_AT] = time.time()


@receiver(account_signals.password_changed, dispatch_uid="revisit.password_changed")
def on_password_changed(sender: Any, request: Any, user: Any, **_: Any) -> None:
    if isinstance(user, User):
        sessions_end(
            user=user,
            actor=user,
            reason=EndReason.PASSWORD_CHANGED,
            keep_key=_session_key(request),
        )


@receiver(account_signals.password_reset, dispatch_uid="revisit.password_reset")
def on_password_reset(sender: Any, request: Any, user: Any, **_: Any) -> None:
    if isinstance(user, User):
        same_person = getattr(getattr(request, "user", None), "pk", None) == user.pk
        sessions_end(
            user=user,
            actor=user,
            reason=EndReason.PASSWORD_RESET,
            keep_key=_session_key(request) if same_person else None,
        )
