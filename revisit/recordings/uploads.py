"""Resumable uploads (tus 1.0.0), sealed as the bytes arrive.

The HTTP layer (`revisit/recordings/tus_app.py`) parses headers with `revisit.lib.tus` and calls
these services. Bytes go straight from the socket into sealed chunks (`revisit.lib.sealed_upload`);
the last partial chunk is kept as a small sealed tail in the database, so no plaintext byte is ever
written to disk. Nothing is committed until the whole request body was received and its checksum
verified: an interrupted or rejected request leaves the upload exactly where it was.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import socket
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import client_by_reference
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib import sealed, sealed_upload
from revisit.lib.tus import ChecksumVerifier, TusError
from revisit.recordings.consent import ConsentMissingError, consent_require
from revisit.recordings.mediainfo import media_summary
from revisit.recordings.models import (
    ConsentScope,
    Recording,
    RecordingSource,
    RecordingStatus,
    Upload,
)
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind, SealedObject
from revisit.vault.plaintext import process_alive

log = logging.getLogger("revisit.uploads")

LEASE = timedelta(seconds=30)
_LEASE_RENEW_BYTES = 32 * 1024 * 1024


class UploadError(TusError):
    """A tus-level refusal with a message fit for the uploader."""


def _fail(status: int, detail: str) -> UploadError:
    titles = {
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        410: "Gone",
        413: "Too Large",
        422: "Not a recording",
        507: "Insufficient Storage",
    }
    return UploadError(status, titles.get(status, "Upload refused"), detail)


def body_path(upload_id: uuid.UUID) -> Path:
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"{upload_id.hex}.sealed"


def _quota_used(owner: User) -> int:
    pending = Upload.objects.filter(owner=owner, completed_at=None, terminated_at=None).aggregate(
        total=Sum("length")
    )["total"]
    stored = SealedObject.objects.filter(
        pk__in=Recording.objects.filter(therapist=owner).values("original_id"), shredded_at=None
    ).aggregate(total=Sum("length"))["total"]
    return int(pending or 0) + int(stored or 0)


def upload_create(
    *,
    owner: User,
    client_reference: str,
    title: str,
    length: int | None,
    metadata: str,
    source: RecordingSource = RecordingSource.UPLOAD,
) -> Upload:
    """Start an upload for a client in the owner's caseload, with recording consent on record."""
    if owner.role != Role.THERAPIST:
        raise _fail(403, "Only therapists can upload recordings.")
    client = client_by_reference(therapist=owner, reference=client_reference)
    if client is None:
        raise _fail(404, "No client with that id or email is in your caseload.")
    try:
        consent_require(client=client, scope=ConsentScope.RECORDING)
    except ConsentMissingError as exc:
        raise _fail(403, str(exc)) from None
    if length is not None and _quota_used(owner) + length > settings.UPLOAD_QUOTA_BYTES:
        raise _fail(413, "This upload would go over your storage quota.")
    upload_id = uuid.uuid4()
    object_id = uuid.uuid4()
    dek = sealed.new_dek()
    wrapped = vault.keyring().wrap(dek, object_id=object_id)
    path = body_path(upload_id)
    with open(path, "x+b") as body:
        os.chmod(path, 0o600)
        sealed_upload.upload_start(body, dek=dek, object_id=object_id)
    try:
        with transaction.atomic():
            key = SealedObject.objects.create(
                id=object_id,
                practice_id=owner.practice_id,
                kind=ObjectKind.UPLOAD,
                kek_id=wrapped.key_id,
                wrapped_dek=wrapped.data,
                length=0,
                stored_size=0,
            )
            upload = Upload.objects.create(
                id=upload_id,
                practice_id=owner.practice_id,
                owner=owner,
                client=client,
                title=title.strip()[:200] or "Untitled session",
                source=source,
                metadata=metadata,
                key=key,
                length=length,
                expires_at=timezone.now() + timedelta(hours=settings.UPLOAD_TTL_HOURS),
            )
            audit_record(
                event=Event.UPLOAD_STARTED,
                actor=owner,
                practice=owner.practice_id,
                subject=upload,
                detail={"client": str(client.pk), "length": length, "source": str(source)},
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


def upload_of(*, owner: User, upload_id: object) -> Upload:
    """The caller's upload, or a 404/410 TusError. Another user's upload is simply not found."""
    from revisit.ids import parse_id

    pk = parse_id(upload_id)
    upload = None if pk is None else Upload.objects.select_related("key").filter(pk=pk).first()
    if upload is None or upload.owner_id != owner.pk:
        raise _fail(404, "No such upload.")
    if upload.terminated_at is not None or (
        upload.completed_at is None and upload.expires_at <= timezone.now()
    ):
        raise _fail(410, "The upload expired or was terminated; start a new one.")
    return upload


def _dek(upload: Upload) -> bytes:
    return vault.object_dek(upload.key)


def _new_token() -> str:
    # host:pid:random, so a lease whose holder died (a killed server) can be recognised.
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(8)}"


def _holder_is_dead(token: str) -> bool:
    host, pid, _ = [*token.split(":"), "", ""][:3]
    if host != socket.gethostname()[:40] or not pid.isdigit():
        return False  # another machine's request: wait for its lease to run out
    return not process_alive(int(pid))


def _acquire(upload: Upload, *, offset: int) -> str:
    """Take the upload's write lease; returns the token that renews, commits and releases it."""
    now = timezone.now()
    token = _new_token()
    live = Upload.objects.filter(pk=upload.pk, offset=offset, completed_at=None, terminated_at=None)
    taken = live.filter(Q(lease_until=None) | Q(lease_until__lt=now)).update(
        lease_until=now + LEASE, lease_token=token
    )
    if taken:
        return token
    held = live.values_list("lease_token", flat=True).first()
    # The request holding it may have been in a process that is gone (a crash or a kill -9).
    if (
        held
        and _holder_is_dead(held)
        and live.filter(lease_token=held).update(lease_until=now + LEASE, lease_token=token)
    ):
        return token
    upload.refresh_from_db()
    if upload.completed_at is not None:
        raise _fail(404, "This upload is already complete.")
    if upload.offset != offset:
        raise UploadError(
            409, "Conflict", f"The upload is at byte {upload.offset}; resume from there."
        )
    raise UploadError(409, "Conflict", "Another request is writing to this upload; retry shortly.")


def _release(upload: Upload, token: str) -> None:
    Upload.objects.filter(pk=upload.pk, lease_token=token).update(lease_until=None, lease_token="")


def _renew(upload: Upload, token: str) -> None:
    renewed = Upload.objects.filter(pk=upload.pk, lease_token=token).update(
        lease_until=timezone.now() + LEASE
    )
    if not renewed:
        raise UploadError(409, "Conflict", "This request lost its hold on the upload; resume.")


def _metered(
    data: Iterable[bytes],
    *,
    upload: Upload,
    token: str,
    offset: int,
    length: int | None,
    verifier: ChecksumVerifier | None,
    on_bytes: Callable[[int], None] | None,
) -> Iterator[bytes]:
    """Pass request bytes through, enforcing the end of the upload and feeding the checksum.

    The write lease is renewed every 32 MiB and at least every quarter lease, so a slow but
    steady writer keeps it.
    """
    end = settings.UPLOAD_MAX_BYTES if length is None else length
    received = 0
    since_renew = 0
    renewed_at = time.monotonic()
    for block in data:
        if not block:
            continue
        received += len(block)
        if offset + received > end:
            raise _fail(413, f"The upload ends at byte {end}; this request goes past it.")
        if verifier is not None:
            verifier.update(block)
        since_renew += len(block)
        if since_renew >= _LEASE_RENEW_BYTES or (
            time.monotonic() - renewed_at > LEASE.total_seconds() / 4
        ):
            _renew(upload, token)
            since_renew, renewed_at = 0, time.monotonic()
        if on_bytes is not None:
            on_bytes(len(block))
        yield block


def _append(
    body: BinaryIO, data: Iterable[bytes], *, upload: Upload, dek: bytes, offset: int
) -> sealed_upload.AppendResult:
    try:
        return sealed_upload.upload_append(
            body,
            data,
            dek=dek,
            object_id=upload.key_id,
            offset=offset,
            tail=bytes(upload.tail) if offset else None,
        )
    except sealed.AppendConflictError:
        raise UploadError(
            409,
            "Conflict",
            "These bytes differ from what an interrupted request already sent for this offset; "
            "start a new upload.",
        ) from None


def upload_patch(
    *,
    upload: Upload,
    offset: int,
    data: Iterable[bytes],
    new_length: int | None = None,
    checksum: ChecksumVerifier | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Upload:
    """Append one request body at `offset`. Commits only after the body and checksum are whole.

    `new_length` is the Upload-Length sent with a PATCH of a deferred-length upload.
    """
    token = _acquire(upload, offset=offset)
    try:
        length = upload.length if new_length is None else new_length
        if length is not None and _quota_used(upload.owner) - (upload.length or 0) + length > (
            settings.UPLOAD_QUOTA_BYTES
        ):
            raise _fail(413, "This upload would go over your storage quota.")
        dek = _dek(upload)
        metered = _metered(
            data,
            upload=upload,
            token=token,
            offset=offset,
            length=length,
            verifier=checksum,
            on_bytes=on_bytes,
        )
        try:
            with open(body_path(upload.pk), "r+b") as body:
                if checksum is None:
                    result = _append(body, metered, upload=upload, dek=dek, offset=offset)
                else:
                    # Verify before appending: a chunk index must never be sealed twice with
                    # different bytes, so rejected bytes must not reach the body at all.
                    with tempfile.TemporaryFile(dir=body_path(upload.pk).parent) as spool:
                        staged = sealed_upload.stage_request(metered, spool)
                        checksum.verify()  # 460: nothing was appended or committed
                        result = _append(
                            body, staged.plaintext(), upload=upload, dek=dek, offset=offset
                        )
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _fail(507, "The server is out of storage space; try again later.") from None
            raise
        with transaction.atomic():
            committed = Upload.objects.filter(
                pk=upload.pk, lease_token=token, offset=offset, terminated_at=None
            ).update(offset=result.offset, tail=result.tail, length=length)
        if not committed:
            raise UploadError(409, "Conflict", "This request lost its hold on the upload; resume.")
        upload.offset, upload.tail, upload.length = result.offset, result.tail, length
    finally:
        _release(upload, token)
    return upload


def upload_is_complete(upload: Upload) -> bool:
    return upload.length is not None and upload.offset == upload.length


def upload_terminate(
    *, upload: Upload, actor: User, reason: str = "terminated", lease_token: str | None = None
) -> None:
    """End an upload and destroy its key. Refused (409) while a request is writing to it,
    unless the caller is that request (it passes its lease token)."""
    token = lease_token or _acquire(upload, offset=upload.offset)
    with transaction.atomic():
        Upload.objects.filter(pk=upload.pk).update(terminated_at=timezone.now(), tail=b"")
        audit_record(
            event=Event.UPLOAD_TERMINATED,
            actor=actor,
            practice=upload.practice_id,
            subject=upload,
            detail={"reason": reason},
        )
        vault.vault_shred(upload.key, reason=f"upload {reason}", actor=actor)
    body_path(upload.pk).unlink(missing_ok=True)
    _release(upload, token)


def uploads_complete_stranded() -> int:
    """Complete uploads whose bytes all arrived but whose completion was cut short (a crash
    between the last PATCH and the recording being created)."""
    stranded = (
        Upload.objects.filter(
            completed_at=None, terminated_at=None, length__isnull=False, offset=F("length")
        )
        .filter(Q(lease_until=None) | Q(lease_until__lt=timezone.now()))
        .select_related("key", "owner")
    )
    count = 0
    for upload in stranded:
        try:
            upload_complete(upload=upload)
        except UploadError as exc:
            # Refused media was cleaned up; a lease held by a live request waits for next time.
            log.info("stranded upload %s not completed now: %s", upload.pk, exc.status)
            continue
        count += 1
    return count


def uploads_sweep_expired() -> int:
    """Terminate uploads that passed their expiry without completing (periodic task)."""
    expired = Upload.objects.filter(
        completed_at=None, terminated_at=None, expires_at__lte=timezone.now()
    ).select_related("key", "owner")
    count = 0
    for upload in expired:
        try:
            upload_terminate(upload=upload, actor=upload.owner, reason="expired")
        except UploadError:
            continue  # a request is still writing; the next sweep ends it
        count += 1
    return count


PROBE_EDGE = 16 * 1024 * 1024


def _write_probe_copy(reader: sealed.SealedReader, media: Path, *, sparse: bool) -> None:
    """Decrypt into the private folder: everything, or only the first and last 16 MiB at their
    places in a sparse file of the right size (where containers keep what a probe reads)."""
    length = reader.length
    fd = os.open(media, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        if not sparse:
            for block in reader.iter_all():
                out.write(block)
            return
        for block in reader.iter_range(0, PROBE_EDGE):
            out.write(block)
        out.seek(length - PROBE_EDGE)
        for block in reader.iter_range(length - PROBE_EDGE, length):
            out.write(block)
        out.truncate(length)


def _probe_sealed_body(upload: Upload, dek: bytes) -> tuple[dict[str, object], float]:
    """Decrypt the finished body into a private scratch folder just long enough to probe it.

    Large files are probed from their two ends first; when that is not enough (a live WebM
    without a duration, an odd container) the whole file is decrypted and probed again.
    """
    from revisit.lib.ffmpeg import FfmpegError
    from revisit.lib.ffprobe import MediaRejected, probe
    from revisit.lib.media_check import validate_media
    from revisit.vault.plaintext import private_folder

    path = body_path(upload.pk)
    with open(path, "rb") as body, private_folder() as folder:
        reader = sealed.SealedReader(
            sealed.file_read_at(body),
            os.fstat(body.fileno()).st_size,
            dek=dek,
            object_id=upload.key_id,
        )
        media = folder / "media"
        info = None
        if reader.length > 4 * PROBE_EDGE:
            _write_probe_copy(reader, media, sparse=True)
            try:
                found = probe(media)
            except (FfmpegError, MediaRejected):
                found = None
            if found is not None and not found.duration_scanned and found.audio is not None:
                info = found
        try:
            if info is None:
                _write_probe_copy(reader, media, sparse=False)
                info = probe(media)
            validate_media(
                info,
                max_duration_s=settings.MEDIA_MAX_DURATION_S,
                max_width=settings.MEDIA_MAX_WIDTH,
                max_height=settings.MEDIA_MAX_HEIGHT,
            )
        except MediaRejected as exc:
            raise _fail(422, exc.message) from None
        except FfmpegError:
            raise _fail(422, "This file could not be read as audio or video.") from None
    return media_summary(info), info.duration_s


def upload_complete(*, upload: Upload) -> Recording:
    """Seal the last chunk, check it is real media, and turn it into a Recording for processing.

    Media that is not a recording is refused with a plain message (422) and the upload removed.
    """
    token = _acquire(upload, offset=upload.offset)
    try:
        dek = _dek(upload)
        with open(body_path(upload.pk), "r+b") as body:
            length = sealed_upload.upload_finish(
                body,
                dek=dek,
                object_id=upload.key_id,
                offset=upload.offset,
                tail=bytes(upload.tail) if upload.offset else None,
            )
        try:
            media_info, duration = _probe_sealed_body(upload, dek)
        except UploadError as exc:
            with transaction.atomic():
                audit_record(
                    event=Event.UPLOAD_REJECTED,
                    actor=upload.owner,
                    practice=upload.practice_id,
                    subject=upload,
                    detail={"status": exc.status},
                )
            upload_terminate(
                upload=upload, actor=upload.owner, reason="rejected", lease_token=token
            )
            raise
        stored_size = body_path(upload.pk).stat().st_size
        vault.blobstore().adopt_file(upload.key.blob_key, body_path(upload.pk))
        with transaction.atomic():
            SealedObject.objects.filter(pk=upload.key_id).update(
                kind=ObjectKind.ORIGINAL, length=length, stored_size=stored_size
            )
            recording = Recording.objects.create(
                practice_id=upload.practice_id,
                therapist=upload.owner,
                client=upload.client,
                title=upload.title,
                source=upload.source,
                status=RecordingStatus.PROCESSING,
                duration=duration,
                media_info=media_info,
                original_id=upload.key_id,
            )
            Upload.objects.filter(pk=upload.pk).update(
                completed_at=timezone.now(), recording=recording, tail=b""
            )
            audit_record(
                event=Event.UPLOAD_COMPLETED,
                actor=upload.owner,
                practice=upload.practice_id,
                subject=upload,
                detail={"recording": str(recording.pk), "length": length},
            )
            audit_record(
                event=Event.RECORDING_CREATED,
                actor=upload.owner,
                practice=upload.practice_id,
                subject=recording,
                detail={"client": str(upload.client_id), "source": upload.source},
            )
            from revisit.recordings.tasks import enqueue_processing

            enqueue_processing(recording)
        body_path(upload.pk).unlink(missing_ok=True)
    finally:
        _release(upload, token)
    return recording
