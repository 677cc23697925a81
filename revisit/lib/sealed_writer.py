"""Writing sealed objects (format: ``docs/storage-format.md``; reading: ``revisit.lib.sealed``)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO, Final
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from revisit.lib.sealed import (
    CHUNK_SIZE,
    KIND_OBJECT,
    PENDING_LENGTH,
    SALT_LEN,
    Header,
    Layout,
    LengthMismatchError,
    ObjectKeys,
    check_chunk_size,
    chunk_nonce,
)

_SOURCE_BLOCK: Final = 1 << 20

Buffer = bytes | bytearray | memoryview


@dataclass(frozen=True)
class SealResult:
    plaintext_length: int
    stored_size: int


class ChunkSealer:
    """Cuts a plaintext stream into chunks, holding each full chunk back until more arrives.

    Only when a byte past a full chunk is seen (or the input ends) is it known whether the chunk
    is the last one. ``emit`` receives each chunk's plaintext and whether it is the last.
    The pending plaintext never exceeds one chunk.
    """

    def __init__(self, chunk_size: int, pending: Buffer = b"") -> None:
        self.chunk_size = chunk_size
        self.pending = bytearray(pending)

    def feed(self, data: Buffer) -> list[memoryview | bytes]:
        """Return the chunks that ``data`` completes (none of them the last)."""
        view, size, pos = memoryview(data).cast("B"), self.chunk_size, 0
        ready: list[memoryview | bytes] = []
        while pos < len(view):
            if len(self.pending) == size:
                ready.append(bytes(self.pending))
                self.pending.clear()
            if not self.pending and len(view) - pos > size:
                ready.append(view[pos : pos + size])
                pos += size
                continue
            take = min(size - len(self.pending), len(view) - pos)
            self.pending += view[pos : pos + take]
            pos += take
        return ready


class SealedWriter:
    """Seal plaintext written to it into ``dest``, in constant memory.

    With ``length`` given, the header is written first and ``dest`` need not be seekable. Without
    it, a pending header is written first and rewritten by :meth:`close` (``dest`` must be
    seekable and is written from its current position). Leaving a ``with`` block by an exception
    does not close, so the object stays pending and readers refuse it.
    ``salt`` exists for test vectors only: real writers let it be drawn fresh.
    """

    def __init__(
        self,
        dest: BinaryIO,
        *,
        dek: bytes,
        object_id: UUID,
        length: int | None = None,
        chunk_size: int = CHUNK_SIZE,
        kind: int = KIND_OBJECT,
        salt: bytes | None = None,
    ) -> None:
        if not check_chunk_size(chunk_size):
            raise ValueError(f"invalid chunk size {chunk_size}")
        salt = os.urandom(SALT_LEN) if salt is None else salt
        self._dest, self._length, self._object_id = dest, length, object_id
        self._keys = ObjectKeys.derive(dek, salt)
        self._aead, self._aad = AESGCM(self._keys.payload_key), object_id.bytes
        self._header = Header(object_id, chunk_size, PENDING_LENGTH, salt, kind)
        self._chunks = ChunkSealer(chunk_size)
        self._index = self._received = 0
        self._closed = False
        self._start = dest.tell() if length is None else 0
        first = self._header if length is None else self._with_length(length)
        dest.write(first.encode(self._keys.header_key))

    def _with_length(self, length: int) -> Header:
        h = self._header
        return Header(h.object_id, h.chunk_size, length, h.salt, h.kind)

    def __enter__(self) -> SealedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()

    def _emit(self, plaintext: Buffer, *, last: bool) -> None:
        nonce = chunk_nonce(self._index, last=last)
        self._dest.write(self._aead.encrypt(nonce, plaintext, self._aad))
        self._index += 1

    def write(self, data: Buffer) -> int:
        if self._closed:
            raise ValueError("this writer is closed")
        size = len(memoryview(data).cast("B"))
        self._received += size
        if self._length is not None and self._received > self._length:
            raise LengthMismatchError(
                f"more than the promised {self._length} bytes", object_id=self._object_id
            )
        for chunk in self._chunks.feed(data):
            self._emit(chunk, last=False)
        return size

    def close(self) -> SealResult:
        """Write the last chunk (and the real header, if the length was not known up front)."""
        if self._closed:
            raise ValueError("this writer is already closed")
        if self._length is not None and self._received != self._length:
            raise LengthMismatchError(
                f"{self._received} bytes where {self._length} were promised",
                object_id=self._object_id,
            )
        self._emit(self._chunks.pending, last=True)
        self._chunks.pending.clear()
        self._closed = True
        if self._length is None:
            end = self._dest.tell()
            self._dest.seek(self._start)
            self._dest.write(self._with_length(self._received).encode(self._keys.header_key))
            self._dest.seek(end)
        self._dest.flush()
        stored = Layout(self._header.chunk_size, self._received).stored_size
        return SealResult(plaintext_length=self._received, stored_size=stored)


def seal(
    source: BinaryIO,
    dest: BinaryIO,
    *,
    dek: bytes,
    object_id: UUID,
    length: int | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> SealResult:
    """Seal everything readable from ``source`` into ``dest`` (see :class:`SealedWriter`)."""
    writer = SealedWriter(dest, dek=dek, object_id=object_id, length=length, chunk_size=chunk_size)
    while block := source.read(_SOURCE_BLOCK):
        writer.write(block)
    return writer.close()


def seal_bytes(
    plaintext: Buffer,
    *,
    dek: bytes,
    object_id: UUID,
    kind: int = KIND_OBJECT,
    chunk_size: int = CHUNK_SIZE,
    salt: bytes | None = None,
) -> bytes:
    """Seal a small plaintext held in memory and return the stored bytes."""
    out = io.BytesIO()
    length = len(memoryview(plaintext).cast("B"))
    writer = SealedWriter(
        out,
        dek=dek,
        object_id=object_id,
        length=length,
        chunk_size=chunk_size,
        kind=kind,
        salt=salt,
    )
    writer.write(plaintext)
    writer.close()
    return out.getvalue()
