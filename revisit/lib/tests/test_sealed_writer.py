"""Sealing: round trips, the production chunk size, promised lengths and unfinished writes."""

from __future__ import annotations

import io
import os
import uuid

import pytest

from revisit.lib import sealed
from revisit.lib.sealed import HEADER_LEN, TAG_LEN, open_bytes
from revisit.lib.sealed_writer import SealedWriter, seal, seal_bytes

DEK = bytes(range(32))
OID = uuid.UUID("11111111-2222-4333-8444-555555555555")
SIZES = [0, 1, 63, 64, 65, 127, 128, 129, 64 * 5, 64 * 5 + 1]


@pytest.mark.parametrize("known_length", [True, False], ids=["length-known", "length-at-close"])
@pytest.mark.parametrize("size", SIZES)
def test_it_round_trips_a_stream(size: int, known_length: bool) -> None:
    plain = os.urandom(size)
    out = io.BytesIO()
    result = seal(
        io.BytesIO(plain),
        out,
        dek=DEK,
        object_id=OID,
        length=size if known_length else None,
        chunk_size=64,
    )
    stored = out.getvalue()
    chunks = max(1, -(-size // 64))
    assert result.stored_size == len(stored) == HEADER_LEN + size + TAG_LEN * chunks
    assert result.plaintext_length == size
    assert open_bytes(stored, dek=DEK, object_id=OID).read_all() == plain


def test_it_gives_the_same_result_however_the_writes_are_cut() -> None:
    plain = os.urandom(1000)
    salt = b"s" * 32
    whole = seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=64, salt=salt)
    out = io.BytesIO()
    writer = SealedWriter(out, dek=DEK, object_id=OID, length=1000, chunk_size=64, salt=salt)
    for cut in (1, 63, 64, 65, 200, 7):
        plain_part, plain = plain[:cut], plain[cut:]
        writer.write(plain_part)
    writer.write(plain)
    writer.close()
    assert out.getvalue() == whole


def test_it_uses_64_kib_chunks_by_default() -> None:
    plain = os.urandom(3 * 65536 + 5)
    stored = seal_bytes(plain, dek=DEK, object_id=OID)
    reader = open_bytes(stored, dek=DEK, object_id=OID)
    assert reader.header.chunk_size == 65536
    assert reader.layout.chunk_count == 4
    assert reader.read_all() == plain


def test_it_draws_a_fresh_salt_for_every_object() -> None:
    plain = b"the same plaintext under the same key"
    first = seal_bytes(plain, dek=DEK, object_id=OID)
    second = seal_bytes(plain, dek=DEK, object_id=OID)
    assert first[36:68] != second[36:68]  # the salts
    assert first[HEADER_LEN:] != second[HEADER_LEN:]  # so the payload keys differ too


def test_it_stores_no_plaintext() -> None:
    marker = b"MARKER-carol-session-7f3a" * 100
    stored = seal_bytes(marker, dek=DEK, object_id=OID, chunk_size=64)
    assert b"MARKER" not in stored
    assert marker[:16].hex().encode() not in stored


def test_it_refuses_more_bytes_than_promised() -> None:
    writer = SealedWriter(io.BytesIO(), dek=DEK, object_id=OID, length=10)
    with pytest.raises(sealed.LengthMismatchError, match=str(OID)):
        writer.write(b"x" * 11)


def test_it_refuses_fewer_bytes_than_promised() -> None:
    writer = SealedWriter(io.BytesIO(), dek=DEK, object_id=OID, length=10)
    writer.write(b"x" * 9)
    with pytest.raises(sealed.LengthMismatchError):
        writer.close()


def test_it_leaves_an_interrupted_write_incomplete() -> None:
    out = io.BytesIO()

    def interrupted_write() -> None:
        with SealedWriter(out, dek=DEK, object_id=OID, chunk_size=64) as writer:
            writer.write(os.urandom(500))
            raise RuntimeError("the source failed")

    with pytest.raises(RuntimeError):
        interrupted_write()
    assert len(out.getvalue()) > 500
    with pytest.raises(sealed.IncompleteObjectError):
        open_bytes(out.getvalue(), dek=DEK, object_id=OID)


def test_it_writes_the_header_in_place_when_the_length_comes_at_close() -> None:
    out = io.BytesIO(b"prefix:")
    out.seek(0, io.SEEK_END)
    with SealedWriter(out, dek=DEK, object_id=OID, chunk_size=64) as w:
        w.write(b"y" * 130)
    stored = out.getvalue()
    assert stored.startswith(b"prefix:")
    assert open_bytes(stored[7:], dek=DEK, object_id=OID).read_all() == b"y" * 130


def test_it_refuses_a_chunk_size_the_format_does_not_allow() -> None:
    for size in (32, 100, 2 << 20):
        with pytest.raises(ValueError, match="chunk size"):
            SealedWriter(io.BytesIO(), dek=DEK, object_id=OID, chunk_size=size)
