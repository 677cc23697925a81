"""Streaming sealed media: `GET|HEAD /media/<rendition id>`, as a lean ASGI handler.

Every request is authenticated and authorized from the database (a revoked share stops the very
next range request), Range is answered exactly per RFC 9110 (`revisit.lib.http_range`), and only
the chunks a range touches are read and decrypted, in a worker thread, a batch at a time, while
the event loop only moves bytes. The first request of a viewing is audited; later ranges are not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from django.core.mail import send_mail
from django.db import close_old_connections, transaction
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.edge import threads
from revisit.edge.asgi_io import header_map, problem_body
from revisit.edge.auth import Refusal, authenticate_scope
from revisit.lib import sealed
from revisit.lib.blobstore import BlobStoreError
from revisit.lib.http_range import decide_range
from revisit.review.access import rendition_access
from revisit.review.models import PlaybackSession
from revisit.vault import services as vault

log = logging.getLogger("revisit.media")

PREFIX = "/media/"
VIEWING_GAP = timedelta(minutes=30)  # a new viewing (and audit event) after this much quiet
TOUCH_EVERY = timedelta(seconds=60)
BATCH_CHUNKS = 8  # 512 KiB of plaintext per thread hop


@dataclass
class Grant:
    reader: sealed.SealedReader
    etag: str
    content_type: str
    disposition: str


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
        audit_record(
            event=Event.PLAYBACK_STARTED
            if rendition.kind in ("video", "audio")
            else Event.TRANSCRIPT_VIEWED,
            actor=user,
            practice=user.practice_id,
            subject=rendition.recording,
            detail={
                "rendition": str(rendition.pk),
                "kind": rendition.kind,
                "viewing": str(viewing.pk),
                **(flags or {}),  # e.g. the emergency-access grant (Access.audit_detail)
            },
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


def authorize(scope: dict[str, Any], rendition_id: str) -> Grant | Refusal:
    """All database work of one media request, in one worker-thread hop."""
    close_old_connections()
    try:
        user = authenticate_scope(scope, touch=False)
        if isinstance(user, Refusal):
            return user
        found = rendition_access(user=user, rendition_id=rendition_id)
        if found is None:
            return Refusal(404, "Not Found", "There is nothing here, or you may not see it.")
        rendition, access = found
        try:
            reader = vault.vault_reader(rendition.sealed)
        except (sealed.SealedError, BlobStoreError) as exc:
            _report_tampering(user, rendition, exc)
            return Refusal(
                503,
                "Unavailable",
                "This recording cannot be played right now. The practice has been told.",
            )
        _touch_viewing(user, rendition, access.share, access.audit_detail)
        query = scope.get("query_string", b"").decode("latin-1")
        download = access.allow_download and "download=1" in query.split("&")
        return Grant(
            reader=reader,
            etag=f'"{UUID(str(rendition.sealed_id)).hex}"',
            content_type=rendition.content_type,
            disposition="attachment" if download else "inline",
        )
    finally:
        close_old_connections()


async def _refuse(send: Any, refusal: Refusal) -> None:
    body = problem_body(refusal.status, refusal.title, refusal.detail)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store, private"),
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
    grant = await sync_to_async(authorize, thread_sensitive=False, executor=threads.MEDIA)(
        scope, rendition_id
    )
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
    chunks: Iterator[bytes] = grant.reader.iter_range(first, last + 1)
    try:
        while True:
            batch = await asyncio.to_thread(lambda: list(islice(chunks, BATCH_CHUNKS)))
            if not batch:
                break
            await send({"type": "http.response.body", "body": b"".join(batch), "more_body": True})
    except sealed.SealedError as exc:
        # A chunk failed its check after the headers went out: stop; never send unverified bytes.
        log.error("integrity failure while streaming: %s", type(exc).__name__)
        return
    except OSError:
        return  # the client went away
    await send({"type": "http.response.body", "body": b""})
