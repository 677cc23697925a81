"""Signed-in browser sessions: listing them, and ending them.

Each sign-in has a row in django-allauth's user-session table (`allauth.usersessions`): the
session key, the person, and the address and browser it signed in from. Ending a session deletes
it from Django's session table, so its next request (a page, an API call with the cookie, a media
range) finds no session and is signed out. Personal API tokens are separate and stay as they are.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from importlib import import_module
from types import ModuleType

from allauth.account.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from revisit.accounts.models import User
from revisit.accounts.session_store import SESSION_SIGNED_IN_AT
from revisit.audit.events import Event
from revisit.audit.services import audit_record

SESSION_LAST_SEEN = "revisit_last_seen"  # seconds since the epoch, written by the idle clock
SESSION_TRACKED = "revisit_tracked_key"  # the session key that has a row in the table
UNKNOWN_IP = "0.0.0.0"  # noqa: S104  (stored when no client address is known; never bound to)


class EndReason(StrEnum):
    SIGNED_OUT_ELSEWHERE = "signed_out_elsewhere"
    ONE_SESSION = "one_session"
    ADMIN = "admin"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105  (a reason code, not a secret)
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a reason code, not a secret)


@dataclass(frozen=True)
class SignIn:
    id: str
    device: str
    network: str
    signed_in_at: datetime | None
    last_seen_at: datetime | None
    is_current: bool


# --- What is shown about a session ------------------------------------------------------------

# Checked in order: Edge and Opera also name Chrome, Chrome also names Safari.
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
# iPhones and iPads also say "Mac OS X", Android also says "Linux".
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def device_summary(user_agent: str) -> str:
    """A short, coarse description such as "Firefox on Windows"; never the full string."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "Unknown browser")


def network_of(ip: str) -> str:
    """The address's network, not the address: a /24 for IPv4, a /48 for IPv6."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "Unknown network"
    if address.is_unspecified:
        return "Unknown network"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _moment(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def _engine() -> ModuleType:
    return import_module(settings.SESSION_ENGINE)


def _session_data(session_key: str) -> dict[str, object]:
    data = _engine().SessionStore(session_key).load()
    return data if isinstance(data, dict) else {}


def _belongs_to(data: dict[str, object], user: User) -> bool:
    """Whether stored session data is a live sign-in of this person (same password as now)."""
    stored_hash = data.get(HASH_SESSION_KEY)
    return (
        data.get(SESSION_KEY) == str(user.pk)
        and isinstance(stored_hash, str)
        and constant_time_compare(stored_hash, user.get_session_auth_hash())
    )


# --- Reads --------------------------------------------------------------------------------------


def signins_of(*, user: User, current_key: str | None) -> list[SignIn]:
    """This person's live sessions, the current one first, then the most recently active."""
    found: list[SignIn] = []
    for row in UserSession.objects.filter(user=user).order_by("-created_at"):
        data = _session_data(row.session_key)
        if not _belongs_to(data, user):
            continue
        found.append(
            SignIn(
                id=str(row.pk),
                device=device_summary(row.user_agent),
                network=network_of(row.ip),
                signed_in_at=_moment(data.get(SESSION_SIGNED_IN_AT)) or row.created_at,
                last_seen_at=_moment(data.get(SESSION_LAST_SEEN)),
                is_current=bool(current_key) and row.session_key == current_key,
            )
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda s: s.last_seen_at or s.signed_in_at or epoch, reverse=True)
    found.sort(key=lambda s: not s.is_current)
    return found


def signin_of(*, user: User, signin_id: object) -> UserSession | None:
    """One of this person's session rows by its id; None for anything else or malformed."""
    text = str(signin_id)
    if not text.isdigit() or len(text) > 18:
        return None
    return UserSession.objects.filter(user=user, pk=int(text)).first()


# --- Writes -------------------------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str:
    try:
        return str(get_adapter().get_client_ip(request))
    except PermissionDenied:
        return UNKNOWN_IP


def signin_track(*, request: HttpRequest, user: User) -> None:
    """Make sure the request's session has its row (every way of signing in leads here)."""
    session = request.session
    key = session.session_key
    previous = session.get(SESSION_TRACKED)
    if not key or previous == key:
        return
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    max_length = UserSession._meta.get_field("user_agent").max_length or 200
    with transaction.atomic():
        if isinstance(previous, str):
            # The key changed (sign-in, password change): the old key is gone already.
            UserSession.objects.filter(user=user, session_key=previous).delete()
        UserSession.objects.update_or_create(
            session_key=key,
            defaults={
                "user": user,
                "ip": _client_ip(request),
                "user_agent": user_agent[:max_length],
            },
        )
    session[SESSION_TRACKED] = key


def sessions_end(
    *,
    user: User,
    actor: User | None,
    reason: EndReason,
    keep_key: str | None = None,
    only: UserSession | None = None,
) -> int:
    """End this person's sessions (all, all but `keep_key`, or `only` one); the number ended.

    Rows whose session had already ended are tidied away without being counted.
    """
    rows = UserSession.objects.filter(user=user)
    if keep_key:
        rows = rows.exclude(session_key=keep_key)
    if only is not None:
        rows = rows.filter(pk=only.pk)
    store = _engine().SessionStore()
    ended: list[int] = []
    with transaction.atomic():
        for pk, session_key in rows.values_list("pk", "session_key"):
            if store.exists(session_key):
                store.delete(session_key)
                ended.append(pk)
        rows.delete()
        if ended or reason == EndReason.ADMIN:
            audit_record(
                event=Event.SESSIONS_ENDED,
                actor=actor,
                practice=user.practice_id,
                subject=user,
                subject_type="user",
                detail={"reason": str(reason), "count": len(ended), "sessions": ended},
            )
    return len(ended)


def sign_out_audit(*, user: User, reason: str) -> None:
    """Record a sign-out that no one asked for (idle, or at the end of the session's lifetime)."""
    with transaction.atomic():
        audit_record(
            event=Event.SIGN_OUT, actor=user, practice=user.practice_id, detail={"reason": reason}
        )
