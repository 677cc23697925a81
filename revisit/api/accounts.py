"""Who am I: the signed-in person as the API sees them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from revisit.accounts.models import User
from revisit.accounts.selectors import has_mfa
from revisit.api.schemas import MeOut, PracticeOut

router = Router(tags=["accounts"])


def caller(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]  # set by the auth classes
    assert isinstance(user, User)
    return user


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = caller(request)
    return MeOut(
        id=str(user.pk),
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_trainee=user.is_trainee,
        mfa_enabled=has_mfa(user),
        practice=PracticeOut(id=str(user.practice_id), name=user.practice.name),
    )
