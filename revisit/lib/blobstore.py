"""Blob stores: where sealed objects live, as opaque bytes under opaque keys.

A blob store never sees plaintext, names or titles: callers hand it bytes that are already sealed
(see docs/storage-format.md) under keys that are ids. Two implementations share one protocol:

- ``FileBlobStore`` (``revisit.lib.blobstore_fs``): files under one folder on the local disk;
- ``S3BlobStore`` (``revisit.lib.blobstore_s3``): one bucket of an S3-compatible server.

Settings build one with ``blobstore_from_url``. See docs/storage-backends.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

__all__ = [
    "MAX_KEY_LENGTH",
    "BlobNotFoundError",
    "BlobStore",
    "BlobStoreConfigError",
    "BlobStoreError",
    "BlobStoreUnavailableError",
    "InvalidBlobKeyError",
    "blobstore_from_url",
    "validate_key",
    "validate_prefix",
]

MAX_KEY_LENGTH = 255

# Segments of letters, digits, '.', '_' and '-', joined by single '/'. A segment starts with a
# letter or digit, so '.', '..' and hidden names (the file store's temp files) are never keys.
_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_PREFIX_RE = re.compile(r"[A-Za-z0-9._/-]*")


class BlobStoreError(Exception):
    """Base class of every error a blob store raises."""


class InvalidBlobKeyError(BlobStoreError, ValueError):
    """A key (or prefix) is outside the allowed character set or shape."""


class BlobNotFoundError(BlobStoreError, KeyError):
    """No object is stored under the key. The message names the key and nothing else."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no blob under key {self.key!r}"


class BlobStoreUnavailableError(BlobStoreError):
    """The store cannot be used right now (S3 unreachable after retries, bad credentials, ...).

    The message says what to check; it never contains credentials.
    """


class BlobStoreConfigError(BlobStoreError, ValueError):
    """A store URL or option is malformed."""


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid blob key, else raise ``InvalidBlobKeyError``.

    Valid keys are 1 to 255 ASCII characters: segments of ``[A-Za-z0-9._-]`` joined by ``/``, each
    starting with a letter or digit. So no absolute paths, no ``.``/``..`` segments, no empty
    segments, no backslashes, spaces, control or non-ASCII characters.
    """
    if not isinstance(key, str):
        raise InvalidBlobKeyError(f"blob key must be a string, not {type(key).__name__}")
    if not key or len(key) > MAX_KEY_LENGTH or _KEY_RE.fullmatch(key) is None:
        raise InvalidBlobKeyError(f"invalid blob key {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if a key may start with it (empty is fine), else raise
    ``InvalidBlobKeyError``."""
    if (
        not isinstance(prefix, str)
        or len(prefix) > MAX_KEY_LENGTH
        or _PREFIX_RE.fullmatch(prefix) is None
        or prefix.startswith("/")
        or ".." in prefix.split("/")
        or "//" in prefix
    ):
        raise InvalidBlobKeyError(f"invalid blob key prefix {prefix!r}")
    return prefix


class BlobStore(Protocol):
    """What every blob store offers. Keys are checked with ``validate_key``.

    Writes replace an existing object atomically: a reader sees the old bytes or the new bytes,
    never a mix and never a partial object.
    """

    local: bool
    """Whether reads are local-disk reads: short enough that an event loop may make them."""

    def put_file(self, key: str, path: Path) -> int:
        """Store the content of the file at ``path``; return its size in bytes."""
        ...

    def adopt_file(self, key: str, path: Path) -> int:
        """Take over a finished, fsynced file (moved or uploaded; ``path`` is gone afterwards)."""
        ...

    def put_stream(self, key: str, src: BinaryIO) -> int:
        """Store everything read from ``src`` until EOF; return the size in bytes."""
        ...

    def put_bytes(self, key: str, data: bytes) -> int:
        """Store ``data``; return its size in bytes."""
        ...

    def size(self, key: str) -> int:
        """Size in bytes; ``BlobNotFoundError`` if absent."""
        ...

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset``, like ``os.pread``.

        Fewer bytes come back only when the object ends first (none if ``offset`` is at or past the
        end). ``BlobNotFoundError`` if absent.
        """
        ...

    def iter_range(self, key: str, start: int, end: int, *, block: int = ...) -> Iterator[bytes]:
        """Yield the bytes ``[start, end)`` (end exclusive, clamped to the size) in pieces of at
        most ``block`` bytes. ``BlobNotFoundError`` (raised before the first piece) if absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix``, in sorted order."""
        ...

    def check(self) -> None:
        """Raise ``BlobStoreUnavailableError`` unless the store can be read and written."""
        ...


def check_span(offset: int, length: int) -> None:
    """Reject negative offsets and lengths (shared by the implementations)."""
    if offset < 0 or length < 0:
        raise ValueError(f"offset and length must not be negative (got {offset}, {length})")


def blobstore_from_url(
    url: str,
    *,
    endpoint_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str = "us-east-1",
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    max_attempts: int | None = None,
) -> BlobStore:
    """Build the store a URL names.

    - ``file:///absolute/folder``: a ``FileBlobStore`` rooted there (S3 options are ignored);
    - ``s3://bucket``: an ``S3BlobStore`` for that bucket; ``endpoint_url``, ``access_key`` and
      ``secret_key`` are required, timeouts and attempts default to the policy in
      docs/storage-backends.md.
    """
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise BlobStoreConfigError("a blob store URL takes no query or fragment")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise BlobStoreConfigError("file blob store URLs look like file:///absolute/folder")
        path = Path(unquote(parts.path))
        if not path.is_absolute() or ".." in path.parts:
            raise BlobStoreConfigError("file blob store URLs need an absolute folder without '..'")
        from revisit.lib.blobstore_fs import FileBlobStore

        return FileBlobStore(path)
    if parts.scheme == "s3":
        if parts.path not in ("", "/"):
            raise BlobStoreConfigError("S3 blob store URLs name only a bucket: s3://bucket")
        if not endpoint_url or not access_key or not secret_key:
            missing = [
                name
                for name, value in (
                    ("endpoint_url", endpoint_url),
                    ("access_key", access_key),
                    ("secret_key", secret_key),
                )
                if not value
            ]
            raise BlobStoreConfigError(f"an s3:// blob store needs {', '.join(missing)}")
        from revisit.lib.blobstore_s3 import S3BlobStore, S3Policy

        defaults = S3Policy()
        policy = S3Policy(
            connect_timeout=connect_timeout or defaults.connect_timeout,
            read_timeout=read_timeout or defaults.read_timeout,
            max_attempts=max_attempts or defaults.max_attempts,
        )
        return S3BlobStore(
            bucket=parts.netloc,
            endpoint_url=endpoint_url,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            policy=policy,
        )
    raise BlobStoreConfigError(
        f"unsupported blob store URL scheme {parts.scheme!r} (use file:// or s3://)"
    )
