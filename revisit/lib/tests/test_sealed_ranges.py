"""Range reads: any plaintext range equals the slice, and the chunk arithmetic says where it is."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from revisit.lib.sealed import HEADER_LEN, TAG_LEN, Layout, open_bytes
from revisit.lib.sealed_writer import seal_bytes

DEK = bytes(range(32, 64))
OID = uuid.UUID("22222222-3333-4444-8555-666666666666")
C = 64


def near_boundaries(limit: int) -> st.SearchStrategy[int]:
    """Integers in [0, limit], drawn mostly at and around multiples of the chunk size."""
    around = st.builds(
        lambda k, d: min(max(k * C + d, 0), limit),
        st.integers(0, limit // C + 1),
        st.sampled_from([-2, -1, 0, 1, 2]),
    )
    return st.one_of(around, st.integers(0, limit))


@st.composite
def object_and_range(draw: st.DrawFn) -> tuple[bytes, int, int]:
    size = draw(near_boundaries(8 * C))
    a, b = draw(near_boundaries(size)), draw(near_boundaries(size))
    plain = bytes((i * 7 + size) % 256 for i in range(size))
    return plain, min(a, b), max(a, b)


@settings(max_examples=300, deadline=None)
@given(object_and_range())
def test_it_reads_any_range_as_the_slice_of_the_plaintext(case: tuple[bytes, int, int]) -> None:
    plain, start, stop = case
    reader = open_bytes(
        seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=C), dek=DEK, object_id=OID
    )
    assert reader.read_range(start, stop) == plain[start:stop]
    pieces = list(reader.iter_range(start, stop))
    assert b"".join(pieces) == plain[start:stop]
    assert all(len(piece) <= C for piece in pieces)


@settings(max_examples=300, deadline=None)
@given(object_and_range())
def test_it_maps_a_range_to_exactly_the_chunks_holding_it(case: tuple[bytes, int, int]) -> None:
    plain, start, stop = case
    layout = Layout(C, len(plain))
    span = layout.stored_range(start, stop)
    touched = range(span.first_chunk, span.last_chunk + 1)
    holding = {i // C for i in range(start, stop)}
    assert set(touched) == holding
    stored = seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=C)
    assert 0 <= span.start <= span.stop <= len(stored)
    if touched:
        assert span.start == HEADER_LEN + span.first_chunk * (C + TAG_LEN)
        last_len = min(C, len(plain) - span.last_chunk * C)
        assert span.stop == HEADER_LEN + span.last_chunk * (C + TAG_LEN) + last_len + TAG_LEN


def test_it_puts_every_chunk_where_the_layout_says() -> None:
    plain = bytes(range(256)) * 2  # 512 bytes: 8 full chunks
    stored = seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=C)
    layout = Layout(C, len(plain))
    assert layout.stored_size == len(stored)
    ends = [layout.chunk_offset(i) + layout.chunk_plain_len(i) + TAG_LEN for i in range(8)]
    assert ends[-1] == len(stored)
    assert [layout.chunk_offset(i) for i in range(1, 8)] == ends[:-1]
