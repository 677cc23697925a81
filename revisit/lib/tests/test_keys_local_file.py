"""The local keyring file: created safely, refused clearly, and wrapping bound to its record."""

from __future__ import annotations

import json
import os
import stat
import threading
import uuid
from pathlib import Path

import pytest

from revisit.lib import keys, sealed
from revisit.lib.keys import LocalKeyFileProvider, WrappedKey

OID = uuid.UUID("77777777-8888-4999-8aaa-bbbbbbbbbbbb")
OTHER = uuid.UUID("cccccccc-dddd-4eee-8fff-000000000000")
DEK = bytes(range(192, 224))


def test_it_creates_a_private_keyring_with_one_active_key(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "revisit.keys"
    provider = LocalKeyFileProvider(path, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert provider.key_ids() == [provider.active_key_id]
    doc = json.loads(path.read_text())
    assert doc["format"] == "revisit-keyring"
    assert doc["active"] == provider.active_key_id
    assert [p.name for p in path.parent.iterdir()] == ["revisit.keys"]  # no temporary left


def test_it_keeps_an_existing_keyring_when_asked_to_create(tmp_path: Path) -> None:
    path = tmp_path / "revisit.keys"
    first = LocalKeyFileProvider(path, create=True)
    again = LocalKeyFileProvider(path, create=True)
    assert again.active_key_id == first.active_key_id


def test_it_ends_with_one_keyring_when_processes_create_at_once(tmp_path: Path) -> None:
    path = tmp_path / "revisit.keys"
    barrier = threading.Barrier(6)
    seen: list[str] = []

    def create() -> None:
        barrier.wait()
        seen.append(LocalKeyFileProvider(path, create=True).active_key_id)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 6
    assert len(set(seen)) == 1


def test_it_wraps_and_unwraps_a_data_key(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    wrapped = provider.wrap(DEK, object_id=OID)
    assert wrapped.key_id == provider.active_key_id
    assert len(wrapped.data) == 61
    assert DEK not in wrapped.data
    assert provider.unwrap(wrapped, object_id=OID) == DEK
    assert provider.wrap(DEK, object_id=OID).data != wrapped.data  # a fresh nonce each time


def test_it_refuses_a_record_moved_to_another_object(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    wrapped = provider.wrap(DEK, object_id=OID)
    with pytest.raises(keys.WrongKeyError, match=str(OTHER)):
        provider.unwrap(wrapped, object_id=OTHER)


def test_it_refuses_a_wrong_key_file_with_the_same_key_id(tmp_path: Path) -> None:
    right = LocalKeyFileProvider(tmp_path / "right", create=True)
    wrapped = right.wrap(DEK, object_id=OID)
    doc = json.loads((tmp_path / "right").read_text())
    doc["keys"][right.active_key_id]["key"] = "A" * 43 + "="  # same id, other key material
    wrong_path = tmp_path / "wrong"
    wrong_path.write_text(json.dumps(doc))
    wrong_path.chmod(0o600)
    wrong = LocalKeyFileProvider(wrong_path, create=False)
    with pytest.raises(keys.WrongKeyError) as failure:
        wrong.unwrap(wrapped, object_id=OID)
    assert isinstance(failure.value, sealed.WrongKeyError)  # one except clause catches both


def test_it_refuses_an_unknown_key_id(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    elsewhere = LocalKeyFileProvider(tmp_path / "other", create=True)
    with pytest.raises(keys.UnknownKeyError, match="REVISIT_KEY_FILE"):
        provider.unwrap(elsewhere.wrap(DEK, object_id=OID), object_id=OID)


def test_it_refuses_a_malformed_wrapped_key(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    with pytest.raises(keys.MalformedWrappedKeyError):
        provider.unwrap(WrappedKey(provider.active_key_id, b"\x01" * 20), object_id=OID)


def test_it_refuses_a_missing_file_unless_asked_to_create(tmp_path: Path) -> None:
    path = tmp_path / "absent.keys"
    with pytest.raises(keys.KeyFileMissingError, match="REVISIT_KEY_FILE") as failure:
        LocalKeyFileProvider(path, create=False)
    assert str(path) in str(failure.value)
    assert not path.exists()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_it_refuses_a_file_open_to_group_or_others(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k"
    LocalKeyFileProvider(path, create=True)
    path.chmod(mode)
    with pytest.raises(keys.KeyFilePermissionError, match="chmod 600") as failure:
        LocalKeyFileProvider(path, create=False)
    assert "REVISIT_KEY_FILE" in str(failure.value)


def test_it_refuses_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    with pytest.raises(keys.KeyFileUnreadableError, match="REVISIT_KEY_FILE"):
        LocalKeyFileProvider(tmp_path / "a-directory", create=False)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(keys.KeyFileUnreadableError, match="cannot be opened"):
        LocalKeyFileProvider(tmp_path / "a-file" / "k", create=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_it_refuses_a_file_without_read_permission(tmp_path: Path) -> None:
    path = tmp_path / "k"
    LocalKeyFileProvider(path, create=True)
    path.chmod(0o000)
    with pytest.raises(keys.KeyFileUnreadableError, match="REVISIT_KEY_FILE"):
        LocalKeyFileProvider(path, create=False)


CORRUPT = {
    "not-json": "{ not json",
    "not-a-keyring": json.dumps({"hello": "world"}),
    "future-version": json.dumps({"format": "revisit-keyring", "version": 9, "keys": {}}),
    "no-keys": json.dumps({"format": "revisit-keyring", "version": 1, "active": "a", "keys": {}}),
    "short-key": json.dumps(
        {
            "format": "revisit-keyring",
            "version": 1,
            "active": "a",
            "keys": {"a": {"key": "AAAA", "created": ""}},
        }
    ),
    "bad-base64": json.dumps(
        {
            "format": "revisit-keyring",
            "version": 1,
            "active": "a",
            "keys": {"a": {"key": "!" * 44, "created": ""}},
        }
    ),
    "active-missing": json.dumps(
        {
            "format": "revisit-keyring",
            "version": 1,
            "active": "b",
            "keys": {"a": {"key": "A" * 43 + "=", "created": ""}},
        }
    ),
}


@pytest.mark.parametrize("content", CORRUPT.values(), ids=CORRUPT.keys())
def test_it_refuses_a_corrupt_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "k"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(keys.KeyFileCorruptError, match="REVISIT_KEY_FILE"):
        LocalKeyFileProvider(path, create=False)


def test_it_never_puts_key_material_in_an_error(tmp_path: Path) -> None:
    path = tmp_path / "k"
    provider = LocalKeyFileProvider(path, create=True)
    kek = json.loads(path.read_text())["keys"][provider.active_key_id]["key"]
    wrapped = provider.wrap(DEK, object_id=OID)
    with pytest.raises(keys.WrongKeyError) as failure:
        provider.unwrap(wrapped, object_id=OTHER)
    assert kek not in str(failure.value)
    assert DEK.hex()[:12] not in str(failure.value)
