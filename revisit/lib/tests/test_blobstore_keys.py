"""Hostile keys and prefixes are refused before any file or network access, by both stores."""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from revisit.lib.blobstore import BlobStore, InvalidBlobKeyError, validate_key
from revisit.lib.blobstore_fs import FileBlobStore
from revisit.lib.blobstore_s3 import S3BlobStore, S3Policy

HOSTILE_KEYS = [
    "",
    "/etc/passwd",
    "../escape",
    "a/../../escape",
    "a/..",
    "..",
    ".",
    "a/./b",
    ".hidden",
    "a/.partial-0123",
    "a//b",
    "a/",
    "a\\b",
    "..\\escape",
    "a b",
    "a\x00b",
    "a\nb",
    "caf\u00e9",
    "a+b",
    "%2e%2e/escape",
    "~root",
    "c:/windows",
    "x" * 256,
    "-leading-dash",
]

GOOD_KEYS = ["a", "rec/01JD2XK/original", "A-b_c.d", "x" * 255, "0/1/2/3", "v1.sealed"]


def closed_port() -> int:
    """A port nothing listens on: bind, note it, close."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def unreachable_s3_store() -> S3BlobStore:
    # Nothing listens at this endpoint: a key check that came after a request would show up as
    # BlobStoreUnavailableError instead of InvalidBlobKeyError.
    return S3BlobStore(
        bucket="never-contacted",
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        access_key="unused",
        secret_key="unused",
        policy=S3Policy(connect_timeout=0.5, read_timeout=0.5, max_attempts=1),
    )


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "file":
        return FileBlobStore(tmp_path / "blobs")
    return request.getfixturevalue("unreachable_s3_store")  # type: ignore[no-any-return]


def operations(store: BlobStore, key: str, tmp_path: Path) -> list[Callable[[], object]]:
    source = tmp_path / "source.bin"
    source.write_bytes(b"sealed")
    return [
        lambda: store.put_bytes(key, b"sealed"),
        lambda: store.put_stream(key, io.BytesIO(b"sealed")),
        lambda: store.put_file(key, source),
        lambda: store.size(key),
        lambda: store.read_at(key, 0, 1),
        lambda: store.iter_range(key, 0, 1),
        lambda: store.delete(key),
        lambda: store.exists(key),
    ]


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_it_rejects_hostile_keys_in_every_operation(
    store: BlobStore, key: str, tmp_path: Path
) -> None:
    for operation in operations(store, key, tmp_path):
        with pytest.raises(InvalidBlobKeyError):
            operation()
    # Nothing was written anywhere: not in the store's folder, not beside it.
    assert {path.name for path in tmp_path.iterdir()} <= {"source.bin", "blobs"}
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == [tmp_path / "source.bin"]


@pytest.mark.parametrize("prefix", ["/", "/rec", "../", "a/../", "a//", "a b", "\u00e9", "+"])
def test_it_rejects_hostile_prefixes(store: BlobStore, prefix: str) -> None:
    with pytest.raises(InvalidBlobKeyError):
        list(store.iter_keys(prefix))


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_it_accepts_ordinary_keys(key: str, tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")

    assert validate_key(key) == key
    store.put_bytes(key, b"sealed")
    assert list(store.iter_keys()) == [key]
    assert store.read_at(key, 0, 10) == b"sealed"


def test_it_rejects_keys_that_are_not_strings() -> None:
    with pytest.raises(InvalidBlobKeyError, match="string"):
        validate_key(b"bytes-key")  # type: ignore[arg-type]
