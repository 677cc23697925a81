"""Append mode: one sealed object built over the many requests of a resumable upload.

See "Append mode" in ``docs/storage-format.md``. The caller keeps three things: the body file,
the upload offset (plaintext bytes accepted, in the database) and the current *tail*, a small
sealed object holding the last 1 to 64 KiB received, so that no plaintext is kept between
requests. Each call opens the body, checks its header MAC, and derives everything else from the
offset. A typical request::

    result = upload_append(body, request_chunks, dek=dek, object_id=oid, offset=o, tail=old_tail)
    store_tail(oid, result.offset, result.tail)   # keep the old tail until the commit
    commit_offset(oid, result.offset)             # one database transaction
    delete_tail(oid, o)

and at the end ``upload_finish(body, dek=..., object_id=..., offset=..., tail=...)``.

Bytes fed to ``upload_append`` are encrypted under the upload's chunk nonces at once, so they
must be bytes the caller keeps. A request that may still be rejected after its last byte (a tus
checksum) is first sealed into a spool under a throw-away key with :func:`stage_request`, and
appended only once accepted::

    staged = stage_request(metered_request, spool)   # reads the whole request
    checksum.verify()                                 # on failure: nothing was appended
    result = upload_append(body, staged.plaintext(), ...)
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final, Protocol, runtime_checkable
from uuid import UUID, uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from revisit.lib.sealed import (
    CHUNK_SIZE,
    HEADER_LEN,
    KIND_UPLOAD_TAIL,
    PENDING_LENGTH,
    SALT_LEN,
    TAG_LEN,
    AppendConflictError,
    Header,
    ObjectKeys,
    SealedIntegrityError,
    SealedReader,
    SealedTruncatedError,
    check_chunk_size,
    chunk_nonce,
    file_read_at,
    hkdf,
    new_dek,
    open_bytes,
    open_header,
)
from revisit.lib.sealed_writer import Buffer, ChunkSealer, SealedWriter, seal_bytes

_TAIL_INFO: Final = b"revisit-sealed/v1 upload tail"
_READ_BLOCK: Final = 1 << 20


@runtime_checkable
class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class AppendResult:
    """``offset``: plaintext bytes accepted so far. ``tail``: the new sealed tail to store."""

    offset: int
    tail: bytes


def committed_chunks(offset: int, chunk_size: int) -> int:
    """How many chunks of the body are written once ``offset`` bytes were accepted."""
    return 0 if offset == 0 else (offset - 1) // chunk_size


def tail_dek(dek: bytes, index: int) -> bytes:
    """The data key of the tail that will become chunk ``index``."""
    return hkdf(dek, salt=b"", info=_TAIL_INFO + index.to_bytes(8, "big"))


def _sync(body: BinaryIO) -> None:
    body.flush()
    try:
        fd = body.fileno()
    except (OSError, AttributeError):  # an in-memory body has nothing to sync
        return
    os.fsync(fd)


def upload_start(
    body: BinaryIO, *, dek: bytes, object_id: UUID, chunk_size: int = CHUNK_SIZE
) -> None:
    """Write the pending header of a new upload body (a fresh salt, so a fresh payload key)."""
    if not check_chunk_size(chunk_size):
        raise ValueError(f"invalid chunk size {chunk_size}")
    salt = os.urandom(SALT_LEN)
    header = Header(object_id, chunk_size, PENDING_LENGTH, salt)
    body.seek(0)
    body.write(header.encode(ObjectKeys.derive(dek, salt).header_key))
    body.truncate()
    _sync(body)


class _OpenBody:
    """An upload body opened for one request, positioned after its committed chunks."""

    def __init__(
        self, body: BinaryIO, *, dek: bytes, object_id: UUID, offset: int, tail: bytes | None
    ) -> None:
        body.seek(0)
        header, keys = open_header(
            body.read(HEADER_LEN), dek=dek, object_id=object_id, allow_pending=True
        )
        self.body, self.object_id, self.offset = body, object_id, offset
        self.size, self.aad = header.chunk_size, object_id.bytes
        self.aead, self.keys, self.header = AESGCM(keys.payload_key), keys, header
        self.index = committed_chunks(offset, self.size)
        self.initial_size = body.seek(0, io.SEEK_END)
        if self.initial_size < self._offset_of(self.index):
            raise SealedTruncatedError(
                f"the body ends before its {self.index} committed chunks", object_id=object_id
            )
        if header.length != PENDING_LENGTH:  # a finish crashed before its commit: undo it
            self.write_header(PENDING_LENGTH)
        self.sealer = ChunkSealer(self.size, self._open_tail(dek, tail))

    def _offset_of(self, index: int) -> int:
        return HEADER_LEN + index * (self.size + TAG_LEN)

    def _open_tail(self, dek: bytes, tail: bytes | None) -> bytes:
        expected = self.offset - self.index * self.size
        if self.offset == 0:
            return b""
        if tail is None:
            raise SealedTruncatedError("the upload tail is missing", object_id=self.object_id)
        reader = open_bytes(
            tail, dek=tail_dek(dek, self.index), object_id=self.object_id, kind=KIND_UPLOAD_TAIL
        )
        if reader.length != expected:
            raise SealedIntegrityError(
                f"the upload tail holds {reader.length} bytes where the offset implies {expected}",
                object_id=self.object_id,
            )
        return reader.read_all()

    def write_header(self, length: int) -> None:
        h = self.header
        self.body.seek(0)
        self.body.write(
            Header(h.object_id, h.chunk_size, length, h.salt).encode(self.keys.header_key)
        )

    def feed(self, data: Readable | Iterable[Buffer]) -> None:
        blocks = iter(lambda: data.read(_READ_BLOCK), b"") if isinstance(data, Readable) else data
        for block in blocks:
            self.offset += len(memoryview(block).cast("B"))
            for chunk in self.sealer.feed(block):
                self.write_chunk(chunk, last=False)

    def write_chunk(self, plaintext: Buffer, *, last: bool) -> int:
        """Encrypt and write chunk ``index``; return where it ends."""
        position = self._offset_of(self.index)
        stored = self.aead.encrypt(chunk_nonce(self.index, last=last), plaintext, self.aad)
        if position < self.initial_size:
            self._check_orphan(position, stored, last=last)
        self.body.seek(position)
        self.body.write(stored)
        self.index += 1
        return position + len(stored)

    def _check_orphan(self, position: int, stored: bytes, *, last: bool) -> None:
        """Refuse to put a different ciphertext where one under the same nonce may exist."""
        self.body.seek(position)
        orphan = self.body.read(min(self.size + TAG_LEN, self.initial_size - position))
        overlap = min(len(orphan), len(stored))
        if orphan[:overlap] == stored[:overlap]:
            return  # same plaintext under the same nonce: the same bytes, nothing revealed
        try:  # a complete orphan under the other last-flag used a different nonce
            self.aead.decrypt(chunk_nonce(self.index, last=not last), orphan, self.aad)
        except InvalidTag:
            raise AppendConflictError(
                "different bytes for an offset already received; start the upload again",
                object_id=self.object_id,
                chunk=self.index,
            ) from None

    def end(self, stop: int | None = None) -> None:
        """Cut off anything past ``stop`` (default: the last full chunk written) and flush."""
        self.body.truncate(self._offset_of(self.index) if stop is None else stop)
        _sync(self.body)


def upload_append(
    body: BinaryIO,
    data: Readable | Iterable[Buffer],
    *,
    dek: bytes,
    object_id: UUID,
    offset: int,
    tail: bytes | None,
) -> AppendResult:
    """Append ``data`` to an upload whose committed offset is ``offset``.

    ``tail`` is the sealed tail stored with that offset (None when the offset is 0). Nothing is
    committed until the caller stores the returned tail and commits the returned offset; until
    then, a retry with the old offset and tail is always possible.
    """
    state = _OpenBody(body, dek=dek, object_id=object_id, offset=offset, tail=tail)
    state.feed(data)
    new_tail = b""
    if state.offset > 0:
        new_tail = seal_bytes(
            state.sealer.pending,
            dek=tail_dek(dek, state.index),
            object_id=object_id,
            kind=KIND_UPLOAD_TAIL,
            chunk_size=state.size,
        )
    state.end()
    return AppendResult(offset=state.offset, tail=new_tail)


def upload_finish(
    body: BinaryIO,
    *,
    dek: bytes,
    object_id: UUID,
    offset: int,
    tail: bytes | None,
    data: Readable | Iterable[Buffer] = (),
) -> int:
    """Append the last ``data`` (if any), write the last chunk and the real header.

    Returns the plaintext length. The body is then a complete sealed object; the caller should
    verify it (``revisit.lib.sealed.verify``) before relying on it and then delete the tail.
    """
    state = _OpenBody(body, dek=dek, object_id=object_id, offset=offset, tail=tail)
    state.feed(data)
    state.end(state.write_chunk(state.sealer.pending, last=True))
    state.write_header(state.offset)
    _sync(body)
    return state.offset


@dataclass(frozen=True)
class StagedRequest:
    """A request body sealed in a spool file under a key that exists only in this object."""

    spool: BinaryIO
    length: int
    _dek: bytes
    _object_id: UUID

    def plaintext(self) -> Iterator[bytes]:
        """The staged bytes, verified chunk by chunk, for :func:`upload_append`."""
        self.spool.flush()
        stored = self.spool.seek(0, io.SEEK_END)
        reader = SealedReader(
            file_read_at(self.spool), stored, dek=self._dek, object_id=self._object_id
        )
        return reader.iter_all()


def stage_request(data: Readable | Iterable[Buffer], spool: BinaryIO) -> StagedRequest:
    """Read all of ``data`` into ``spool`` (a real file: emptied first), sealed, in constant memory.

    The throw-away key is never stored, so a spool left behind by a crash is unreadable; remove
    it like any temporary file.
    """
    dek, object_id = new_dek(), uuid4()
    spool.seek(0)
    spool.truncate()
    writer = SealedWriter(spool, dek=dek, object_id=object_id)
    blocks = iter(lambda: data.read(_READ_BLOCK), b"") if isinstance(data, Readable) else data
    for block in blocks:
        writer.write(block)
    result = writer.close()
    return StagedRequest(spool, result.plaintext_length, dek, object_id)
