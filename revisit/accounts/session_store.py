"""The session engine: Django's database sessions with a lifetime that does not slide.

Django stores `expire_date = now + SESSION_COOKIE_AGE` each time a session is saved, and Revisit
saves a signed-in session on every request (the idle clock), so on its own the limit would move
forward for as long as someone stays active. Here the stored expiry is capped at the sign-in time
plus SESSION_COOKIE_AGE, so a session ends at that moment for every reader of the session table:
Django's middleware, the API, and the media and upload handlers, which load sessions themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

SESSION_SIGNED_IN_AT = "revisit_signed_in_at"  # seconds since the epoch, set at sign-in


def lifetime_end(signed_in_at: object) -> datetime | None:
    """When a session signed in at this time must end; None for a value that is not a time."""
    if isinstance(signed_in_at, bool) or not isinstance(signed_in_at, (int, float)):
        return None
    return datetime.fromtimestamp(signed_in_at, tz=UTC) + timedelta(
        seconds=int(settings.SESSION_COOKIE_AGE)
    )


class SessionStore(DatabaseSessionStore):
    def get_expiry_date(self, **kwargs: Any) -> datetime:
        expiry: datetime = super().get_expiry_date(**kwargs)
        end = lifetime_end(self.get(SESSION_SIGNED_IN_AT))
        return expiry if end is None else min(expiry, end)

    async def aget_expiry_date(self, **kwargs: Any) -> datetime:
        expiry: datetime = await super().aget_expiry_date(**kwargs)
        end = lifetime_end(await self.aget(SESSION_SIGNED_IN_AT))
        return expiry if end is None else min(expiry, end)
