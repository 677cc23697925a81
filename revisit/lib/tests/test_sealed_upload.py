"""Append mode: one sealed object built over many requests, with no plaintext kept between them."""

from __future__ import annotations

import io
import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revisit.lib import sealed
from revisit.lib.sealed import KIND_UPLOAD_TAIL, open_bytes
from revisit.lib.sealed_upload import (
    committed_chunks,
    tail_dek,
    upload_append,
    upload_finish,
    upload_start,
)

DEK = bytes(range(128, 160))
OID = uuid.UUID("55555555-6666-4777-8888-999999999999")
C = 64


def upload(plain: bytes, cuts: list[int]) -> tuple[io.BytesIO, list[bytes]]:
    """Send ``plain`` in requests ending at ``cuts``; return the finished body and every tail."""
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    offset, tail, tails, start = 0, None, [], 0
    for stop in [*sorted(set(cuts)), len(plain)]:
        result = upload_append(
            body, [plain[start:stop]], dek=DEK, object_id=OID, offset=offset, tail=tail
        )
        assert result.offset == stop
        offset, tail, start = result.offset, result.tail, stop
        tails.append(tail)
    assert upload_finish(body, dek=DEK, object_id=OID, offset=offset, tail=tail) == len(plain)
    return body, tails


@st.composite
def plaintext_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    size = draw(st.integers(0, 6 * C + 3))
    near = st.builds(
        lambda k, d: min(max(k * C + d, 0), size), st.integers(0, 7), st.integers(-1, 1)
    )
    cuts = draw(st.lists(st.one_of(near, st.integers(0, size)), max_size=8))
    return bytes((i * 13 + 1) % 256 for i in range(size)), cuts


@settings(max_examples=150, deadline=None)
@given(plaintext_and_cuts())
def test_it_builds_the_same_plaintext_however_the_requests_are_cut(
    case: tuple[bytes, list[int]],
) -> None:
    plain, cuts = case
    body, _ = upload(plain, cuts)
    reader = open_bytes(body.getvalue(), dek=DEK, object_id=OID)
    assert reader.header.chunk_size == C
    assert reader.read_all() == plain


def test_it_finishes_an_empty_upload() -> None:
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID)
    assert upload_finish(body, dek=DEK, object_id=OID, offset=0, tail=None) == 0
    reader = open_bytes(body.getvalue(), dek=DEK, object_id=OID)
    assert reader.header.chunk_size == 65536
    assert reader.read_all() == b""


def test_it_accepts_the_last_bytes_with_the_finish() -> None:
    plain = os.urandom(5 * C + 9)
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    first = upload_append(body, [plain[:100]], dek=DEK, object_id=OID, offset=0, tail=None)
    upload_finish(body, dek=DEK, object_id=OID, offset=100, tail=first.tail, data=[plain[100:]])
    assert open_bytes(body.getvalue(), dek=DEK, object_id=OID).read_all() == plain


def test_it_reads_a_file_like_request_body() -> None:
    plain = os.urandom(3 * C)
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    result = upload_append(body, io.BytesIO(plain), dek=DEK, object_id=OID, offset=0, tail=None)
    upload_finish(body, dek=DEK, object_id=OID, offset=result.offset, tail=result.tail)
    assert open_bytes(body.getvalue(), dek=DEK, object_id=OID).read_all() == plain


def test_it_keeps_no_plaintext_in_the_body_or_the_tails() -> None:
    marker = b"MARKER-dave-upload-0042!"
    plain = marker * 40
    cuts = [5, 30, 64, 65, 300, 301, 700]
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    offset, tail, start, seen = 0, None, 0, []
    for stop in [*cuts, len(plain)]:
        result = upload_append(
            body, [plain[start:stop]], dek=DEK, object_id=OID, offset=offset, tail=tail
        )
        offset, tail, start = result.offset, result.tail, stop
        seen += [body.getvalue(), tail]
    for stored in seen:
        assert b"MARKER" not in stored
        assert marker.hex().encode()[:16] not in stored


def test_it_seals_each_tail_as_an_upload_tail_under_its_own_key() -> None:
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    result = upload_append(body, [b"t" * 150], dek=DEK, object_id=OID, offset=0, tail=None)
    index = committed_chunks(150, C)
    assert index == 2
    reader = open_bytes(result.tail, dek=tail_dek(DEK, index), object_id=OID, kind=KIND_UPLOAD_TAIL)
    assert reader.read_all() == b"t" * 22
    with pytest.raises(sealed.SealedFormatError):
        open_bytes(result.tail, dek=DEK, object_id=OID)  # not an object
    with pytest.raises(sealed.WrongKeyError):
        open_bytes(result.tail, dek=DEK, object_id=OID, kind=KIND_UPLOAD_TAIL)


def test_it_holds_a_full_chunk_back_until_more_bytes_arrive() -> None:
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    result = upload_append(body, [b"x" * (2 * C)], dek=DEK, object_id=OID, offset=0, tail=None)
    assert len(body.getvalue()) == sealed.HEADER_LEN + (C + sealed.TAG_LEN)  # one chunk, not two
    reader = open_bytes(result.tail, dek=tail_dek(DEK, 1), object_id=OID, kind=KIND_UPLOAD_TAIL)
    assert reader.length == C


def test_it_leaves_an_unfinished_upload_unreadable() -> None:
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    upload_append(body, [os.urandom(500)], dek=DEK, object_id=OID, offset=0, tail=None)
    with pytest.raises(sealed.IncompleteObjectError):
        open_bytes(body.getvalue(), dek=DEK, object_id=OID)


def test_it_refuses_a_body_under_another_key() -> None:
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    with pytest.raises(sealed.WrongKeyError):
        upload_append(body, [b"data"], dek=bytes(32), object_id=OID, offset=0, tail=None)
