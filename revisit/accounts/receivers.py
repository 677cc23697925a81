"""Thin receivers for allauth's MFA signals: each records one audit event."""

from __future__ import annotations

from typing import Any

from allauth.mfa import signals as mfa_signals
from django.db import transaction
from django.dispatch import receiver

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.services import audit_record


def _record(event: Event, user: Any, **detail: Any) -> None:
    if isinstance(user, User):
        with transaction.atomic():
            audit_record(event=event, actor=user, practice=user.practice_id, detail=detail)


@receiver(mfa_signals.authenticator_added)
def on_authenticator_added(
    sender: Any, request: Any, user: Any, authenticator: Any, **_: Any
) -> None:
    _record(Event.MFA_ADDED, user, kind=str(authenticator.type))


@receiver(mfa_signals.authenticator_removed)
def on_authenticator_removed(
    sender: Any, request: Any, user: Any, authenticator: Any, **_: Any
) -> None:
    _record(Event.MFA_REMOVED, user, kind=str(authenticator.type))


@receiver(mfa_signals.authentication_failed)
def on_mfa_failed(sender: Any, request: Any, user: Any, **_: Any) -> None:
    _record(Event.SIGN_IN_FAILED, user, step="second_factor")
