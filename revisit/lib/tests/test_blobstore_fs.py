"""What only the file blob store promises: atomic writes, private modes, sharding, sweeping."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import time
from pathlib import Path

import pytest

from revisit.lib.blobstore import BlobStoreUnavailableError
from revisit.lib.blobstore_fs import FileBlobStore


class SourceFailure(Exception):
    pass


class FailingSource(io.RawIOBase):
    """Gives ``good`` bytes, then raises, as a dropped upload or a failing sealer would."""

    def __init__(self, good: int) -> None:
        self.remaining = good

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            raise SourceFailure("source broke mid-write")
        count = self.remaining if size < 0 else min(size, self.remaining)
        self.remaining -= count
        return b"s" * count


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if not path.is_dir())


def test_it_leaves_no_object_and_no_temp_file_when_the_source_fails(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")

    with pytest.raises(SourceFailure):
        store.put_stream("rec/1/original", FailingSource(3 * 1024 * 1024 + 5))  # type: ignore[arg-type]

    assert not store.exists("rec/1/original")
    assert list(store.iter_keys()) == []
    assert files_under(tmp_path / "blobs") == []


def test_it_keeps_the_old_object_when_a_replacement_fails(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    store.put_bytes("rec/1/original", b"the old sealed bytes")

    with pytest.raises(SourceFailure):
        store.put_stream("rec/1/original", FailingSource(2 * 1024 * 1024))  # type: ignore[arg-type]

    assert store.read_at("rec/1/original", 0, 100) == b"the old sealed bytes"
    assert len(files_under(tmp_path / "blobs")) == 1


def test_it_never_shows_a_partial_object_while_writing(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "blobs")
    seen_during_write: list[tuple[bool, list[str]]] = []

    class WatchingSource(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            if self.reads > 3:
                return b""
            seen_during_write.append((store.exists("growing"), list(store.iter_keys())))
            return b"x" * 1024 * 1024

    assert store.put_stream("growing", WatchingSource()) == 3 * 1024 * 1024  # type: ignore[arg-type]

    assert seen_during_write == [(False, [])] * 3
    assert store.size("growing") == 3 * 1024 * 1024


def test_it_fsyncs_the_file_and_its_folder_before_returning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Durability cannot be observed without cutting power, so spy on fsync instead.
    store = FileBlobStore(tmp_path / "blobs")
    store.put_bytes("warm-up", b"creates the root")
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    store.put_bytes("rec/2/original", b"sealed")

    final = next(path for path in files_under(tmp_path / "blobs") if path.name == "rec+2+original")
    assert any(Path(name).name.startswith(".partial-") for name in synced)
    assert synced[-1] == str(final.parent)


def test_it_writes_files_0600_in_folders_0700(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        store = FileBlobStore(tmp_path / "blobs")
        store.put_bytes("rec/3/original", b"sealed")
    finally:
        os.umask(old_umask)

    paths = [tmp_path / "blobs", *(tmp_path / "blobs").rglob("*")]
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_it_shards_files_into_two_levels_of_hash_folders(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = FileBlobStore(root)
    keys = [f"rec/{n}/original" for n in range(20)]
    for key in keys:
        store.put_bytes(key, b"x")

    for key in keys:
        digest = hashlib.sha256(key.encode()).hexdigest()
        assert (root / digest[:2] / digest[2:4] / key.replace("/", "+")).is_file()
    assert len({path.parent for path in files_under(root)}) > 1


def test_it_sweeps_only_old_partial_files(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    store = FileBlobStore(root)
    store.put_bytes("kept", b"x")
    folder = next(iter(files_under(root))).parent
    old = folder / ".partial-0123456789abcdef"
    young = folder / ".partial-fedcba9876543210"
    old.write_bytes(b"left by a killed writer")
    young.write_bytes(b"a write in progress")
    an_hour_ago = time.time() - 3601
    os.utime(old, (an_hour_ago, an_hour_ago))

    assert list(store.iter_keys()) == ["kept"]
    assert store.sweep_partials(older_than=3600) == 1

    assert not old.exists()
    assert young.exists()
    assert store.exists("kept")


def test_it_fails_its_health_check_on_an_unwritable_folder(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.write_bytes(b"a file where the folder should be")
    store = FileBlobStore(root)

    with pytest.raises(BlobStoreUnavailableError, match="writable"):
        store.check()


def test_it_creates_its_folder_and_leaves_nothing_behind_on_health_checks(tmp_path: Path) -> None:
    root = tmp_path / "data" / "blobs"
    store = FileBlobStore(root)

    store.check()
    store.check()

    assert root.is_dir()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert list(root.iterdir()) == []
