"""The hot path of media authorization: a bearer token and a grant, each one indexed query.

`revisit.review.access` holds the rules of who may see what. Compiling ORM queries costs about a
millisecond each here, and a video player sends a range request every few seconds per viewer, so
the media handler first asks this module, which answers only the two cases behind nearly every
media request from prepared SQL:

- a therapist fetching a rendition of their own recording (with an authenticator enrolled);
- a client fetching the rendition of their own recording that an active share lets them see
  (the client version once anything is held back; video and transcripts only if the share allows).

For anything else (supervisors, emergency access, revoked or expired shares, someone else's ids)
it answers "not decided", and the handler applies the full rules. So this module can only ever
grant a subset of what `access_for` grants; the tests check that on every case they build.
Nothing is cached: a revoke or a deletion is seen by the very next request.

Both queries run through a ``fetch`` function: Django's connection by default (in a worker
thread), or `revisit.edge.loopdb` (a read-only connection on the event loop itself), so that the
rules are written once whichever connection asks.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from allauth.mfa.models import Authenticator
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

from revisit.accounts.models import ApiToken, Role, User
from revisit.accounts.services import TOKEN_TOUCH_EVERY, TokenClaim
from revisit.recordings.models import Recording, Rendition
from revisit.review.access import CLIENT, FULL, kind_allowed
from revisit.review.models import HoldBack, PlaybackSession, Share
from revisit.vault.models import SealedObject


@dataclass(frozen=True)
class Caller:
    """Who a media request acts for: enough to authorize it without loading the user."""

    user_id: UUID
    role: str
    practice_id: UUID
    token_id: UUID | None = None
    token_stale: bool = False  # its last-used time is due for an update


# Where a shredded object's time is not needed, only the fact (`vault.object_dek` refuses it).
SHREDDED = datetime(1970, 1, 1, tzinfo=UTC)

SealedKey = tuple[str, str, bytes, int]  # (object id, key id, wrapped key, stored size)


@dataclass(frozen=True)
class FastGrant:
    rendition_id: UUID
    recording_id: UUID
    kind: str
    share_id: UUID | None
    allow_download: bool
    viewing_id: UUID | None  # the caller's current viewing of this rendition, if any
    viewing_stale: bool  # that viewing's last-seen time is due for an update
    sealed_row: tuple[Any, ...]  # the sealed object's columns, as the grant query returned them

    @property
    def sealed_key(self) -> SealedKey | None:
        """What identifies the object's opened form (None once its key is destroyed): a new
        wrapped key (rotation) or a shred changes it."""
        sealed_id, _, _, kek_id, wrapped_dek, _, stored_size, shredded = self.sealed_row
        if shredded or not wrapped_dek:
            return None
        return (str(sealed_id), str(kek_id), bytes(wrapped_dek), int(stored_size))

    @property
    def sealed(self) -> SealedObject:
        """The sealed object's key record (unsaved; enough to open it)."""
        sealed_id, practice, kind, kek_id, wrapped_dek, length, stored_size, shredded = (
            self.sealed_row
        )
        return SealedObject(
            id=UUID(str(sealed_id)),
            practice_id=UUID(str(practice)),
            kind=kind,
            kek_id=kek_id,
            wrapped_dek=bytes(wrapped_dek) if not shredded and wrapped_dek is not None else b"",
            length=int(length),
            stored_size=int(stored_size),
            shredded_at=SHREDDED if shredded else None,
        )


Fetch = Callable[[str, Sequence[Any]], "Sequence[Any] | None"]


def django_fetch(sql: str, params: Sequence[Any]) -> Sequence[Any] | None:
    """The first row of ``sql``, on this thread's Django connection."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: Sequence[Any] | None = cursor.fetchone()
        return row


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _col(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name
    return connection.ops.quote_name(field.column)


def _uuid(db: BaseDatabaseWrapper, value: UUID) -> Any:
    """As `UUIDField` stores it: native where the database has the type, else 32 hex digits."""
    return value if db.features.has_native_uuid_field else value.hex


def _when(db: BaseDatabaseWrapper, value: datetime) -> Any:
    return db.ops.adapt_datetimefield_value(value)


def _as_uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


@cache
def _token_sql(vendor: str) -> str:
    t, u = ApiToken, User
    # Identifiers come from model metadata, quoted; every value is a query parameter.
    return (
        f"SELECT t.{_col(t, 'id')}, t.{_col(t, 'digest')}, u.{_col(u, 'id')},"  # noqa: S608
        f" u.{_col(u, 'role')}, u.{_col(u, 'practice')},"
        f" (t.{_col(t, 'last_used_at')} IS NULL OR t.{_col(t, 'last_used_at')} < %s)"
        f" FROM {_table(t)} t JOIN {_table(u)} u ON u.{_col(u, 'id')} = t.{_col(t, 'user')}"
        f" WHERE t.{_col(t, 'prefix')} = %s AND t.{_col(t, 'revoked_at')} IS NULL"
        f" AND (t.{_col(t, 'expires_at')} IS NULL OR t.{_col(t, 'expires_at')} > %s)"
        f" AND u.{_col(u, 'is_active')}"
    )


def token_caller(*, claim: TokenClaim, now: datetime, fetch: Fetch = django_fetch) -> Caller | None:
    """The active user of a usable token (as `token_authenticate` decides), or None."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy costs
    row = fetch(
        _token_sql(db.vendor), [_when(db, now - TOKEN_TOUCH_EVERY), claim.prefix, _when(db, now)]
    )
    if row is None or not hmac.compare_digest(str(row[1]), claim.digest):
        return None
    return Caller(
        user_id=UUID(str(row[2])),
        role=str(row[3]),
        practice_id=UUID(str(row[4])),
        token_id=UUID(str(row[0])),
        token_stale=bool(row[5]),
    )


@cache
def _grant_sql(vendor: str) -> str:
    r, rec, so, sh, hb, pb, mfa, u = (
        Rendition,
        Recording,
        SealedObject,
        Share,
        HoldBack,
        PlaybackSession,
        Authenticator,
        User,
    )
    # Identifiers come from model metadata, quoted; every value is a query parameter.
    return (
        f"SELECT r.{_col(r, 'kind')}, r.{_col(r, 'variant')}, rec.{_col(rec, 'id')},"  # noqa: S608
        f" rec.{_col(rec, 'therapist')}, rec.{_col(rec, 'client')},"
        f" so.{_col(so, 'id')}, so.{_col(so, 'practice')}, so.{_col(so, 'kind')},"
        f" so.{_col(so, 'kek_id')}, so.{_col(so, 'wrapped_dek')}, so.{_col(so, 'length')},"
        f" so.{_col(so, 'stored_size')}, so.{_col(so, 'shredded_at')} IS NOT NULL,"
        f" sh.{_col(sh, 'id')}, sh.{_col(sh, 'allow_video')},"
        f" sh.{_col(sh, 'allow_transcript')}, sh.{_col(sh, 'allow_download')},"
        f" EXISTS (SELECT 1 FROM {_table(hb)} hb"
        f"  WHERE hb.{_col(hb, 'recording')} = rec.{_col(rec, 'id')}),"
        f" EXISTS (SELECT 1 FROM {_table(mfa)} a"
        f"  WHERE a.{_col(mfa, 'user')} = %s AND a.{_col(mfa, 'type')} IN (%s, %s)),"
        f" (SELECT pb.{_col(pb, 'id')} FROM {_table(pb)} pb"
        f"  WHERE pb.{_col(pb, 'user')} = %s AND pb.{_col(pb, 'rendition')} = r.{_col(r, 'id')}"
        f"  AND pb.{_col(pb, 'last_seen_at')} >= %s"
        f"  ORDER BY pb.{_col(pb, 'last_seen_at')} DESC LIMIT 1),"
        f" NOT EXISTS (SELECT 1 FROM {_table(pb)} pb"
        f"  WHERE pb.{_col(pb, 'user')} = %s AND pb.{_col(pb, 'rendition')} = r.{_col(r, 'id')}"
        f"  AND pb.{_col(pb, 'last_seen_at')} >= %s)"
        f" FROM {_table(r)} r"
        f" JOIN {_table(rec)} rec ON rec.{_col(rec, 'id')} = r.{_col(r, 'recording')}"
        f" JOIN {_table(so)} so ON so.{_col(so, 'id')} = r.{_col(r, 'sealed')}"
        f" LEFT JOIN {_table(sh)} sh ON sh.{_col(sh, 'recording')} = rec.{_col(rec, 'id')}"
        f"  AND sh.{_col(sh, 'client')} = %s AND sh.{_col(sh, 'revoked_at')} IS NULL"
        f"  AND sh.{_col(sh, 'expires_at')} > %s"
        f" WHERE r.{_col(r, 'id')} = %s AND rec.{_col(rec, 'practice')} = %s"
        f" AND EXISTS (SELECT 1 FROM {_table(u)} u"
        f"  WHERE u.{_col(u, 'id')} = %s AND u.{_col(u, 'is_active')})"
        f" ORDER BY sh.{_col(sh, 'created_at')} DESC LIMIT 1"
    )


def fast_grant(
    *,
    caller: Caller,
    rendition_id: UUID,
    now: datetime,
    viewing_gap: timedelta,
    touch_every: timedelta,
    fetch: Fetch = django_fetch,
) -> FastGrant | None:
    """A grant for the common cases, or None: "not decided here, apply the full rules"."""
    if caller.role not in (Role.THERAPIST, Role.CLIENT):
        return None
    db = connections[DEFAULT_DB_ALIAS]
    user, at = _uuid(db, caller.user_id), _when(db, now)
    params = [
        user,
        Authenticator.Type.TOTP.value,
        Authenticator.Type.WEBAUTHN.value,
        user,
        _when(db, now - viewing_gap),
        user,
        _when(db, now - touch_every),
        user,
        at,
        _uuid(db, rendition_id),
        _uuid(db, caller.practice_id),
        user,
    ]
    row = fetch(_grant_sql(db.vendor), params)
    if row is None:
        return None
    (kind, variant, recording_id, therapist_id, client_id) = row[0:5]
    share_id, allow_video, allow_transcript, allow_download = row[13:17]
    held_back, has_mfa, viewing_id, viewing_stale = row[17:21]
    if caller.role == Role.THERAPIST:
        if _as_uuid(therapist_id) != caller.user_id or not has_mfa:
            return None
        download = True
    else:
        if _as_uuid(client_id) != caller.user_id or share_id is None:
            return None
        if variant != (CLIENT if held_back else FULL):
            return None  # a client only ever gets their own version
        if not kind_allowed(kind, video=bool(allow_video), transcript=bool(allow_transcript)):
            return None
        download = bool(allow_download)
    return FastGrant(
        rendition_id=rendition_id,
        recording_id=UUID(str(recording_id)),
        kind=str(kind),
        share_id=_as_uuid(share_id),
        allow_download=download,
        viewing_id=_as_uuid(viewing_id),
        viewing_stale=bool(viewing_stale),
        sealed_row=tuple(row[5:13]),
    )
