"""KEK rotation: add a key, rewrap records resumably, retire the old key; every process sees it."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest

from revisit.lib import keys
from revisit.lib.keys import KekProvider, LocalKeyFileProvider, WrappedKey, rewrap

OBJECTS = [uuid.UUID(int=n) for n in range(1, 6)]


def records(provider: KekProvider) -> dict[uuid.UUID, tuple[bytes, WrappedKey]]:
    """A stand-in for the key-record table: object id -> (the DEK, for checking; the record)."""
    out = {}
    for oid in OBJECTS:
        dek = os.urandom(32)
        out[oid] = (dek, provider.wrap(dek, object_id=oid))
    return out


def test_it_makes_a_new_key_active_and_keeps_the_old_one_usable(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    old = provider.active_key_id
    table = records(provider)
    new = provider.add_key()
    assert new != old
    assert provider.active_key_id == new
    assert provider.key_ids() == [old, new]
    assert provider.wrap(os.urandom(32), object_id=OBJECTS[0]).key_id == new
    for oid, (dek, wrapped) in table.items():
        assert provider.unwrap(wrapped, object_id=oid) == dek


def test_it_rewraps_records_resumably_and_never_changes_a_dek(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    table = records(provider)
    new = provider.add_key()
    first_two = OBJECTS[:2]
    for oid in first_two:  # a run interrupted after two records
        wrapped = rewrap(provider, table[oid][1], object_id=oid)
        assert wrapped is not None
        table[oid] = (table[oid][0], wrapped)
    done = []
    for oid in OBJECTS:  # the resumed run
        wrapped = rewrap(provider, table[oid][1], object_id=oid)
        if wrapped is not None:
            table[oid] = (table[oid][0], wrapped)
            done.append(oid)
    assert done == OBJECTS[2:]
    for oid, (dek, wrapped) in table.items():
        assert wrapped.key_id == new
        assert provider.unwrap(wrapped, object_id=oid) == dek


def test_it_retires_an_old_key_so_old_records_no_longer_open(tmp_path: Path) -> None:
    path = tmp_path / "k"
    provider = LocalKeyFileProvider(path, create=True)
    old = provider.active_key_id
    table = records(provider)
    backup = dict(table)  # what a database backup taken before the rotation holds
    provider.add_key()
    for oid in OBJECTS:
        rewrapped = rewrap(provider, table[oid][1], object_id=oid)
        assert rewrapped is not None
        table[oid] = (table[oid][0], rewrapped)
    provider.retire(old)
    assert old not in provider.key_ids()
    assert old not in json.loads(path.read_text())["keys"]
    for oid, (dek, wrapped) in table.items():
        assert provider.unwrap(wrapped, object_id=oid) == dek
    for oid, (_, wrapped) in backup.items():
        with pytest.raises(keys.UnknownKeyError):
            provider.unwrap(wrapped, object_id=oid)


def test_it_refuses_to_retire_the_active_key(tmp_path: Path) -> None:
    provider = LocalKeyFileProvider(tmp_path / "k", create=True)
    with pytest.raises(keys.ActiveKeyRetireError, match="add a new key"):
        provider.retire(provider.active_key_id)
    with pytest.raises(keys.UnknownKeyError):
        provider.retire("kek-19700101-000000000000")


def test_it_sees_a_rotation_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "k"
    web = LocalKeyFileProvider(path, create=True)
    old = web.active_key_id
    cli = LocalKeyFileProvider(path, create=False)  # e.g. `revisit keys rotate`
    new = cli.add_key()
    wrapped = cli.wrap(b"d" * 32, object_id=OBJECTS[0])
    assert web.active_key_id == new
    assert web.unwrap(wrapped, object_id=OBJECTS[0]) == b"d" * 32
    cli.retire(old)
    assert web.key_ids() == [new]


def test_it_leaves_the_keyring_private_after_every_change(tmp_path: Path) -> None:
    path = tmp_path / "k"
    provider = LocalKeyFileProvider(path, create=True)
    old = provider.active_key_id
    provider.add_key()
    provider.retire(old)
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k", "k.lock"]
