"""How django-allauth fits Revisit: no open sign-up, and sign-in events audited."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.services import audit_record


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # People join by invitation only.
        return False

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        if isinstance(user, User):
            with transaction.atomic():
                audit_record(event=Event.SIGN_IN, actor=user, practice=user.practice_id)

    def logout(self, request: HttpRequest) -> None:
        user = getattr(request, "user", None)
        if isinstance(user, User):
            with transaction.atomic():
                audit_record(event=Event.SIGN_OUT, actor=user, practice=user.practice_id)
        super().logout(request)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        super().authentication_failed(request, **credentials)
        email = str(credentials.get("email") or "").strip().lower()
        user = User.objects.filter(email=email).only("id", "practice_id").first() if email else None
        with transaction.atomic():
            audit_record(
                event=Event.SIGN_IN_FAILED,
                actor=user,
                practice=user.practice_id if user else None,
                detail={"step": "password", "known_account": user is not None},
            )
