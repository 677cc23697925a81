"""A range read fetches and decrypts only the chunks it touches and releases no unverified byte."""

from __future__ import annotations

import os
import uuid

import pytest

from revisit.lib import sealed
from revisit.lib.sealed import HEADER_LEN, TAG_LEN, SealedReader, bytes_read_at
from revisit.lib.sealed_writer import seal_bytes

DEK = bytes(range(64, 96))
OID = uuid.UUID("33333333-4444-4555-8666-777777777777")
C = 65536
PLAIN = os.urandom(40 * C + 123)  # 41 chunks of the production size
STORED = seal_bytes(PLAIN, dek=DEK, object_id=OID)


class CountingStore:
    def __init__(self, data: bytes) -> None:
        self.read_at = bytes_read_at(data)
        self.calls: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.calls.append((offset, length))
        return self.read_at(offset, length)

    @property
    def body_calls(self) -> list[tuple[int, int]]:
        return [call for call in self.calls if call != (0, HEADER_LEN)]


def open_counting(batch_chunks: int = 16) -> tuple[SealedReader, CountingStore]:
    store = CountingStore(STORED)
    reader = SealedReader(store, len(STORED), dek=DEK, object_id=OID, batch_chunks=batch_chunks)
    return reader, store


def test_it_reads_only_the_header_when_opening() -> None:
    _, store = open_counting()
    assert store.calls == [(0, HEADER_LEN)]


def test_it_fetches_one_chunk_for_a_range_inside_it() -> None:
    reader, store = open_counting()
    assert reader.read_range(10 * C + 5, 10 * C + 900) == PLAIN[10 * C + 5 : 10 * C + 900]
    assert store.body_calls == [(HEADER_LEN + 10 * (C + TAG_LEN), C + TAG_LEN)]


def test_it_fetches_exactly_the_stored_range_it_reports() -> None:
    reader, store = open_counting()
    start, stop = 3 * C - 1, 7 * C + 1  # touches chunks 2..7
    span = reader.stored_range(start, stop)
    assert (span.first_chunk, span.last_chunk) == (2, 7)
    assert reader.read_range(start, stop) == PLAIN[start:stop]
    assert store.body_calls == [(span.start, span.stop - span.start)]


def test_it_fetches_the_short_last_chunk_without_reading_past_the_end() -> None:
    reader, store = open_counting()
    assert reader.read_range(len(PLAIN) - 10, len(PLAIN)) == PLAIN[-10:]
    assert store.body_calls == [(HEADER_LEN + 40 * (C + TAG_LEN), 123 + TAG_LEN)]


def test_it_fetches_a_long_range_in_batches_and_nothing_twice() -> None:
    reader, store = open_counting(batch_chunks=4)
    list(reader.iter_range(C, 11 * C))  # chunks 1..10
    assert [length // (C + TAG_LEN) for _, length in store.body_calls] == [4, 4, 2]
    offsets = [offset for offset, _ in store.body_calls]
    assert offsets == [HEADER_LEN + i * (C + TAG_LEN) for i in (1, 5, 9)]


def test_it_fetches_nothing_for_an_empty_range() -> None:
    reader, store = open_counting()
    assert reader.read_range(5 * C, 5 * C) == b""
    assert store.body_calls == []


def test_it_releases_nothing_from_a_chunk_that_fails() -> None:
    tampered = bytearray(STORED)
    tampered[HEADER_LEN + 2 * (C + TAG_LEN) + 100] ^= 1  # inside chunk 2
    reader = SealedReader(bytes_read_at(bytes(tampered)), len(tampered), dek=DEK, object_id=OID)
    released: list[bytes] = []
    with pytest.raises(sealed.SealedIntegrityError) as failure:
        released.extend(reader.iter_range(C // 2, 4 * C))
    assert failure.value.chunk == 2
    assert b"".join(released) == PLAIN[C // 2 : 2 * C]  # chunks 0 (part) and 1, nothing of 2


def test_it_announces_the_next_batch_before_decrypting_the_current_one() -> None:
    store = CountingStore(STORED)
    hints: list[tuple[int, int]] = []
    reader = SealedReader(
        store,
        len(STORED),
        dek=DEK,
        object_id=OID,
        batch_chunks=4,
        prefetch=lambda o, n: hints.append((o, n)),
    )
    pieces = reader.iter_range(C, 11 * C)  # chunks 1..10: batches 1-4, 5-8, 9-10
    next(pieces)
    assert hints == [(HEADER_LEN + 5 * (C + TAG_LEN), 4 * (C + TAG_LEN))]
    list(pieces)
    assert hints == [
        (HEADER_LEN + 5 * (C + TAG_LEN), 4 * (C + TAG_LEN)),
        (HEADER_LEN + 9 * (C + TAG_LEN), 2 * (C + TAG_LEN)),
    ]
    assert store.body_calls[1:] == hints  # each hint is exactly the next fetch
