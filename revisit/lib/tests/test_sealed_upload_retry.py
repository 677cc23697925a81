"""Append mode after crashes: retries resume, and no chunk nonce ever covers two plaintexts."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest

from revisit.lib import sealed
from revisit.lib.sealed import HEADER_LEN, TAG_LEN, open_bytes
from revisit.lib.sealed_upload import (
    AppendResult,
    stage_request,
    upload_append,
    upload_finish,
    upload_start,
)

DEK = bytes(range(160, 192))
OID = uuid.UUID("66666666-7777-4888-8999-aaaaaaaaaaaa")
C = 64
PLAIN = os.urandom(10 * C + 30)


def started(first: int) -> tuple[io.BytesIO, AppendResult]:
    """A body whose first request (``first`` bytes) was committed."""
    body = io.BytesIO()
    upload_start(body, dek=DEK, object_id=OID, chunk_size=C)
    return body, upload_append(body, [PLAIN[:first]], dek=DEK, object_id=OID, offset=0, tail=None)


def append(
    body: io.BytesIO, at: AppendResult, stop: int, data: bytes | None = None
) -> AppendResult:
    chunk = PLAIN[at.offset : stop] if data is None else data
    return upload_append(body, [chunk], dek=DEK, object_id=OID, offset=at.offset, tail=at.tail)


def finish(body: io.BytesIO, at: AppendResult) -> bytes:
    upload_finish(body, dek=DEK, object_id=OID, offset=at.offset, tail=at.tail)
    return open_bytes(body.getvalue(), dek=DEK, object_id=OID).read_all()


def test_it_resumes_when_a_request_is_sent_again_after_a_crash() -> None:
    body, committed = started(100)
    append(body, committed, 600)  # crashed before its offset was committed
    retried = append(body, committed, 600)
    assert retried.offset == 600
    assert finish(body, append(body, retried, len(PLAIN))) == PLAIN


def test_it_resumes_over_a_torn_chunk_when_the_same_bytes_come_again() -> None:
    body, committed = started(100)
    append(body, committed, 600)
    body.truncate(HEADER_LEN + 3 * (C + TAG_LEN) + 10)  # the crash tore chunk 3
    retried = append(body, committed, 600)
    assert finish(body, append(body, retried, len(PLAIN))) == PLAIN


def test_it_refuses_different_bytes_for_an_offset_it_already_encrypted() -> None:
    body, committed = started(100)
    append(body, committed, 600)  # crashed before its commit: chunks 1..8 are orphans
    before = body.getvalue()
    with pytest.raises(sealed.AppendConflictError) as conflict:
        append(body, committed, 600, data=os.urandom(500))
    assert conflict.value.chunk == 1
    assert body.getvalue() == before  # nothing overwritten: one ciphertext per nonce


def test_it_cuts_off_orphans_past_what_the_retry_commits() -> None:
    body, committed = started(100)
    append(body, committed, 600)  # crashed: chunks 1..8 written
    retried = append(body, committed, 200)  # the retry sends less
    assert len(body.getvalue()) == HEADER_LEN + 3 * (C + TAG_LEN)
    assert finish(body, append(body, retried, len(PLAIN))) == PLAIN


def test_it_goes_on_after_a_finish_that_crashed_before_its_commit() -> None:
    body, committed = started(300)
    upload_finish(body, dek=DEK, object_id=OID, offset=300, tail=committed.tail)  # not committed
    more = append(body, committed, 700)  # chunk 4 now non-last: a different nonce, allowed
    with pytest.raises(sealed.IncompleteObjectError):
        open_bytes(body.getvalue(), dek=DEK, object_id=OID)
    assert finish(body, append(body, more, len(PLAIN))) == PLAIN


def test_it_refuses_a_tail_from_an_earlier_point_of_the_upload() -> None:
    body, first = started(100)
    second = append(body, first, 300)
    with pytest.raises(sealed.WrongKeyError):  # the tail of chunk 1 where chunk 4's is due
        upload_append(body, [b"x"], dek=DEK, object_id=OID, offset=second.offset, tail=first.tail)


def test_it_refuses_a_tail_that_does_not_match_the_offset() -> None:
    body, first = started(100)
    with pytest.raises(sealed.SealedIntegrityError, match="offset implies"):
        upload_append(body, [b"x"], dek=DEK, object_id=OID, offset=101, tail=first.tail)


def test_it_refuses_to_go_on_without_the_tail() -> None:
    body, first = started(100)
    with pytest.raises(sealed.SealedTruncatedError, match="tail is missing"):
        upload_append(body, [b"x"], dek=DEK, object_id=OID, offset=first.offset, tail=None)


def test_it_refuses_a_body_shorter_than_its_committed_chunks() -> None:
    body, first = started(500)
    body.truncate(HEADER_LEN + 2 * (C + TAG_LEN))
    with pytest.raises(sealed.SealedTruncatedError, match="committed chunks"):
        append(body, first, 600)


def test_it_refuses_the_corrected_bytes_after_rejected_ones_were_appended() -> None:
    body, committed = started(100)
    corrupted = bytearray(PLAIN[100:600])
    corrupted[300] ^= 0xFF
    append(body, committed, 600, data=bytes(corrupted))  # then its checksum failed: no commit
    with pytest.raises(sealed.AppendConflictError):
        append(body, committed, 600)  # why a request that may be rejected must be staged


def test_it_takes_a_rejected_request_again_when_it_was_staged(tmp_path: Path) -> None:
    body, committed = started(100)
    marker = b"MARKER-staged-request-bytes"
    with (tmp_path / "spool").open("w+b") as spool:
        corrupted = marker + PLAIN[100 + len(marker) : 600]
        staged = stage_request([corrupted[:250], corrupted[250:]], spool)
        assert staged.length == 500
        assert b"MARKER" not in (tmp_path / "spool").read_bytes()
        # the checksum fails here: nothing is appended and the spool is simply reused
        staged = stage_request(io.BytesIO(PLAIN[100:600]), spool)
        result = upload_append(
            body,
            staged.plaintext(),
            dek=DEK,
            object_id=OID,
            offset=committed.offset,
            tail=committed.tail,
        )
    assert result.offset == 600
    assert finish(body, append(body, result, len(PLAIN))) == PLAIN
