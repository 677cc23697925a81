"""Batch reads for servers: whole verified batches, decrypted in place, equal to the slice."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revisit.lib.sealed import (
    HEADER_LEN,
    TAG_LEN,
    SealedIntegrityError,
    SealedReader,
    bytes_read_at,
)
from revisit.lib.sealed_writer import seal_bytes

DEK = bytes(range(64, 96))
OID = uuid.UUID("33333333-4444-4555-8666-777777777777")
C = 64


def reader_over(stored: bytes, *, batch: int) -> SealedReader:
    return SealedReader(
        bytes_read_at(stored), len(stored), dek=DEK, object_id=OID, batch_chunks=batch
    )


@st.composite
def object_range_batch(draw: st.DrawFn) -> tuple[bytes, int, int, int]:
    size = draw(st.integers(0, 12 * C))
    a, b = draw(st.integers(0, size)), draw(st.integers(0, size))
    plain = bytes((i * 11 + size) % 256 for i in range(size))
    return plain, min(a, b), max(a, b), draw(st.integers(1, 5))


@settings(max_examples=300, deadline=None)
@given(object_range_batch())
def test_it_yields_the_slice_of_the_plaintext_in_batches(
    case: tuple[bytes, int, int, int],
) -> None:
    plain, start, stop, batch = case
    reader = reader_over(seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=C), batch=batch)
    pieces = [bytes(piece) for piece in reader.iter_range_batches(start, stop)]
    assert b"".join(pieces) == plain[start:stop]
    assert all(0 < len(piece) <= batch * C for piece in pieces)
    first, last = start // C, (stop - 1) // C
    assert len(pieces) == (0 if stop == start else (last - first) // batch + 1)


def test_it_yields_nothing_of_a_batch_holding_an_altered_chunk() -> None:
    plain = bytes(range(256)) * 3  # 768 bytes: 12 chunks
    stored = bytearray(seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=C))
    altered_chunk = 6
    stored[HEADER_LEN + altered_chunk * (C + TAG_LEN) + 3] ^= 0x40
    reader = reader_over(bytes(stored), batch=4)  # batches: chunks 0-3, 4-7, 8-11
    got = reader.iter_range_batches(0, len(plain))
    assert bytes(next(got)) == plain[: 4 * C]
    with pytest.raises(SealedIntegrityError) as caught:
        next(got)
    assert caught.value.chunk == altered_chunk


def test_it_reports_a_short_read_as_truncation() -> None:
    plain = bytes(range(200))
    stored = seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=C)
    full = bytes_read_at(stored)

    def short(offset: int, length: int) -> bytes:
        return full(offset, length)[:-1] if offset >= HEADER_LEN else full(offset, length)

    reader = SealedReader(short, len(stored), dek=DEK, object_id=OID, batch_chunks=8)
    with pytest.raises(SealedIntegrityError, match="fewer bytes"):
        list(reader.iter_range_batches(0, len(plain)))
