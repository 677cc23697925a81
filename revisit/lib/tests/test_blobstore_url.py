"""blobstore_from_url: the one call settings make to choose a store."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

import pytest

from revisit.lib.blobstore import BlobStoreConfigError, blobstore_from_url
from revisit.lib.blobstore_fs import FileBlobStore
from revisit.lib.blobstore_s3 import S3BlobStore


class S3Credentials(TypedDict):
    endpoint_url: str
    access_key: str
    secret_key: str


S3_CREDENTIALS = S3Credentials(
    endpoint_url="http://127.0.0.1:9", access_key="ACCESS", secret_key="very-secret-value"
)


def test_it_builds_a_file_store_from_an_absolute_file_url(tmp_path: Path) -> None:
    store = blobstore_from_url(f"file://{tmp_path}/blobs", **S3_CREDENTIALS)

    assert isinstance(store, FileBlobStore)
    assert store.root == tmp_path / "blobs"
    store.put_bytes("k", b"v")
    assert store.read_at("k", 0, 1) == b"v"


def test_it_builds_an_s3_store_with_the_given_endpoint_and_policy() -> None:
    store = blobstore_from_url(
        "s3://revisit-media",
        region="eu-central-1",
        connect_timeout=1.5,
        read_timeout=4,
        max_attempts=5,
        **S3_CREDENTIALS,
    )

    assert isinstance(store, S3BlobStore)
    assert store.bucket == "revisit-media"
    assert store.endpoint_url == "http://127.0.0.1:9"
    assert (store.policy.connect_timeout, store.policy.read_timeout) == (1.5, 4)
    assert store.policy.max_attempts == 5
    assert "very-secret-value" not in repr(store)


@pytest.mark.parametrize(
    "url",
    [
        "file:relative/folder",
        "file://server/share",
        "file:///srv/../etc",
        "file:///srv/blobs?x=1",
        "s3://bucket/with/path",
        "s3://ACCESS:very-secret-value@bucket",
        "s3://UPPER",
        "s3://",
        "ftp://example/blobs",
        "/srv/blobs",
    ],
)
def test_it_rejects_malformed_urls_without_echoing_secrets(url: str) -> None:
    with pytest.raises(BlobStoreConfigError) as caught:
        blobstore_from_url(url, **S3_CREDENTIALS)

    assert "very-secret-value" not in str(caught.value)


@pytest.mark.parametrize("missing", ["endpoint_url", "access_key", "secret_key"])
def test_it_names_the_missing_s3_settings(missing: str) -> None:
    given: dict[str, str | None] = {
        "endpoint_url": S3_CREDENTIALS["endpoint_url"],
        "access_key": S3_CREDENTIALS["access_key"],
        "secret_key": S3_CREDENTIALS["secret_key"],
        missing: None,
    }

    with pytest.raises(BlobStoreConfigError, match=missing):
        blobstore_from_url(
            "s3://revisit-media",
            endpoint_url=given["endpoint_url"],
            access_key=given["access_key"],
            secret_key=given["secret_key"],
        )


@pytest.mark.parametrize(
    "endpoint", ["127.0.0.1:7480", "ftp://host", "http://user:pw@host", "http://host/?q=1"]
)
def test_it_rejects_malformed_endpoints(endpoint: str) -> None:
    with pytest.raises(BlobStoreConfigError, match="endpoint"):
        blobstore_from_url(
            "s3://revisit-media", endpoint_url=endpoint, access_key="a", secret_key="s"
        )


def test_it_refuses_parts_smaller_than_s3_allows() -> None:
    with pytest.raises(BlobStoreConfigError, match="part_size"):
        S3BlobStore(
            bucket="revisit-media",
            part_size=1024,
            **S3_CREDENTIALS,
        )
