"""Streaming sealed media: `GET|HEAD /media/<rendition id>`, as a lean ASGI handler.

Every request is authenticated and authorized from the database (a revoked share stops the very
next range request), Range is answered exactly per RFC 9110 (`revisit.lib.http_range`), and only
the chunks a range touches are read and decrypted, a batch at a time. The first request of a
viewing is audited; later ranges are not.

The everyday request, a bearer token's range of a rendition its owner is already watching, is
authorized on the event loop itself on SQLite (`revisit.edge.loopdb`: two indexed read-only
queries, no thread hop) with an opened reader kept from the last range (`revisit.edge.readers`).
Everything else (session cookies, refusals, a new viewing or a due touch to record, PostgreSQL)
goes to one worker thread, through Django's connection and, where the one-query path does not
decide, the full rules of `revisit.review.access`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.mail import send_mail
from django.db import close_old_connections, transaction
from django.utils import timezone

from revisit.accounts.models import ApiToken, Role, User
from revisit.accounts.selectors import has_mfa
from revisit.accounts.services import TokenClaim, token_parse, user_requires_mfa
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.edge import loopdb, readers, threads
from revisit.edge.asgi_io import header_map, problem_body
from revisit.edge.auth import MFA_MISSING, NOT_AUTHENTICATED, Refusal, authenticate_scope
from revisit.edge.grant import Caller, FastGrant, Fetch, django_fetch, fast_grant, token_caller
from revisit.ids import parse_id
from revisit.lib import sealed
from revisit.lib.blobstore import BlobStoreError
from revisit.lib.http_range import decide_range
from revisit.recordings.models import CONTENT_TYPES, Rendition, RenditionKind
from revisit.review.access import rendition_access
from revisit.review.models import PlaybackSession
from revisit.vault import services as vault

log = logging.getLogger("revisit.media")
access_log = logging.getLogger("revisit.access")  # refusals, with ids only (ASVS V16.3.2)

PREFIX = "/media/"
VIEWING_GAP = timedelta(minutes=30)  # a new viewing (and audit event) after this much quiet
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class Grant:
    reader: sealed.SealedReader
    etag: str
    content_type: str
    disposition: str
    local: bool  # the blob store reads local files (fast enough to read on the event loop)


def _audit_viewing(
    *,
    actor: Any,
    practice: Any,
    recording_id: Any,
    rendition_id: Any,
    kind: str,
    viewing_id: Any,
    flags: dict[str, str] | None = None,
) -> None:
    """One audit entry per viewing (not per range request), in the caller's transaction."""
    audit_record(
        event=Event.PLAYBACK_STARTED if kind in ("video", "audio") else Event.TRANSCRIPT_VIEWED,
        actor=actor,
        practice=practice,
        subject_type="recording",
        subject_id=str(recording_id),
        detail={
            "rendition": str(rendition_id),
            "kind": kind,
            "viewing": str(viewing_id),
            **(flags or {}),  # e.g. the emergency-access grant (Access.audit_detail)
        },
    )


def _touch_viewing(
    user: User, rendition: Any, share: Any, flags: dict[str, str] | None = None
) -> None:
    now = timezone.now()
    recent = (
        PlaybackSession.objects.filter(
            user=user, rendition=rendition, last_seen_at__gte=now - VIEWING_GAP
        )
        .order_by("-last_seen_at")
        .first()
    )
    if recent is not None:
        if now - recent.last_seen_at > TOUCH_EVERY:
            PlaybackSession.objects.filter(pk=recent.pk).update(last_seen_at=now)
        return
    with transaction.atomic():
        viewing = PlaybackSession.objects.create(user=user, rendition=rendition, share=share)
        _audit_viewing(
            actor=user,
            practice=user.practice_id,
            recording_id=rendition.recording_id,
            rendition_id=rendition.pk,
            kind=rendition.kind,
            viewing_id=viewing.pk,
            flags=flags,
        )


def _report_tampering(user: User, rendition: Any, error: Exception) -> None:
    """Audit it and tell the practice's admins (ids only: no names, titles or content)."""
    log.error("integrity failure on rendition %s: %s", rendition.pk, type(error).__name__)
    with transaction.atomic():
        audit_record(
            event=Event.MEDIA_TAMPERED,
            actor=user,
            practice=user.practice_id,
            subject=rendition.recording,
            detail={"rendition": str(rendition.pk), "error": type(error).__name__},
        )
        admins = list(
            User.objects.filter(
                practice_id=user.practice_id, role=Role.ADMIN, is_active=True
            ).values_list("email", flat=True)
        )
        if admins:
            body = (
                "A stored object failed its integrity check when it was requested, and was not "
                f"served.\n\nRendition: {rendition.pk}\nError: {type(error).__name__}\n\n"
                "Run `revisit vault verify` to check all stored objects, and restore this one "
                "from a backup if needed.\n"
            )
            transaction.on_commit(
                lambda: send_mail(
                    subject="Revisit: a stored recording failed its integrity check",
                    message=body,
                    from_email=None,
                    recipient_list=admins,
                    fail_silently=True,
                )
            )


NOT_FOUND = Refusal(404, "Not Found", "There is nothing here, or you may not see it.")
UNAVAILABLE = Refusal(
    503, "Unavailable", "This recording cannot be played right now. The practice has been told."
)


def _bearer_claim(header: str | None) -> TokenClaim | None:
    kind, _, raw = (header or "").partition(" ")
    return token_parse(raw=raw.strip()) if kind.lower() == "bearer" else None


def _fast(caller: Caller, pk: UUID, now: datetime, fetch: Fetch = django_fetch) -> FastGrant | None:
    return fast_grant(
        caller=caller,
        rendition_id=pk,
        now=now,
        viewing_gap=VIEWING_GAP,
        touch_every=TOUCH_EVERY,
        fetch=fetch,
    )


def _identify(scope: dict[str, Any], now: datetime) -> tuple[Caller, User | None] | Refusal:
    """Who the request acts for. Bearer tokens take the one-query path; sessions go by Django."""
    header = header_map(scope).get("authorization")
    if header is None:
        user = authenticate_scope(scope, touch=False, check_mfa=False)
        if isinstance(user, Refusal):
            return user
        return Caller(user_id=user.pk, role=user.role, practice_id=user.practice_id), user
    claim = _bearer_claim(header)
    caller = None if claim is None else token_caller(claim=claim, now=now)
    if caller is None:
        return NOT_AUTHENTICATED
    if caller.token_stale and caller.token_id is not None:
        ApiToken.objects.filter(pk=caller.token_id).update(last_used_at=now)
    return caller, None


_EXTENSIONS = {
    "video/mp4": "mp4",
    "audio/mp4": "m4a",
    "text/vtt": "vtt",
    "image/jpeg": "jpg",
    "application/json": "json",
}


def _disposition(kind: str, content_type: str, download: bool) -> str:
    """A download gets a name made here from the kind alone: never a title or a client's name."""
    if not download:
        return "inline"
    extension = _EXTENSIONS.get(content_type, "bin")
    return f'attachment; filename="revisit-{RenditionKind(kind).value}.{extension}"'


def _grant(
    reader: sealed.SealedReader, sealed_id: Any, kind: str, content_type: str, download: bool
) -> Grant:
    return Grant(
        reader=reader,
        etag=f'"{UUID(str(sealed_id)).hex}"',
        content_type=content_type,
        disposition=_disposition(kind, content_type, download),
        local=vault.blobstore().local,
    )


def _open(fast: FastGrant) -> sealed.SealedReader:
    """The rendition's reader: kept from an earlier range where the store is local."""
    key = fast.sealed_key
    if key is None or not vault.blobstore().local:
        return vault.vault_reader(fast.sealed)
    return readers.reader_for(key, lambda: vault.vault_reader(fast.sealed))


def _wants_download(scope: dict[str, Any]) -> bool:
    return "download=1" in scope.get("query_string", b"").decode("latin-1").split("&")


def _fast_grant(scope: dict[str, Any], fast: FastGrant, reader: sealed.SealedReader) -> Grant:
    content_type = CONTENT_TYPES[RenditionKind(fast.kind)]
    download = fast.allow_download and _wants_download(scope)
    return _grant(reader, fast.sealed_row[0], fast.kind, content_type, download)


def _authorize_fast(scope: dict[str, Any], caller: Caller, fast: FastGrant) -> Grant | Refusal:
    try:
        reader = _open(fast)
    except (sealed.SealedError, BlobStoreError) as exc:
        rendition = Rendition.objects.select_related("recording").get(pk=fast.rendition_id)
        _report_tampering(User.objects.get(pk=caller.user_id), rendition, exc)
        return UNAVAILABLE
    now = timezone.now()
    if fast.viewing_id is None:
        with transaction.atomic():
            viewing = PlaybackSession.objects.create(
                user_id=caller.user_id, rendition_id=fast.rendition_id, share_id=fast.share_id
            )
            _audit_viewing(
                actor=caller.user_id,
                practice=caller.practice_id,
                recording_id=fast.recording_id,
                rendition_id=fast.rendition_id,
                kind=fast.kind,
                viewing_id=viewing.pk,
            )
    elif fast.viewing_stale:
        PlaybackSession.objects.filter(pk=fast.viewing_id).update(last_seen_at=now)
    return _fast_grant(scope, fast, reader)


def _authorize_fully(scope: dict[str, Any], user: User, rendition_id: UUID) -> Grant | Refusal:
    """Every rule of `revisit.review.access`, for whatever the one-query path did not decide."""
    if user_requires_mfa(user) and not has_mfa(user):
        return MFA_MISSING
    found = rendition_access(user=user, rendition_id=rendition_id)
    if found is None:
        return NOT_FOUND
    rendition, access = found
    try:
        reader = vault.vault_reader(rendition.sealed)
    except (sealed.SealedError, BlobStoreError) as exc:
        _report_tampering(user, rendition, exc)
        return UNAVAILABLE
    _touch_viewing(user, rendition, access.share, access.audit_detail)
    download = access.allow_download and _wants_download(scope)
    return _grant(reader, rendition.sealed_id, rendition.kind, rendition.content_type, download)


def _logged(refusal: Refusal, *, user_id: UUID | None, rendition_id: UUID | None) -> Refusal:
    """Note a refused request in one line of ids: who asked (if known) and for what."""
    access_log.warning(
        "refused: user=%s rendition=%s status=%d",
        user_id or "-",
        rendition_id or "-",
        refusal.status,
    )
    return refusal


def authorize_on_loop(scope: dict[str, Any], rendition_id: str) -> Grant | None:
    """A grant decided without leaving the event loop, or None: "ask `authorize`".

    Only grants are made here, and only those that need nothing written (the caller's viewing is
    current and their token's last use recent): a refusal, a first range, a session cookie or any
    doubt goes to `authorize`, which also logs and reports.
    """
    if not loopdb.available():
        return None
    claim = _bearer_claim(header_map(scope).get("authorization"))
    pk = parse_id(rendition_id)
    if claim is None or pk is None:
        return None
    now = timezone.now()
    try:
        caller = token_caller(claim=claim, now=now, fetch=loopdb.fetchone)
        if caller is None or caller.token_stale:
            return None
        fast = _fast(caller, pk, now, loopdb.fetchone)
    except loopdb.LoopDatabaseError as exc:
        log.warning("media query on the event loop failed (%s); using a worker thread", exc)
        return None
    if fast is None or fast.viewing_id is None or fast.viewing_stale or not vault.blobstore().local:
        return None
    try:
        reader = _open(fast)
    except (sealed.SealedError, BlobStoreError):
        return None  # `authorize` reports it
    return _fast_grant(scope, fast, reader)


def authorize(scope: dict[str, Any], rendition_id: str) -> Grant | Refusal:
    """All database work of one media request, in one worker-thread hop."""
    close_old_connections()
    try:
        pk = parse_id(rendition_id)
        now = timezone.now()
        identified = _identify(scope, now)
        if isinstance(identified, Refusal):
            return _logged(identified, user_id=None, rendition_id=pk)
        caller, user = identified
        if pk is None:
            return _logged(NOT_FOUND, user_id=caller.user_id, rendition_id=None)
        fast = _fast(caller, pk, now)
        if fast is not None:
            return _authorize_fast(scope, caller, fast)
        if user is None:
            user = User.objects.filter(pk=caller.user_id, is_active=True).first()
            if user is None:
                return _logged(NOT_AUTHENTICATED, user_id=caller.user_id, rendition_id=pk)
        granted = _authorize_fully(scope, user, pk)
        if isinstance(granted, Refusal) and granted is not UNAVAILABLE:  # that one is logged
            return _logged(granted, user_id=user.pk, rendition_id=pk)
        return granted
    finally:
        close_old_connections()


async def _refuse(send: Any, refusal: Refusal) -> None:
    body = problem_body(refusal.status, refusal.title, refusal.detail)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store, private"),
        (b"x-content-type-options", b"nosniff"),
    ] + [(k.lower().encode(), v.encode()) for k, v in refusal.headers]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    method = scope["method"]
    if method not in ("GET", "HEAD"):
        await _refuse(
            send,
            Refusal(405, "Method Not Allowed", "Only GET and HEAD.", (("Allow", "GET, HEAD"),)),
        )
        return
    rendition_id = scope["path"][len(PREFIX) :].strip("/")
    grant: Grant | Refusal | None = authorize_on_loop(scope, rendition_id)
    if grant is None:
        # One hop to a database thread (plain run_in_executor: asgiref's context copying costs
        # more than the query on this path).
        loop = asyncio.get_running_loop()
        grant = await loop.run_in_executor(threads.MEDIA, authorize, scope, rendition_id)
    if isinstance(grant, Refusal):
        await _refuse(send, grant)
        return
    headers = header_map(scope)
    decision = decide_range(
        method=method,
        range_header=headers.get("range"),
        if_range=headers.get("if-range"),
        size=grant.reader.length,
        etag=grant.etag,
    )
    response_headers = [(k.lower().encode(), v.encode()) for k, v in decision.headers]
    response_headers += [
        (b"content-type", grant.content_type.encode()),
        (b"content-disposition", grant.disposition.encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send(
        {"type": "http.response.start", "status": decision.status, "headers": response_headers}
    )
    if decision.span is None:
        await send({"type": "http.response.body", "body": b""})
        return
    first, last = decision.span
    batches = grant.reader.iter_range_batches(first, last + 1)

    async def following() -> bytearray | None:
        # A local store's reads come from the page cache in well under a millisecond, so they
        # are decrypted right here; a network store's reads wait in a worker thread.
        if grant.local:
            return next(batches, None)
        return await asyncio.to_thread(next, batches, None)

    try:
        body = await following()
        if body is None:
            await send({"type": "http.response.body", "body": b""})
        while body is not None:
            # One batch ahead, so that the last one ends the response (one message fewer).
            after = await following()
            await send({"type": "http.response.body", "body": body, "more_body": after is not None})
            body = after
    except sealed.SealedError as exc:
        # A chunk failed its check after the headers went out: stop; never send unverified bytes.
        log.error("integrity failure while streaming: %s", type(exc).__name__)
        return
    except OSError:
        return  # the client went away
