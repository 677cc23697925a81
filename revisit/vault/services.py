"""Sealing, opening, shredding, rotating and verifying stored objects.

Every piece of session content goes through here: `vault_seal` writes only sealed bytes to disk
(a private temporary file, then the blob store) and a key record to the database; `vault_reader`
decrypts only the chunks a range touches; `vault_shred` destroys the wrapped key.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib import sealed
from revisit.lib.blobstore import BlobNotFoundError, BlobStore, BlobStoreError, blobstore_from_url
from revisit.lib.keys import KeyringError, LocalKeyFileProvider, WrappedKey, rewrap
from revisit.lib.sealed_writer import SealedWriter
from revisit.vault.models import ObjectKind, SealedObject

_COPY_BLOCK = 1 << 20


class ShreddedError(sealed.SealedError):
    """The object's key was destroyed: its content can never be read again."""


_keyrings: dict[Path, LocalKeyFileProvider] = {}
_stores: dict[str, BlobStore] = {}


def keyring() -> LocalKeyFileProvider:
    """The key-encryption keys (re-read whenever the file changes on disk)."""
    path = Path(settings.KEY_FILE)
    if path not in _keyrings:
        _keyrings[path] = LocalKeyFileProvider(path, create=False)
    return _keyrings[path]


def blobstore() -> BlobStore:
    url = settings.STORAGE_URL
    if url not in _stores:
        options: dict[str, str] = settings.STORAGE_OPTIONS
        _stores[url] = blobstore_from_url(
            url,
            endpoint_url=options.get("endpoint_url"),
            access_key=options.get("access_key"),
            secret_key=options.get("secret_key"),
            region=options.get("region", "us-east-1"),
        )
    return _stores[url]


def scratch_dir() -> Path:
    """A private folder for sealed temporary files (never plaintext)."""
    path = Path(settings.DATA_DIR) / "tmp"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _new_key(object_id: uuid.UUID) -> tuple[bytes, WrappedKey]:
    dek = sealed.new_dek()
    return dek, keyring().wrap(dek, object_id=object_id)


def vault_seal(
    *,
    practice_id: uuid.UUID,
    kind: ObjectKind,
    source: BinaryIO | Iterable[bytes],
    length: int | None = None,
) -> SealedObject:
    """Seal a stream into the blob store and record its key. Constant memory.

    Call inside the transaction that links the object to its owner. If that transaction rolls back,
    the blob stays behind without a key record: unreadable, only taking space.
    """
    object_id = uuid.uuid4()
    dek, wrapped = _new_key(object_id)
    fd, name = tempfile.mkstemp(dir=scratch_dir(), prefix="seal-", suffix=".sealed")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w+b") as dest:
            writer = SealedWriter(dest, dek=dek, object_id=object_id, length=length)
            if hasattr(source, "read"):
                while block := source.read(_COPY_BLOCK):
                    writer.write(block)
            else:
                for block in source:
                    writer.write(block)
            result = writer.close()
            dest.flush()
            os.fsync(dest.fileno())
        obj = SealedObject(
            id=object_id,
            practice_id=practice_id,
            kind=kind,
            kek_id=wrapped.key_id,
            wrapped_dek=wrapped.data,
            length=result.plaintext_length,
            stored_size=result.stored_size,
        )
        blobstore().adopt_file(obj.blob_key, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    obj.save(force_insert=True)
    return obj


def vault_seal_bytes(*, practice_id: uuid.UUID, kind: ObjectKind, data: bytes) -> SealedObject:
    return vault_seal(practice_id=practice_id, kind=kind, source=[data], length=len(data))


def object_dek(obj: SealedObject) -> bytes:
    if obj.shredded_at is not None or not obj.wrapped_dek:
        raise ShreddedError("its key was destroyed", object_id=obj.id)
    return keyring().unwrap(WrappedKey(obj.kek_id, bytes(obj.wrapped_dek)), object_id=obj.id)


def vault_reader(obj: SealedObject) -> sealed.SealedReader:
    """Open an object for range reads; checks the header (and so the key) before returning."""
    dek = object_dek(obj)
    store = blobstore()
    return sealed.SealedReader(
        partial(store.read_at, obj.blob_key), obj.stored_size, dek=dek, object_id=obj.id
    )


def vault_read_bytes(obj: SealedObject, *, max_bytes: int = 64 << 20) -> bytes:
    if obj.length > max_bytes:
        raise ValueError(f"object {obj.id} is too large to read into memory")
    return vault_reader(obj).read_all()


def vault_shred(obj: SealedObject, *, reason: str, actor: object = None) -> None:
    """Destroy the object's wrapped key (crypto-shredding), then remove the blob.

    The key record stays, empty, as the deletion record: what, when and why, without content.
    """
    with transaction.atomic():
        updated = SealedObject.objects.filter(pk=obj.pk, shredded_at=None).update(
            wrapped_dek=b"", shredded_at=timezone.now(), shred_reason=reason[:64]
        )
        if updated:
            audit_record(
                event=Event.OBJECT_SHREDDED,
                actor=actor,
                practice=obj.practice_id,
                subject=obj,
                subject_type="sealed_object",
                detail={"kind": obj.kind, "reason": reason[:64]},
            )
        key = obj.blob_key
        transaction.on_commit(partial(_delete_blob_quietly, key))
    obj.refresh_from_db()


def _delete_blob_quietly(key: str) -> None:
    # The key is already gone, so a blob left behind by a store error is unreadable.
    with contextlib.suppress(BlobStoreError):
        blobstore().delete(key)


@dataclass
class RotateReport:
    new_key_id: str | None
    rewrapped: int
    retired: list[str] = field(default_factory=list)


def vault_rotate_keys(*, batch: int = 500, add_key: bool = True) -> RotateReport:
    """Rewrap every DEK under a new KEK; retire KEKs nothing uses any more.

    Resumable: if a previous run was interrupted (records still under an older key), it carries
    on under the current active key instead of adding another one.
    """
    ring = keyring()
    active = ring.active_key_id
    pending = SealedObject.objects.filter(shredded_at=None).exclude(kek_id=active)
    new_key_id = None
    if add_key and not pending.exists():
        new_key_id = ring.add_key()
        active = new_key_id
        pending = SealedObject.objects.filter(shredded_at=None).exclude(kek_id=active)
    rewrapped = 0
    while True:
        ids = list(pending.values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            for obj in SealedObject.objects.select_for_update().filter(pk__in=ids):
                fresh = rewrap(
                    ring, WrappedKey(obj.kek_id, bytes(obj.wrapped_dek)), object_id=obj.id
                )
                if fresh is not None:
                    obj.kek_id, obj.wrapped_dek = fresh.key_id, fresh.data
                    obj.save(update_fields=["kek_id", "wrapped_dek"])
                    rewrapped += 1
    in_use = set(SealedObject.objects.filter(shredded_at=None).values_list("kek_id", flat=True))
    retired = [kid for kid in ring.key_ids() if kid != ring.active_key_id and kid not in in_use]
    for kid in retired:
        ring.retire(kid)
    with transaction.atomic():
        audit_record(
            event=Event.KEY_ROTATED,
            detail={"new_key": new_key_id, "rewrapped": rewrapped, "retired": len(retired)},
        )
    return RotateReport(new_key_id=new_key_id, rewrapped=rewrapped, retired=retired)


@dataclass
class VerifyProblem:
    object_id: str
    problem: str


@dataclass
class VaultVerifyReport:
    checked: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def vault_verify() -> VaultVerifyReport:
    """Check every live object's header and every chunk tag. Reports ids and error kinds only."""
    report = VaultVerifyReport()
    for obj in SealedObject.objects.filter(shredded_at=None).iterator(chunk_size=200):
        report.checked += 1
        try:
            vault_reader(obj).verify()
        except BlobNotFoundError:
            report.problems.append(VerifyProblem(str(obj.id), "blob missing"))
        except (sealed.SealedError, KeyringError, BlobStoreError) as exc:
            report.problems.append(VerifyProblem(str(obj.id), type(exc).__name__))
    with transaction.atomic():
        audit_record(
            event=Event.VAULT_VERIFIED,
            detail={"checked": report.checked, "problems": len(report.problems)},
        )
    return report
