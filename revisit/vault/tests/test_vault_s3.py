"""The vault on a real S3 server (Ceph RGW from Debian packages), through settings as deployed."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from revisit.lib.keys import LocalKeyFileProvider
from revisit.testing.actors import World
from revisit.vault import services
from revisit.vault.models import ObjectKind

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def s3_settings(settings, s3_server, s3_store, tmp_path: Path):
    settings.KEY_FILE = tmp_path / "keyring.json"
    LocalKeyFileProvider(settings.KEY_FILE, create=True)
    settings.STORAGE_URL = f"s3://{s3_store.bucket}"
    settings.STORAGE_OPTIONS = {
        "endpoint_url": s3_server.endpoint_url,
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
        "region": s3_server.region,
    }
    services._keyrings.clear()
    services._stores.clear()
    yield s3_store
    services._keyrings.clear()
    services._stores.clear()


def test_it_seals_ranges_verifies_and_shreds_on_s3(
    world: World, s3_settings, django_capture_on_commit_callbacks
):
    marker = b"S3-PLAINTEXT-MARKER-91d2"
    data = bytearray(os.urandom(20 * 1024 * 1024 + 123))  # crosses the multipart threshold
    data[5_000_000 : 5_000_000 + len(marker)] = marker
    obj = services.vault_seal(
        practice_id=world.practice.pk, kind=ObjectKind.ORIGINAL, source=io.BytesIO(bytes(data))
    )
    stored = s3_settings.read_at(obj.blob_key, 0, obj.stored_size)
    assert marker not in stored
    reader = services.vault_reader(obj)
    assert reader.read_range(4_999_990, 5_000_100) == bytes(data[4_999_990:5_000_100])
    assert reader.read_range(len(data) - 5, len(data)) == bytes(data[-5:])
    assert services.vault_verify().ok
    with django_capture_on_commit_callbacks(execute=True):
        services.vault_shred(obj, reason="test")
    assert not s3_settings.exists(obj.blob_key)
    with pytest.raises(services.ShreddedError):
        services.vault_reader(obj)
