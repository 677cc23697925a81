"""The tus 1.0.0 endpoint at /api/v1/uploads, as a raw ASGI handler.

Each request is authenticated like any other (token, or session + CSRF), then handled by the
upload services; request bodies stream from the socket into sealed chunks in constant memory.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import close_old_connections

from revisit.accounts.models import User
from revisit.edge import threads
from revisit.edge.asgi_io import (
    ClientDisconnected,
    Send,
    body_blocks,
    header_map,
    problem_body,
    respond,
)
from revisit.edge.auth import Refusal, authenticate_scope
from revisit.lib import tus
from revisit.lib.tus import TusError
from revisit.recordings import uploads
from revisit.recordings.models import RecordingSource, Upload

log = logging.getLogger("revisit.uploads")

PREFIX = "/api/v1/uploads"
_ITEM = re.compile(r"^/api/v1/uploads/([0-9a-fA-F-]{1,64})/?$")
_COMMON = {
    "Tus-Resumable": tus.TUS_VERSION,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def _problem(
    send: Send, status: int, title: str, detail: str, extra: dict[str, str] | None = None
) -> None:
    headers = {**_COMMON, "Content-Type": "application/problem+json", **(extra or {})}
    respond(send, status, headers, problem_body(status, title, detail))


def _location(upload: Upload) -> str:
    return f"{settings.PUBLIC_URL}{PREFIX}/{upload.pk}"


def _create(user: User, headers: dict[str, str], receive: Any, send: Send) -> None:
    length = tus.parse_creation_length(
        upload_length=headers.get("upload-length"),
        defer_length=headers.get("upload-defer-length"),
        max_size=settings.UPLOAD_MAX_BYTES,
    )
    raw_metadata = headers.get("upload-metadata", "")
    metadata = tus.parse_upload_metadata(raw_metadata)
    client = tus.metadata_text(metadata, "client")
    if not client:
        raise TusError(400, "Bad Request", "Upload-Metadata must name the `client` (id or email).")
    title = tus.metadata_text(metadata, "title", max_chars=200) or "Untitled session"
    source = RecordingSource.UPLOAD
    if tus.metadata_text(metadata, "source") == "browser":
        source = RecordingSource.BROWSER
    has_body = headers.get("content-type") is not None
    if has_body:
        tus.check_content_type(headers.get("content-type"))
    upload = uploads.upload_create(
        owner=user,
        client_reference=client,
        title=title,
        length=length,
        metadata=raw_metadata.strip(),
        source=source,
    )
    extra: dict[str, str] = {
        "Location": _location(upload),
        "Upload-Expires": tus.http_date(upload.expires_at),
    }
    if has_body:  # creation-with-upload
        checksum = tus.parse_upload_checksum(headers.get("upload-checksum"))
        verifier = tus.ChecksumVerifier(checksum) if checksum else None
        upload = uploads.upload_patch(
            upload=upload, offset=0, data=body_blocks(receive), checksum=verifier
        )
        extra["Upload-Offset"] = str(upload.offset)
        if uploads.upload_is_complete(upload):
            recording = uploads.upload_complete(upload=upload)
            extra["Revisit-Recording"] = str(recording.pk)
    respond(send, 201, {**_COMMON, **extra})


def _patch(user: User, upload_id: str, headers: dict[str, str], receive: Any, send: Send) -> None:
    tus.check_content_type(headers.get("content-type"))
    upload = uploads.upload_of(owner=user, upload_id=upload_id)
    tus.check_upload_offset(headers.get("upload-offset"), current=upload.offset)
    offset = upload.offset
    new_length = tus.parse_patch_length(
        headers.get("upload-length"),
        length=upload.length,
        offset=offset,
        max_size=settings.UPLOAD_MAX_BYTES,
    )
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit():
        tus.check_chunk_length(
            received=int(declared),
            offset=offset,
            length=new_length,
            max_size=settings.UPLOAD_MAX_BYTES,
        )
    checksum = tus.parse_upload_checksum(headers.get("upload-checksum"))
    verifier = tus.ChecksumVerifier(checksum) if checksum else None
    upload = uploads.upload_patch(
        upload=upload,
        offset=offset,
        data=body_blocks(receive),
        new_length=new_length,
        checksum=verifier,
    )
    extra = {
        "Upload-Offset": str(upload.offset),
        "Upload-Expires": tus.http_date(upload.expires_at),
    }
    if uploads.upload_is_complete(upload):
        recording = uploads.upload_complete(upload=upload)
        extra["Revisit-Recording"] = str(recording.pk)
    respond(send, 204, {**_COMMON, **extra})


def handle(scope: dict[str, Any], receive: Any, send_async: Any) -> None:
    """Answer one tus request (synchronously; the caller manages database connections)."""
    send: Send = async_to_sync(send_async)
    headers = header_map(scope)
    method = tus.effective_method(scope["method"], headers.get("x-http-method-override"))
    path = scope["path"]
    try:
        if method == "OPTIONS":
            respond(
                send,
                204,
                {
                    **tus.options_headers(max_size=settings.UPLOAD_MAX_BYTES),
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
            )
            return
        tus.check_version(headers.get("tus-resumable"))
        user = authenticate_scope(scope)
        if isinstance(user, Refusal):
            _problem(send, user.status, user.title, user.detail, dict(user.headers))
            return
        match = _ITEM.match(path)
        if path.rstrip("/") == PREFIX and method == "POST":
            _create(user, headers, receive, send)
        elif match and method == "HEAD":
            upload = uploads.upload_of(owner=user, upload_id=match.group(1))
            if uploads.upload_is_complete(upload) and upload.completed_at is None:
                # Every byte arrived but completion was cut short (a crash): a client that asks
                # where it stands sees offset == length and sends nothing more, so finish now.
                uploads.upload_complete(upload=upload)
                upload.refresh_from_db()
            head = tus.head_headers(
                offset=upload.offset, length=upload.length, metadata=upload.metadata or None
            )
            respond(send, 200, {**_COMMON, **head})
        elif match and method == "PATCH":
            _patch(user, match.group(1), headers, receive, send)
        elif match and method == "DELETE":
            upload = uploads.upload_of(owner=user, upload_id=match.group(1))
            if upload.completed_at is not None:
                raise TusError(
                    404, "Not Found", "This upload is complete; it cannot be terminated."
                )
            uploads.upload_terminate(upload=upload, actor=user)
            respond(send, 204, _COMMON)
        elif match or path.rstrip("/") == PREFIX:
            _problem(
                send,
                405,
                "Method Not Allowed",
                f"{method} is not supported here.",
                {"Allow": "OPTIONS, POST" if not match else "HEAD, PATCH, DELETE"},
            )
        else:
            _problem(send, 404, "Not Found", "There is nothing here.")
    except TusError as exc:
        _problem(send, exc.status, exc.title, exc.detail, dict(exc.headers))
    except ClientDisconnected:
        log.info("upload request ended early by the client; nothing was committed")
    except Exception:
        log.exception("upload request failed")
        _problem(
            send, 500, "Internal Server Error", "Something went wrong on our side; it was logged."
        )


def _handle_in_thread(scope: dict[str, Any], receive: Any, send: Any) -> None:
    close_old_connections()
    try:
        handle(scope, receive, send)
    finally:
        close_old_connections()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI entry: run the synchronous handler in a worker thread (bytes stream through)."""
    await sync_to_async(_handle_in_thread, thread_sensitive=False, executor=threads.UPLOADS)(
        scope, receive, send
    )
