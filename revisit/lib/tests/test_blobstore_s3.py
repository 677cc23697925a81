"""What only the S3 blob store promises, against a real Ceph RGW: multipart uploads, ranged GETs
of only the bytes asked for, aborted uploads leaving nothing, clear errors for bad settings."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest

from revisit.lib.blobstore import BlobStoreUnavailableError
from revisit.lib.blobstore_s3 import MIN_PART_SIZE, S3BlobStore
from revisit.testing.ceph import S3Server, TcpProxy

pytestmark = pytest.mark.slow

StoreFactory = Callable[..., S3BlobStore]


def etag(server: S3Server, store: S3BlobStore, key: str) -> str:
    return str(server.client().head_object(Bucket=store.bucket, Key=key)["ETag"])


@pytest.mark.parametrize(
    ("size", "parts"),
    [
        (MIN_PART_SIZE - 1, 0),
        (MIN_PART_SIZE, 0),
        (MIN_PART_SIZE + 1, 2),
        (2 * MIN_PART_SIZE, 2),
        (2 * MIN_PART_SIZE + 7, 3),
    ],
)
def test_it_uses_multipart_uploads_only_above_the_part_size(
    s3_server: S3Server, s3_store_factory: StoreFactory, size: int, parts: int
) -> None:
    store = s3_store_factory(part_size=MIN_PART_SIZE)
    data = os.urandom(size)

    assert store.put_stream("obj", io.BytesIO(data)) == size

    # S3 marks the ETag of a multipart object with "-<number of parts>".
    tag = etag(s3_server, store, "obj").strip('"')
    assert tag.endswith(f"-{parts}") if parts else "-" not in tag
    assert store.read_at("obj", 0, size) == data


def test_it_aborts_a_multipart_upload_when_the_source_fails(
    s3_server: S3Server, s3_store_factory: StoreFactory
) -> None:
    store = s3_store_factory(part_size=MIN_PART_SIZE)

    class BrokenSource(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if self.sent >= 2 * MIN_PART_SIZE + 100:
                raise ConnectionResetError("the uploader went away")
            count = min(size, 1 << 20)
            self.sent += count
            return b"p" * count

    with pytest.raises(ConnectionResetError):
        store.put_stream("half", BrokenSource())  # type: ignore[arg-type]

    assert not store.exists("half")
    assert list(store.iter_keys()) == []
    uploads = s3_server.client().list_multipart_uploads(Bucket=store.bucket)
    assert uploads.get("Uploads", []) == []


def test_it_fetches_only_the_bytes_asked_for(
    s3_store_factory: StoreFactory,
    tcp_proxy_factory: Callable[[str], TcpProxy],
    s3_server: S3Server,
) -> None:
    proxy = tcp_proxy_factory(s3_server.endpoint_url)
    store = s3_store_factory(endpoint_url=proxy.url)
    data = os.urandom(8 * 1024 * 1024)
    s3_server.client().put_object(Bucket=store.bucket, Key="big", Body=data)

    before = proxy.downstream_bytes
    assert store.read_at("big", 3_000_000, 100) == data[3_000_000:3_000_100]
    assert (
        b"".join(store.iter_range("big", 5_000_000, 5_065_536, block=4096))
        == (data[5_000_000:5_065_536])
    )

    # 65,636 bytes of payload plus two responses' headers, not megabytes.
    assert proxy.downstream_bytes - before < 65_636 + 4096


def test_it_names_the_credentials_when_they_are_refused(
    s3_server: S3Server, s3_store: S3BlobStore
) -> None:
    s3_store.put_bytes("k", b"v")
    wrong = S3BlobStore(
        bucket=s3_store.bucket,
        endpoint_url=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key="not-the-secret",
    )

    for operation in (lambda: wrong.read_at("k", 0, 1), wrong.check, lambda: wrong.size("k")):
        with pytest.raises(BlobStoreUnavailableError, match="access key") as caught:
            operation()
        assert "not-the-secret" not in str(caught.value)


def test_it_says_when_the_bucket_does_not_exist(s3_server: S3Server) -> None:
    store = S3BlobStore(
        bucket="revisit-no-such-bucket",
        endpoint_url=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
    )

    with pytest.raises(BlobStoreUnavailableError, match="does not exist"):
        store.check()
    with pytest.raises(BlobStoreUnavailableError, match="does not exist"):
        store.put_bytes("k", b"v")
    with pytest.raises(BlobStoreUnavailableError, match="does not exist"):
        store.read_at("k", 0, 1)


def test_it_creates_its_bucket_once(s3_server: S3Server) -> None:
    store = S3BlobStore(
        bucket="revisit-created-by-store",
        endpoint_url=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
    )
    store.create_bucket()
    store.create_bucket()
    try:
        store.check()
        store.put_bytes("k", b"v")
        assert store.read_at("k", 0, 1) == b"v"
    finally:
        store.delete("k")
        s3_server.client().delete_bucket(Bucket=store.bucket)
