"""A blob store in one folder of the local disk (the embedded default).

Layout: ``ROOT/ab/cd/NAME`` where ``abcd`` are the first four hex digits of SHA-256(key), so no
folder grows past a few thousand entries, and ``NAME`` is the key with each ``/`` written as ``+``
(a character keys cannot contain). Folders are mode 0700 and files 0600.

A write goes to ``.partial-<random>`` in the target folder, is fsynced, renamed over the final name
and the folder is fsynced, so a reader sees the old object or the new one, never a partial one.
A process killed mid-write can leave a ``.partial-*`` file behind: it is never listed as a key,
and ``sweep_partials`` removes old ones (run it at worker start).
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from revisit.lib.blobstore import (
    BlobNotFoundError,
    BlobStoreUnavailableError,
    InvalidBlobKeyError,
    check_span,
    validate_key,
    validate_prefix,
)

__all__ = ["FileBlobStore"]

_PARTIAL_PREFIX = ".partial-"
_COPY_BLOCK = 1 << 20
_DEFAULT_BLOCK = 256 * 1024


def _is_key(name: str) -> bool:
    try:
        validate_key(name)
    except InvalidBlobKeyError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_PATHS_KEPT = 4096


class FileBlobStore:
    """Blobs as files under ``root`` (created mode 0700 if absent)."""

    local = True  # reads are local-disk reads, usually from the page cache

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._paths: dict[str, Path] = {}  # key -> path: a player reads one key many times

    def __repr__(self) -> str:
        return f"FileBlobStore({str(self.root)!r})"

    # -- paths --------------------------------------------------------------------------------

    def _folder(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("ascii")).hexdigest()
        return self.root / digest[:2] / digest[2:4]

    def _path(self, key: str) -> Path:
        path = self._paths.get(key)
        if path is None:
            validate_key(key)
            path = self._folder(key) / key.replace("/", "+")
            if len(self._paths) >= _PATHS_KEPT:
                self._paths.clear()
            self._paths[key] = path
        return path

    def _make_folder(self, folder: Path) -> None:
        """Create ``folder`` and any missing parents up to the root, fsyncing each new entry."""
        missing: list[Path] = []
        probe = folder
        while not probe.is_dir():
            missing.append(probe)
            if probe == probe.parent:
                break
            probe = probe.parent
        for path in reversed(missing):
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            _fsync_dir(path.parent)

    # -- writes -------------------------------------------------------------------------------

    def put_file(self, key: str, path: Path) -> int:
        with open(path, "rb") as src:
            return self.put_stream(key, src)

    def put_bytes(self, key: str, data: bytes) -> int:
        return self.put_stream(key, io.BytesIO(data))

    def adopt_file(self, key: str, path: Path) -> int:
        """Move a finished file into the store (a rename on the same filesystem, else a copy).

        The caller must have written and fsynced it; afterwards ``path`` no longer exists.
        """
        final = self._path(key)
        folder = final.parent
        self._make_folder(folder)
        size = path.stat().st_size
        if path.stat().st_dev != folder.stat().st_dev:
            self.put_file(key, path)
            path.unlink()
            return size
        os.chmod(path, 0o600)
        os.replace(path, final)
        _fsync_dir(folder)
        return size

    def put_stream(self, key: str, src: BinaryIO) -> int:
        final = self._path(key)
        folder = final.parent
        self._make_folder(folder)
        partial = folder / f"{_PARTIAL_PREFIX}{secrets.token_hex(8)}"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        size = 0
        try:
            with os.fdopen(fd, "wb", closefd=True) as out:
                while block := src.read(_COPY_BLOCK):
                    out.write(block)
                    size += len(block)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        _fsync_dir(folder)
        return size

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _fsync_dir(path.parent)

    def sweep_partials(self, *, older_than: float = 3600.0) -> int:
        """Remove ``.partial-*`` files last modified more than ``older_than`` seconds ago (left by a
        killed writer); return how many were removed. Younger ones may belong to a live write."""
        cutoff = time.time() - older_than
        removed = 0
        for partial in self.root.glob(f"*/*/{_PARTIAL_PREFIX}*"):
            try:
                if partial.stat().st_mtime < cutoff:
                    partial.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # -- reads --------------------------------------------------------------------------------

    def _open(self, key: str) -> int:
        try:
            return os.open(self._path(key), os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFoundError(key) from None

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        check_span(offset, length)
        fd = self._open(key)
        try:
            parts: list[bytes] = []
            while length > 0:
                piece = os.pread(fd, length, offset)
                if not piece:
                    break
                parts.append(piece)
                offset += len(piece)
                length -= len(piece)
            return b"".join(parts)
        finally:
            os.close(fd)

    def iter_range(
        self, key: str, start: int, end: int, *, block: int = _DEFAULT_BLOCK
    ) -> Iterator[bytes]:
        check_span(start, end - start)
        if block <= 0:
            raise ValueError("block must be positive")
        # A missing key fails here, at the call, rather than at the first next().
        self.size(key)
        return self._blocks(key, start, end, block)

    def _blocks(self, key: str, start: int, end: int, block: int) -> Iterator[bytes]:
        fd = self._open(key)
        try:
            position = start
            while position < end:
                piece = os.pread(fd, min(block, end - position), position)
                if not piece:
                    return
                position += len(piece)
                yield piece
        finally:
            os.close(fd)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        keys: list[str] = []
        for path in self.root.glob("*/*/*"):
            if path.name.startswith(_PARTIAL_PREFIX):
                continue
            key = path.name.replace("+", "/")
            if key.startswith(prefix) and _is_key(key):
                keys.append(key)
        return iter(sorted(keys))

    def check(self) -> None:
        """Create the root if needed, then create, write and remove a probe file in it (cheap
        enough for every health check; no shard folders are made)."""
        try:
            self._make_folder(self.root)
            probe = self.root / f"{_PARTIAL_PREFIX}check-{secrets.token_hex(8)}"
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
                probe.unlink(missing_ok=True)
        except OSError as exc:
            raise BlobStoreUnavailableError(
                f"blob folder {self.root} is not usable ({exc.strerror}): check that it exists, "
                "is on a mounted volume and is writable by this user"
            ) from exc
