"""The behaviour every blob store shares, run against the file store and a real Ceph RGW."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from revisit.lib.blobstore import BlobNotFoundError, BlobStore
from revisit.lib.blobstore_fs import FileBlobStore
from revisit.lib.blobstore_s3 import MIN_PART_SIZE

# Large enough to cross the S3 multipart threshold used below (three parts).
LARGE = 2 * MIN_PART_SIZE + 3


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "file":
        return FileBlobStore(tmp_path / "blobs")
    # The smallest part size S3 allows, so the large object below is a real multipart upload.
    factory = request.getfixturevalue("s3_store_factory")
    return factory(part_size=MIN_PART_SIZE)  # type: ignore[no-any-return]


def sample(size: int) -> bytes:
    return os.urandom(size)


def test_it_round_trips_bytes_streams_and_files(store: BlobStore, tmp_path: Path) -> None:
    data = sample(100_000)
    source = tmp_path / "source.bin"
    source.write_bytes(data[::-1])

    assert store.put_bytes("obj/bytes", data) == len(data)
    assert store.put_stream("obj/stream", io.BytesIO(data[:777])) == 777
    assert store.put_file("obj/file", source) == len(data)

    assert store.read_at("obj/bytes", 0, len(data)) == data
    assert store.read_at("obj/stream", 0, 10_000) == data[:777]
    assert b"".join(store.iter_range("obj/file", 0, len(data))) == data[::-1]
    assert store.size("obj/bytes") == len(data)
    assert store.size("obj/stream") == 777


SIZE = 1000

# (offset, length, expected slice of the stored bytes), read_at behaves like os.pread.
READ_AT_CASES = [
    (0, 0, slice(0, 0)),
    (0, 1, slice(0, 1)),
    (0, SIZE, slice(0, SIZE)),
    (SIZE - 1, 1, slice(SIZE - 1, SIZE)),
    (SIZE - 1, 50, slice(SIZE - 1, SIZE)),
    (10, SIZE, slice(10, SIZE)),
    (SIZE, 1, slice(SIZE, SIZE)),
    (SIZE + 5, 10, slice(SIZE, SIZE)),
    (123, 456, slice(123, 579)),
]


@pytest.mark.parametrize(("offset", "length", "expected"), READ_AT_CASES)
def test_it_reads_at_offsets_up_to_and_past_the_edges(
    store: BlobStore, offset: int, length: int, expected: slice
) -> None:
    data = sample(SIZE)
    store.put_bytes("edges", data)

    assert store.read_at("edges", offset, length) == data[expected]


# (start, end, block): iter_range yields [start, end) clamped to the size, in pieces <= block.
ITER_RANGE_CASES = [
    (0, SIZE, 64),
    (0, SIZE, SIZE),
    (0, SIZE, 10 * SIZE),
    (0, 1, 64),
    (SIZE - 1, SIZE, 1),
    (100, 101, 7),
    (100, 900, 7),
    (500, SIZE + 500, 100),
    (0, 0, 64),
    (SIZE, SIZE + 10, 64),
    (SIZE + 1, SIZE + 10, 64),
]


@pytest.mark.parametrize(("start", "end", "block"), ITER_RANGE_CASES)
def test_it_iterates_ranges_up_to_and_past_the_edges(
    store: BlobStore, start: int, end: int, block: int
) -> None:
    data = sample(SIZE)
    store.put_bytes("edges", data)

    pieces = list(store.iter_range("edges", start, end, block=block))

    assert b"".join(pieces) == data[start:end]
    assert all(0 < len(piece) <= block for piece in pieces)


def test_it_stores_an_empty_object(store: BlobStore) -> None:
    assert store.put_stream("empty", io.BytesIO(b"")) == 0

    assert store.exists("empty")
    assert store.size("empty") == 0
    assert store.read_at("empty", 0, 10) == b""
    assert list(store.iter_range("empty", 0, 10)) == []
    assert list(store.iter_keys()) == ["empty"]


def test_it_stores_an_object_larger_than_the_multipart_threshold(
    store: BlobStore, tmp_path: Path
) -> None:
    data = sample(LARGE)
    source = tmp_path / "large.bin"
    source.write_bytes(data)

    assert store.put_file("large", source) == LARGE

    assert store.size("large") == LARGE
    assert (
        store.read_at("large", MIN_PART_SIZE - 2, 4) == data[MIN_PART_SIZE - 2 : MIN_PART_SIZE + 2]
    )
    assert store.read_at("large", LARGE - 3, 100) == data[-3:]
    assert b"".join(store.iter_range("large", 0, LARGE, block=1 << 20)) == data


def test_it_replaces_an_object_written_twice(store: BlobStore) -> None:
    store.put_bytes("again", b"first version, longer")
    store.put_bytes("again", b"second")

    assert store.size("again") == 6
    assert store.read_at("again", 0, 100) == b"second"


def test_it_reports_a_missing_key_by_its_name_only(store: BlobStore) -> None:
    store.put_bytes("present", b"x")

    for read in (
        lambda: store.size("absent/key"),
        lambda: store.read_at("absent/key", 0, 10),
        lambda: store.read_at("absent/key", 0, 0),
        lambda: store.iter_range("absent/key", 0, 10),
        lambda: store.iter_range("absent/key", 0, 0),
    ):
        with pytest.raises(BlobNotFoundError) as caught:
            read()
        assert caught.value.key == "absent/key"
        assert str(caught.value) == "no blob under key 'absent/key'"
    assert not store.exists("absent/key")


def test_it_deletes_and_deleting_again_is_not_an_error(store: BlobStore) -> None:
    store.put_bytes("doomed", b"bytes")
    store.put_bytes("kept", b"bytes")

    store.delete("doomed")
    store.delete("doomed")
    store.delete("never-existed")

    assert not store.exists("doomed")
    assert store.exists("kept")
    with pytest.raises(BlobNotFoundError):
        store.read_at("doomed", 0, 1)


def test_it_lists_keys_by_prefix_in_sorted_order(store: BlobStore) -> None:
    keys = ["rec/b/original", "rec/a/original", "rec/a/audio", "recx", "other/1", "r"]
    for key in keys:
        store.put_bytes(key, key.encode())

    assert list(store.iter_keys()) == sorted(keys)
    assert list(store.iter_keys("rec/")) == ["rec/a/audio", "rec/a/original", "rec/b/original"]
    assert list(store.iter_keys("rec")) == [
        "rec/a/audio",
        "rec/a/original",
        "rec/b/original",
        "recx",
    ]
    assert list(store.iter_keys("rec/a/")) == ["rec/a/audio", "rec/a/original"]
    assert list(store.iter_keys("nothing")) == []


def test_it_rejects_negative_offsets_and_lengths(store: BlobStore) -> None:
    store.put_bytes("k", b"0123456789")

    with pytest.raises(ValueError, match="negative"):
        store.read_at("k", -1, 2)
    with pytest.raises(ValueError, match="negative"):
        store.read_at("k", 0, -2)
    with pytest.raises(ValueError, match="negative"):
        store.iter_range("k", 5, 4)


def test_it_passes_its_health_check(store: BlobStore) -> None:
    store.check()
