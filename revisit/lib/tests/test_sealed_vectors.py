"""The test vectors of docs/storage-format.md: one test per vector file, each naming its outcome."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pytest

from revisit.lib import sealed
from revisit.lib.sealed import ObjectKeys, SealedReader, bytes_read_at
from revisit.lib.sealed_writer import seal_bytes

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "revisit" / "lib" / "testdata" / "sealed"
SPEC = ROOT / "docs" / "storage-format.md"
GENERATOR = ROOT / "scripts" / "make-sealed-vectors"


def load(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition(" = ")
            fields[key] = value
    return fields


FILES = sorted(VECTORS.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_it_gives_each_vector_its_expected_outcome(path: Path) -> None:
    v = load(path)
    stored = bytes.fromhex(v["sealed"])
    released = hashlib.sha256()
    outcome = "ok"
    try:
        reader = SealedReader(
            bytes_read_at(stored),
            len(stored),
            dek=bytes.fromhex(v["dek"]),
            object_id=UUID(v["object_id"]),
        )
        for piece in reader.iter_all():
            released.update(piece)
    except sealed.SealedError as error:
        outcome = type(error).__name__
    assert outcome == v["expect"]
    assert released.hexdigest() == v["released_sha256"]
    if outcome == "ok":
        assert released.digest() == hashlib.sha256(bytes.fromhex(v["plaintext"])).digest()


KATS = [p for p in FILES if p.name.startswith("kat-")]


@pytest.mark.parametrize("path", KATS, ids=[p.stem for p in KATS])
def test_it_writes_each_known_answer_byte_for_byte(path: Path) -> None:
    v = load(path)
    dek, salt = bytes.fromhex(v["dek"]), bytes.fromhex(v["salt"])
    keys = ObjectKeys.derive(dek, salt)
    assert keys.payload_key.hex() == v["payload_key"]
    assert keys.header_key.hex() == v["header_key"]
    written = seal_bytes(
        bytes.fromhex(v["plaintext"]),
        dek=dek,
        object_id=UUID(v["object_id"]),
        chunk_size=int(v["chunk_size"]),
        salt=salt,
    )
    assert written.hex() == v["sealed"]


def test_it_lists_the_same_vectors_in_the_spec_as_on_disk() -> None:
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \|$", SPEC.read_text(encoding="utf-8"), re.M)
    on_disk = {p.stem: load(p)["expect"] for p in FILES}
    assert dict(rows) == on_disk
    assert len(rows) == len(on_disk) >= 25


def test_it_regenerates_the_vector_files_exactly() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", str(VECTORS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
