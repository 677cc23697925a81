from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import pytest
from django.conf import settings

from revisit.audit.events import Event
from revisit.lib import sealed
from revisit.lib.keys import LocalKeyFileProvider, UnknownKeyError, WrongKeyError
from revisit.testing.actors import World, assert_audited
from revisit.vault import services
from revisit.vault.models import ObjectKind, SealedObject

pytestmark = pytest.mark.django_db

MARKER = b"REVISIT-PLAINTEXT-MARKER-7f3a9c"


@pytest.fixture(autouse=True)
def _fresh_keyring(tmp_path: Path, settings):
    """Each test gets its own key file and object folder."""
    settings.KEY_FILE = tmp_path / "keys" / "keyring.json"
    settings.STORAGE_URL = f"file://{tmp_path / 'objects'}"
    LocalKeyFileProvider(settings.KEY_FILE, create=True)
    services._keyrings.clear()
    services._stores.clear()
    yield
    services._keyrings.clear()
    services._stores.clear()


def _payload(size: int) -> bytes:
    body = bytearray(os.urandom(size))
    body[size // 2 : size // 2 + len(MARKER)] = MARKER
    return bytes(body)


def _stored_bytes(obj: SealedObject) -> bytes:
    return services.blobstore().read_at(obj.blob_key, 0, obj.stored_size)


def test_it_seals_and_reads_back_any_range(world: World):
    data = _payload(300_000)
    obj = services.vault_seal(
        practice_id=world.practice.pk, kind=ObjectKind.ORIGINAL, source=io.BytesIO(data)
    )
    assert obj.length == len(data)
    reader = services.vault_reader(obj)
    assert reader.read_all() == data
    for start, stop in [(0, 1), (65535, 65537), (131072, 200001), (299_999, 300_000)]:
        assert reader.read_range(start, stop) == data[start:stop]


def test_it_stores_no_plaintext(world: World, tmp_path: Path):
    obj = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.TRANSCRIPT, data=_payload(100_000)
    )
    assert MARKER not in _stored_bytes(obj)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert MARKER not in path.read_bytes(), path
    database = Path(settings.DATABASES["default"]["NAME"])
    if database.is_file():
        assert MARKER not in database.read_bytes()


def test_it_crypto_shreds_so_a_kept_copy_cannot_be_opened(
    world: World, django_capture_on_commit_callbacks
):
    data = _payload(150_000)
    obj = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.RENDITION, data=data
    )
    copy = _stored_bytes(obj)  # e.g. a backup taken before deletion
    with django_capture_on_commit_callbacks(execute=True):
        services.vault_shred(obj, reason="retention", actor=world.ada)
    assert obj.shredded_at is not None and bytes(obj.wrapped_dek) == b""
    assert not services.blobstore().exists(obj.blob_key)
    with pytest.raises(services.ShreddedError):
        services.vault_reader(obj)
    # The copy is intact ciphertext, but no key exists for it any more.
    with pytest.raises(sealed.WrongKeyError):
        sealed.open_bytes(copy, dek=sealed.new_dek(), object_id=obj.id)
    assert_audited(Event.OBJECT_SHREDDED, actor=world.ada, subject=obj)


def test_it_rotates_keys_without_touching_stored_bytes(world: World):
    objects = [
        services.vault_seal_bytes(
            practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=_payload(70_000 + i)
        )
        for i in range(3)
    ]
    before = {obj.pk: _stored_bytes(obj) for obj in objects}
    old_key = services.keyring().active_key_id
    report = services.vault_rotate_keys()
    assert report.rewrapped == 3 and report.retired == [old_key]
    ring = services.keyring()
    assert ring.key_ids() == [report.new_key_id]
    for obj in objects:
        obj.refresh_from_db()
        assert obj.kek_id == report.new_key_id
        assert _stored_bytes(obj) == before[obj.pk]
    assert_audited(Event.KEY_ROTATED)


def test_it_reads_every_object_after_rotation(world: World):
    data = _payload(90_000)
    obj = services.vault_seal_bytes(practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=data)
    services.vault_rotate_keys()
    obj.refresh_from_db()
    assert services.vault_reader(obj).read_all() == data


def test_it_resumes_an_interrupted_rotation(world: World):
    objects = [
        services.vault_seal_bytes(
            practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=_payload(1000 + i)
        )
        for i in range(4)
    ]
    old_key = services.keyring().active_key_id
    # Simulate a run that added the new key and rewrapped only one record before dying.
    new_key = services.keyring().add_key()
    first = objects[0]
    from revisit.lib.keys import WrappedKey, rewrap

    fresh = rewrap(
        services.keyring(), WrappedKey(first.kek_id, bytes(first.wrapped_dek)), object_id=first.id
    )
    assert fresh is not None
    SealedObject.objects.filter(pk=first.pk).update(kek_id=fresh.key_id, wrapped_dek=fresh.data)

    report = services.vault_rotate_keys()
    assert report.new_key_id is None  # resumed under the key the interrupted run added
    assert report.rewrapped == 3 and report.retired == [old_key]
    assert set(SealedObject.objects.values_list("kek_id", flat=True)) == {new_key}


def test_it_names_the_setting_when_the_key_file_lacks_the_key(
    world: World, tmp_path: Path, settings
):
    obj = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=b"hello"
    )
    settings.KEY_FILE = tmp_path / "other" / "keyring.json"
    LocalKeyFileProvider(settings.KEY_FILE, create=True)
    services._keyrings.clear()
    before = _stored_bytes(obj)
    with pytest.raises(UnknownKeyError, match="REVISIT_KEY_FILE"):
        services.vault_reader(obj)
    assert _stored_bytes(obj) == before


def test_it_refuses_a_wrong_key_under_the_right_id_and_writes_nothing(world: World, settings):
    obj = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=b"hello"
    )
    ring = json.loads(Path(settings.KEY_FILE).read_text())
    ring["keys"][obj.kek_id]["key"] = base64.b64encode(os.urandom(32)).decode()
    Path(settings.KEY_FILE).write_text(json.dumps(ring))
    services._keyrings.clear()
    before = _stored_bytes(obj)
    with pytest.raises(WrongKeyError):
        services.vault_reader(obj)
    assert _stored_bytes(obj) == before
    obj.refresh_from_db()
    assert obj.shredded_at is None


def test_it_reports_a_tampered_object_by_id(world: World):
    good = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=_payload(200_000)
    )
    bad = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=_payload(200_000)
    )
    stored = bytearray(_stored_bytes(bad))
    stored[100_000] ^= 0x01
    services.blobstore().put_bytes(bad.blob_key, bytes(stored))
    report = services.vault_verify()
    assert report.checked == 2
    assert [(p.object_id, p.problem) for p in report.problems] == [
        (str(bad.pk), "SealedIntegrityError")
    ]
    assert str(good.pk) not in {p.object_id for p in report.problems}
    assert_audited(Event.VAULT_VERIFIED)


def test_it_reports_a_missing_blob(world: World):
    obj = services.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.NOTE, data=b"x" * 10
    )
    services.blobstore().delete(obj.blob_key)
    report = services.vault_verify()
    assert [(p.object_id, p.problem) for p in report.problems] == [(str(obj.pk), "blob missing")]
