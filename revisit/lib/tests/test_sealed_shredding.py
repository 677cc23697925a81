"""Crypto-shredding: without its key record, no copy of a sealed object can be opened."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from revisit.lib import keys, sealed
from revisit.lib.keys import LocalKeyFileProvider, WrappedKey
from revisit.lib.sealed import open_bytes
from revisit.lib.sealed_writer import seal_bytes

OID = uuid.UUID("88888888-9999-4aaa-8bbb-cccccccccccc")
PLAIN = b"session 12, minute 31: what carol said" * 50


def stored_object(
    tmp_path: Path,
) -> tuple[LocalKeyFileProvider, dict[uuid.UUID, WrappedKey], bytes]:
    provider = LocalKeyFileProvider(tmp_path / "revisit.keys", create=True)
    dek = sealed.new_dek()
    key_records = {OID: provider.wrap(dek, object_id=OID)}
    blob = seal_bytes(PLAIN, dek=dek, object_id=OID)
    return provider, key_records, blob


def test_it_opens_an_object_through_its_key_record(tmp_path: Path) -> None:
    provider, key_records, blob = stored_object(tmp_path)
    dek = provider.unwrap(key_records[OID], object_id=OID)
    assert open_bytes(blob, dek=dek, object_id=OID).read_all() == PLAIN


def test_it_keeps_no_way_to_the_data_key_in_the_blob_or_the_keyring(tmp_path: Path) -> None:
    provider, key_records, blob = stored_object(tmp_path)
    dek = provider.unwrap(key_records[OID], object_id=OID)
    del key_records[OID]  # the object is deleted: its key record goes
    backup = bytes(blob)  # every copy of the blob stays as it was
    assert dek not in backup
    ring = json.loads((tmp_path / "revisit.keys").read_text())
    keks = [base64.b64decode(entry["key"]) for entry in ring["keys"].values()]
    assert dek not in keks
    for candidate in keks:  # not even the KEK opens it: it was never the data key
        with pytest.raises(sealed.WrongKeyError):
            open_bytes(backup, dek=candidate, object_id=OID)


def test_it_shreds_database_backups_too_once_the_kek_is_retired(tmp_path: Path) -> None:
    provider, key_records, _ = stored_object(tmp_path)
    database_backup = dict(key_records)  # taken while the record still existed
    del key_records[OID]
    old = provider.active_key_id
    provider.add_key()  # rotate: the other records would be rewrapped here
    provider.retire(old)
    with pytest.raises(keys.UnknownKeyError):
        provider.unwrap(database_backup[OID], object_id=OID)
