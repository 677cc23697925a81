"""Notices about emergency access, for the pages of the people who must know it happened."""

from __future__ import annotations

from typing import Any

from django import template

from revisit.accounts.models import Role, User
from revisit.breakglass import selectors

register = template.Library()


def _user(context: Any) -> User | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


@register.inclusion_tag("breakglass/_admin_notice.html", takes_context=True)
def breakglass_admin_notice(context: Any) -> dict[str, object]:
    """For a practice's admins: emergency access active now and used lately."""
    user = _user(context)
    if user is None or user.role != Role.ADMIN:
        return {"show": False}
    active, recent = selectors.notice_for_admin(admin=user)
    return {"show": True, "active": active, "recent": recent}


@register.inclusion_tag("breakglass/_client_notice.html", takes_context=True)
def breakglass_client_notice(context: Any) -> dict[str, object]:
    """For a client, when the practice tells clients: when and for how long it was used."""
    user = _user(context)
    if user is None or user.role != Role.CLIENT:
        return {"grants": []}
    return {"grants": selectors.grants_told_to_client(client=user)}
