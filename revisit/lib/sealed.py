"""Sealed objects: chunked, authenticated encryption of stored bytes.

This module implements version 1 of the format in ``docs/storage-format.md``; read that page
first. In short: a 100-byte header (magic, version, kind, object id, chunk size, plaintext length,
salt, and an HMAC that authenticates the header and commits the data key), followed by AES-256-GCM
chunks of 64 KiB plaintext whose nonces are an 11-byte counter and a last-chunk flag.

This module holds the format itself and the reader. Writing is in ``revisit.lib.sealed_writer``,
append mode for resumable uploads in ``revisit.lib.sealed_upload``. The data key (DEK) is not
stored in the object; the caller unwraps it from the object's key record (``revisit.lib.keys``).
No Django: everything takes bytes, binary files and ``read_at(offset, length)`` callables.
"""

from __future__ import annotations

import hmac
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC: Final = b"RVSEAL"
VERSION: Final = 1
KIND_OBJECT: Final = 0
KIND_UPLOAD_TAIL: Final = 1
HEADER_LEN: Final = 100
TAG_LEN: Final = 16
DEK_LEN: Final = 32
SALT_LEN: Final = 32
CHUNK_SIZE: Final = 65536
MIN_CHUNK_SIZE: Final = 1 << 6
MAX_CHUNK_SIZE: Final = 1 << 20
PENDING_LENGTH: Final = (1 << 64) - 1

_FIELDS = struct.Struct(">6sBB16sIQ32s")  # the 68 header bytes the MAC covers
_PAYLOAD_INFO = b"revisit-sealed/v1 payload"
_HEADER_INFO = b"revisit-sealed/v1 header"
_READ_BATCH_CHUNKS = 16

ReadAt = Callable[[int, int], bytes]
"""``read_at(offset, length)`` returns up to ``length`` stored bytes from ``offset``."""
Prefetch = Callable[[int, int], None]
"""``prefetch(offset, length)``: a hint that those stored bytes will be read next."""


class SealedError(Exception):
    """A sealed object could not be written or read. Messages never contain content."""

    def __init__(self, message: str, *, object_id: UUID | None = None, chunk: int | None = None):
        where = "sealed object" if object_id is None else f"sealed object {object_id}"
        if chunk is not None:
            where += f", chunk {chunk}"
        super().__init__(f"{where}: {message}")
        self.object_id = object_id
        self.chunk = chunk


class SealedFormatError(SealedError):
    """Not a sealed object, or a header field is malformed."""


class UnsupportedVersionError(SealedFormatError):
    """The header's version is not one this reader knows."""


class IncompleteObjectError(SealedFormatError):
    """The header still carries the pending length: a write or upload never finished."""


class WrongObjectError(SealedError):
    """The header names another object than the one asked for."""


class WrongKeyError(SealedError):
    """The header MAC fails: the data key is wrong, or the header was altered."""


class SealedIntegrityError(SealedError):
    """A chunk failed to authenticate (altered, reordered, spliced or wrongly flagged)."""


class SealedTruncatedError(SealedIntegrityError):
    """Fewer stored bytes than the header implies."""


class SealedTrailingDataError(SealedIntegrityError):
    """More stored bytes than the header implies."""


class LengthMismatchError(SealedError):
    """A writer received more or fewer plaintext bytes than it was promised."""


class AppendConflictError(SealedError):
    """Append mode refused to encrypt different plaintext under a chunk nonce already used."""


def new_dek() -> bytes:
    """A fresh random 256-bit data key, for exactly one object."""
    return os.urandom(DEK_LEN)


def chunk_nonce(index: int, *, last: bool) -> bytes:
    """The 12-byte GCM nonce of chunk ``index``: an 11-byte counter and the last-chunk flag."""
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def hkdf(ikm: bytes, *, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA-256 with 32 bytes of output."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _hmac(key: bytes, message: bytes) -> bytes:
    mac = crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


@dataclass(frozen=True)
class ObjectKeys:
    """The two keys derived from a DEK and a header salt."""

    payload_key: bytes
    header_key: bytes

    @classmethod
    def derive(cls, dek: bytes, salt: bytes) -> ObjectKeys:
        if len(dek) != DEK_LEN:
            raise ValueError(f"a data key is {DEK_LEN} bytes, not {len(dek)}")
        return cls(
            payload_key=hkdf(dek, salt=salt, info=_PAYLOAD_INFO),
            header_key=hkdf(dek, salt=salt, info=_HEADER_INFO),
        )


def check_chunk_size(chunk_size: int) -> bool:
    """Whether the format allows this chunk size (a power of two from 64 B to 1 MiB)."""
    in_range = MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE
    return in_range and chunk_size & (chunk_size - 1) == 0


@dataclass(frozen=True)
class Layout:
    """Where each chunk of an object sits: pure arithmetic on chunk size and plaintext length."""

    chunk_size: int
    length: int

    @property
    def chunk_count(self) -> int:
        return max(1, -(-self.length // self.chunk_size))

    @property
    def stored_size(self) -> int:
        return HEADER_LEN + self.length + TAG_LEN * self.chunk_count

    def chunk_offset(self, index: int) -> int:
        return HEADER_LEN + index * (self.chunk_size + TAG_LEN)

    def chunk_plain_len(self, index: int) -> int:
        if index < self.chunk_count - 1:
            return self.chunk_size
        return self.length - (self.chunk_count - 1) * self.chunk_size

    def stored_range(self, start: int, stop: int) -> StoredRange:
        """The chunks and stored bytes holding plaintext ``[start, stop)``."""
        if not 0 <= start <= stop <= self.length:
            raise ValueError(f"range [{start}, {stop}) is outside [0, {self.length}]")
        if start == stop:
            offset = HEADER_LEN if start == 0 else self.chunk_offset(start // self.chunk_size)
            return StoredRange(first_chunk=0, last_chunk=-1, start=offset, stop=offset)
        first, last = start // self.chunk_size, (stop - 1) // self.chunk_size
        end = self.chunk_offset(last) + self.chunk_plain_len(last) + TAG_LEN
        return StoredRange(
            first_chunk=first, last_chunk=last, start=self.chunk_offset(first), stop=end
        )


@dataclass(frozen=True)
class StoredRange:
    """Chunks ``first_chunk..last_chunk`` (inclusive; none if last < first) at ``[start, stop)``."""

    first_chunk: int
    last_chunk: int
    start: int
    stop: int


@dataclass(frozen=True)
class Header:
    """The header fields. ``length`` is ``PENDING_LENGTH`` while a write is unfinished."""

    object_id: UUID
    chunk_size: int
    length: int
    salt: bytes
    kind: int = KIND_OBJECT
    version: int = VERSION

    def authenticated_bytes(self) -> bytes:
        oid = self.object_id.bytes
        return _FIELDS.pack(
            MAGIC, self.version, self.kind, oid, self.chunk_size, self.length, self.salt
        )

    def encode(self, header_key: bytes) -> bytes:
        fields = self.authenticated_bytes()
        return fields + _hmac(header_key, fields)


def parse_header(
    data: bytes, *, object_id: UUID, kind: int = KIND_OBJECT, allow_pending: bool = False
) -> tuple[Header, bytes]:
    """Steps 1-7 of the reading procedure (no key needed). Returns the header and its MAC."""
    if len(data) < HEADER_LEN:
        raise SealedFormatError("too short to hold a header", object_id=object_id)
    magic, version, got_kind, oid, chunk_size, length, salt = _FIELDS.unpack_from(data)
    if magic != MAGIC:
        raise SealedFormatError("not a sealed object (bad magic)", object_id=object_id)
    if version != VERSION:
        raise UnsupportedVersionError(f"unsupported version {version}", object_id=object_id)
    if got_kind != kind:
        raise SealedFormatError(f"kind {got_kind} where {kind} was expected", object_id=object_id)
    if not check_chunk_size(chunk_size):
        raise SealedFormatError(f"invalid chunk size {chunk_size}", object_id=object_id)
    if length == PENDING_LENGTH and not allow_pending:
        raise IncompleteObjectError("the write never finished", object_id=object_id)
    if oid != object_id.bytes:
        raise WrongObjectError(f"the header names object {UUID(bytes=oid)}", object_id=object_id)
    header = Header(object_id, chunk_size, length, salt, kind=got_kind)
    return header, bytes(data[_FIELDS.size : HEADER_LEN])


def open_header(
    data: bytes,
    *,
    dek: bytes,
    object_id: UUID,
    kind: int = KIND_OBJECT,
    allow_pending: bool = False,
) -> tuple[Header, ObjectKeys]:
    """Parse a header and verify its MAC under ``dek`` (steps 1-8)."""
    header, mac = parse_header(data, object_id=object_id, kind=kind, allow_pending=allow_pending)
    keys = ObjectKeys.derive(dek, header.salt)
    if not hmac.compare_digest(_hmac(keys.header_key, header.authenticated_bytes()), mac):
        raise WrongKeyError(
            "header does not verify: wrong data key or altered header", object_id=object_id
        )
    return header, keys


class SealedReader:
    """Read a sealed object through ``read_at``, decrypting only the chunks a range touches.

    Opening checks the header, its MAC and the stored size (steps 1-9 of the reading procedure),
    so a wrong key or a truncated object fails before any plaintext exists. Iterators yield one
    chunk's worth of plaintext at a time, each only after its tag has verified; stored bytes are
    fetched ``batch_chunks`` chunks per ``read_at`` call. If ``prefetch(offset, length)`` is
    given, the reader announces the next batch before decrypting the current one, so a store
    that can read ahead (``file_prefetch``) overlaps the disk with the decryption.
    """

    def __init__(
        self,
        read_at: ReadAt,
        stored_size: int,
        *,
        dek: bytes,
        object_id: UUID,
        kind: int = KIND_OBJECT,
        batch_chunks: int = _READ_BATCH_CHUNKS,
        prefetch: Prefetch | None = None,
    ) -> None:
        if stored_size < HEADER_LEN:
            raise SealedFormatError("too short to hold a header", object_id=object_id)
        self.header, keys = open_header(
            read_at(0, HEADER_LEN), dek=dek, object_id=object_id, kind=kind
        )
        self.layout = Layout(self.header.chunk_size, self.header.length)
        expected = self.layout.stored_size
        if stored_size != expected:
            error = SealedTruncatedError if stored_size < expected else SealedTrailingDataError
            raise error(
                f"{stored_size} stored bytes where the header implies {expected}",
                object_id=object_id,
            )
        self.object_id = object_id
        self._read_at, self._batch = read_at, max(1, batch_chunks)
        self._prefetch = prefetch
        self._aead, self._aad = AESGCM(keys.payload_key), object_id.bytes

    @property
    def length(self) -> int:
        """The plaintext length."""
        return self.header.length

    def stored_range(self, start: int, stop: int) -> StoredRange:
        """Which stored bytes hold plaintext ``[start, stop)`` (for ranged GETs)."""
        return self.layout.stored_range(start, stop)

    def _open_chunk(self, index: int, stored: memoryview) -> bytes:
        nonce = chunk_nonce(index, last=index == self.layout.chunk_count - 1)
        try:
            return self._aead.decrypt(nonce, stored, self._aad)
        except InvalidTag:
            raise SealedIntegrityError(
                "failed to authenticate (altered, reordered, spliced or wrongly flagged)",
                object_id=self.object_id,
                chunk=index,
            ) from None

    def _batch_span(self, index: int, last: int) -> tuple[int, int, int]:
        """The last chunk of the batch starting at ``index``, and its stored bytes."""
        layout = self.layout
        batch_last = min(last, index + self._batch - 1)
        start = layout.chunk_offset(index)
        stop = layout.chunk_offset(batch_last) + layout.chunk_plain_len(batch_last) + TAG_LEN
        return batch_last, start, stop

    def iter_chunks(self, first: int, last: int) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index, plaintext)`` for chunks ``first..last``, each once it verifies."""
        index = first
        while index <= last:
            batch_last, start, stop = self._batch_span(index, last)
            if self._prefetch and batch_last < last:
                _, ahead_start, ahead_stop = self._batch_span(batch_last + 1, last)
                self._prefetch(ahead_start, ahead_stop - ahead_start)
            data, pos = memoryview(self._read_at(start, stop - start)), 0
            for i in range(index, batch_last + 1):
                size = self.layout.chunk_plain_len(i) + TAG_LEN
                if len(data) - pos < size:
                    raise SealedTruncatedError(
                        "the store returned fewer bytes than the header implies",
                        object_id=self.object_id,
                        chunk=i,
                    )
                yield i, self._open_chunk(i, data[pos : pos + size])
                pos += size
            index = batch_last + 1

    def iter_range(self, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """Yield the plaintext of ``[start, stop)`` chunk by chunk (empty pieces are skipped)."""
        stop = self.length if stop is None else stop
        span = self.layout.stored_range(start, stop)
        size = self.layout.chunk_size
        for index, plain in self.iter_chunks(span.first_chunk, span.last_chunk):
            lo, hi = max(start - index * size, 0), min(stop - index * size, len(plain))
            yield plain if (lo, hi) == (0, len(plain)) else plain[lo:hi]

    def iter_range_batches(self, start: int = 0, stop: int | None = None) -> Iterator[bytearray]:
        """Yield the plaintext of ``[start, stop)`` a batch of chunks at a time.

        Each piece is one fresh buffer holding a whole batch of verified chunks (decrypted in
        place, no joining copy), trimmed to the range in place; nothing of a batch is yielded
        before every chunk in it has verified. For servers that hand whole batches to the network
        (a ``bytearray``, not a ``memoryview``: some servers copy views byte by byte).
        """
        stop = self.length if stop is None else stop
        if stop <= start:
            return
        layout = self.layout
        span = layout.stored_range(start, stop)
        index, last = span.first_chunk, span.last_chunk
        while index <= last:
            batch_last, stored_start, stored_stop = self._batch_span(index, last)
            if self._prefetch and batch_last < last:
                _, ahead_start, ahead_stop = self._batch_span(batch_last + 1, last)
                self._prefetch(ahead_start, ahead_stop - ahead_start)
            data = memoryview(self._read_at(stored_start, stored_stop - stored_start))
            plain_start = index * layout.chunk_size
            out = bytearray(min(self.length, (batch_last + 1) * layout.chunk_size) - plain_start)
            view, pos, at = memoryview(out), 0, 0
            for i in range(index, batch_last + 1):
                size = layout.chunk_plain_len(i)
                if len(data) - pos < size + TAG_LEN:
                    raise SealedTruncatedError(
                        "the store returned fewer bytes than the header implies",
                        object_id=self.object_id,
                        chunk=i,
                    )
                nonce = chunk_nonce(i, last=i == layout.chunk_count - 1)
                try:
                    self._aead.decrypt_into(
                        nonce, data[pos : pos + size + TAG_LEN], self._aad, view[at : at + size]
                    )
                except InvalidTag:
                    raise SealedIntegrityError(
                        "failed to authenticate (altered, reordered, spliced or wrongly flagged)",
                        object_id=self.object_id,
                        chunk=i,
                    ) from None
                pos, at = pos + size + TAG_LEN, at + size
            view.release()
            del out[min(stop - plain_start, at) :]  # trimmed in place: no copy
            del out[: max(start - plain_start, 0)]
            yield out
            index = batch_last + 1

    def read_range(self, start: int, stop: int) -> bytes:
        """The plaintext of ``[start, stop)`` as bytes (verified before it is returned)."""
        return b"".join(self.iter_range(start, stop))

    def iter_all(self) -> Iterator[bytes]:
        """Yield the whole plaintext; touches every chunk, even an empty object's one chunk."""
        for _, plain in self.iter_chunks(0, self.layout.chunk_count - 1):
            if plain:
                yield plain

    def read_all(self) -> bytes:
        return b"".join(self.iter_all())

    def verify(self) -> None:
        """Check every chunk's tag; raise the first failure."""
        for _ in self.iter_all():
            pass


def bytes_read_at(data: bytes) -> ReadAt:
    """A ``read_at`` over bytes held in memory."""
    view = memoryview(data)
    return lambda offset, length: bytes(view[offset : offset + length])


def file_read_at(file: BinaryIO) -> ReadAt:
    """A ``read_at`` over an open file, with ``pread`` (no shared file position)."""
    fd = file.fileno()

    def read_at(offset: int, length: int) -> bytes:
        parts: list[bytes] = []
        while length > 0 and (part := os.pread(fd, length, offset)):
            parts.append(part)
            offset, length = offset + len(part), length - len(part)
        return b"".join(parts)

    return read_at


def file_prefetch(file: BinaryIO) -> Prefetch:
    """A ``prefetch`` that asks the kernel to start reading a region of ``file`` (no waiting)."""
    fd = file.fileno()
    return lambda offset, length: os.posix_fadvise(fd, offset, length, os.POSIX_FADV_WILLNEED)


def open_bytes(
    data: bytes, *, dek: bytes, object_id: UUID, kind: int = KIND_OBJECT
) -> SealedReader:
    """A reader over a whole sealed object held in memory."""
    return SealedReader(bytes_read_at(data), len(data), dek=dek, object_id=object_id, kind=kind)


def verify(read_at: ReadAt, stored_size: int, *, dek: bytes, object_id: UUID) -> None:
    """Check the header and every chunk of an object; raise the first failure."""
    SealedReader(read_at, stored_size, dek=dek, object_id=object_id).verify()
