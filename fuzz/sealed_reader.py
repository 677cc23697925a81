"""Fuzz target (atheris) for the sealed header parser and range reader. See fuzz/README.md.

Three modes, picked by the first input byte:

0. raw bytes as a stored object: opening and reading may only ever raise ``SealedError``;
1. fuzzed header fields under a *valid* MAC (the target holds the key), then fuzzed bytes: this
   reaches the size checks and the chunk reader, which random bytes never would;
2. a valid object of fuzzed plaintext and chunk size, with fuzzed bytes overwritten: any range
   read either raises ``SealedError`` or returns exactly the original plaintext's slice.
"""

from __future__ import annotations

import contextlib
import struct
import sys
import uuid

import atheris

with atheris.instrument_imports():
    from revisit.lib import sealed
    from revisit.lib.sealed_writer import seal_bytes

DEK = bytes(range(32))
OID = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")
SALT = bytes(32)
KEYS = sealed.ObjectKeys.derive(DEK, SALT)


def read_some(reader: sealed.SealedReader, a: int, b: int) -> bytes:
    """Read the range that two fuzzed numbers pick within the object."""
    start, stop = sorted((a % (reader.length + 1), b % (reader.length + 1)))
    span = reader.stored_range(start, stop)
    assert span.start <= span.stop
    return b"".join(reader.iter_range(start, stop))


def raw_object(fdp: atheris.FuzzedDataProvider) -> None:
    a, b = fdp.ConsumeUInt(4), fdp.ConsumeUInt(4)
    data = fdp.ConsumeBytes(fdp.remaining_bytes())
    with contextlib.suppress(sealed.SealedError):
        read_some(sealed.open_bytes(data, dek=DEK, object_id=OID), a, b)


def authentic_header(fdp: atheris.FuzzedDataProvider) -> None:
    kind = fdp.PickValueInList([0, 0, 0, 1, 2])
    chunk_size = fdp.PickValueInList([64, 128, 4096, 65536, 0, 63, 100, 1 << 21, 2**32 - 1])
    choices = [0, 1, 64, 65, 300, 2**64 - 1, fdp.ConsumeIntInRange(0, 2**64 - 1)]
    length = fdp.PickValueInList(choices)
    a, b = fdp.ConsumeUInt(4), fdp.ConsumeUInt(4)
    fields = struct.pack(">6sBB16sIQ32s", b"RVSEAL", 1, kind, OID.bytes, chunk_size, length, SALT)
    header = sealed.Header(OID, chunk_size, length, SALT, kind)
    assert header.authenticated_bytes() == fields
    data = header.encode(KEYS.header_key) + fdp.ConsumeBytes(fdp.remaining_bytes())
    with contextlib.suppress(sealed.SealedError):
        read_some(sealed.open_bytes(data, dek=DEK, object_id=OID), a, b)


def tampered_object(fdp: atheris.FuzzedDataProvider) -> None:
    chunk_size = fdp.PickValueInList([64, 128, 256])
    plain = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 1200))
    stored = bytearray(seal_bytes(plain, dek=DEK, object_id=OID, chunk_size=chunk_size, salt=SALT))
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        at = fdp.ConsumeIntInRange(0, len(stored) - 1)
        stored[at] = fdp.ConsumeIntInRange(0, 255)
    if fdp.ConsumeBool():
        del stored[fdp.ConsumeIntInRange(0, len(stored)) :]
    try:
        reader = sealed.open_bytes(bytes(stored), dek=DEK, object_id=OID)
        start = fdp.ConsumeIntInRange(0, reader.length)
        stop = fdp.ConsumeIntInRange(start, reader.length)
        got = reader.read_range(start, stop)
    except sealed.SealedError:
        return
    if got != plain[start:stop]:
        raise AssertionError("a range read released bytes that were not the sealed plaintext")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 2)
    (raw_object, authentic_header, tampered_object)[mode](fdp)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
