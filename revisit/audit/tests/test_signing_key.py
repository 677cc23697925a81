"""The audit signing key file: made private, refused when others can read it or when it is not a
key, and never replaced once it exists."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from revisit.audit import signing


def test_it_creates_a_private_key_file_once(tmp_path: Path):
    path = tmp_path / "keys" / "audit-signing.key"
    assert signing.create_key_file(path) is True
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    first = signing.load_key_file(path).key_id
    assert signing.create_key_file(path) is False  # an existing key is never replaced
    assert signing.load_key_file(path).key_id == first
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_it_refuses_a_key_that_others_can_read(tmp_path: Path, mode: int):
    path = tmp_path / "audit.key"
    signing.create_key_file(path)
    path.chmod(mode)
    with pytest.raises(signing.AuditKeyPermissionError) as caught:
        signing.load_key_file(path)
    assert "REVISIT_AUDIT_KEY_FILE" in str(caught.value) and "chmod 600" in str(caught.value)


def test_it_names_the_setting_when_the_key_is_missing(tmp_path: Path):
    with pytest.raises(signing.AuditKeyMissingError, match="REVISIT_AUDIT_KEY_FILE"):
        signing.load_key_file(tmp_path / "nothing-here.key")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not a key at all\n",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\x00" * 40_000,
    ],
)
def test_it_refuses_a_file_that_is_not_a_key(tmp_path: Path, content: bytes):
    path = tmp_path / "audit.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(signing.AuditKeyCorruptError, match="REVISIT_AUDIT_KEY_FILE"):
        signing.load_key_file(path)


def test_it_refuses_a_symlink_and_a_folder(tmp_path: Path):
    real = tmp_path / "real.key"
    signing.create_key_file(real)
    link = tmp_path / "link.key"
    link.symlink_to(real)
    with pytest.raises(signing.AuditKeyError, match="REVISIT_AUDIT_KEY_FILE"):
        signing.load_key_file(link)
    with pytest.raises(signing.AuditKeyError, match="not a regular file"):
        signing.load_key_file(tmp_path)


def test_it_signs_what_only_its_own_key_verifies(tmp_path: Path):
    path = tmp_path / "audit.key"
    signing.create_key_file(path)
    key = signing.load_key_file(path)
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    message = signing.checkpoint_message(seq=7, hash="ab" * 32, at=at, prev_seq=3)
    signature = key.sign(message)
    assert signing.signature_valid(key.public, message, signature)
    other = Ed25519PrivateKey.generate().public_key()
    assert not signing.signature_valid(other, message, signature)
    changed = signing.checkpoint_message(seq=8, hash="ab" * 32, at=at, prev_seq=3)
    assert not signing.signature_valid(key.public, changed, signature)
    assert not signing.signature_valid(key.public, message, "zz" + signature[2:])
    assert len(key.key_id) == 64 and key.key_id == signing.key_id_of(key.public)
