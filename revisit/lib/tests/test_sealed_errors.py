"""Errors are typed, name the object and the chunk, and never carry content or key bytes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from revisit.lib import sealed
from revisit.lib.sealed import HEADER_LEN, TAG_LEN, open_bytes
from revisit.lib.sealed_writer import seal_bytes

DEK = bytes(range(96, 128))
OID = uuid.UUID("44444444-5555-4666-8777-888888888888")
OTHER = uuid.UUID("99999999-aaaa-4bbb-8ccc-dddddddddddd")
C = 64
MARKER = b"carol-said-something-private!!"
PLAIN = MARKER * 10  # 300 bytes: 5 chunks
STORED = seal_bytes(PLAIN, dek=DEK, object_id=OID, chunk_size=C)


def flip(at: int) -> Callable[[bytes], bytes]:
    return lambda data: data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


CHUNK_3 = HEADER_LEN + 3 * (C + TAG_LEN)
CASES: list[
    tuple[str, Callable[[bytes], bytes], dict[str, object], type[Exception], int | None]
] = [
    ("truncated", lambda d: d[:-1], {}, sealed.SealedTruncatedError, None),
    ("trailing", lambda d: d + b"\0", {}, sealed.SealedTrailingDataError, None),
    ("tampered-chunk", flip(CHUNK_3 + 1), {}, sealed.SealedIntegrityError, 3),
    ("tampered-header", flip(50), {}, sealed.WrongKeyError, None),
    ("wrong-key", lambda d: d, {"dek": bytes(32)}, sealed.WrongKeyError, None),
    ("wrong-object", lambda d: d, {"object_id": OTHER}, sealed.WrongObjectError, None),
    ("not-sealed", lambda d: MARKER * 5, {}, sealed.SealedFormatError, None),
]


@pytest.mark.parametrize(
    ("name", "change", "opener", "error", "chunk"), CASES, ids=[case[0] for case in CASES]
)
def test_it_names_object_and_chunk_and_nothing_else(
    name: str,
    change: Callable[[bytes], bytes],
    opener: dict[str, object],
    error: type[Exception],
    chunk: int | None,
) -> None:
    args: dict[str, object] = {"dek": DEK, "object_id": OID, **opener}
    with pytest.raises(sealed.SealedError) as failure:
        open_bytes(change(STORED), **args).verify()  # type: ignore[arg-type]
    assert type(failure.value) is error
    message = str(failure.value)
    assert str(args["object_id"]) in message
    assert failure.value.chunk == chunk
    if chunk is not None:
        assert f"chunk {chunk}" in message
    for secret in (MARKER.decode(), MARKER.hex(), DEK.hex(), STORED[HEADER_LEN:][:8].hex()):
        assert secret[:12] not in message


def test_it_arranges_errors_in_one_hierarchy() -> None:
    assert issubclass(sealed.UnsupportedVersionError, sealed.SealedFormatError)
    assert issubclass(sealed.IncompleteObjectError, sealed.SealedFormatError)
    assert issubclass(sealed.SealedTruncatedError, sealed.SealedIntegrityError)
    assert issubclass(sealed.SealedTrailingDataError, sealed.SealedIntegrityError)
    for error in (
        sealed.SealedFormatError,
        sealed.SealedIntegrityError,
        sealed.WrongKeyError,
        sealed.WrongObjectError,
        sealed.AppendConflictError,
        sealed.LengthMismatchError,
    ):
        assert issubclass(error, sealed.SealedError)
