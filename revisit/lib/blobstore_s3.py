"""A blob store in one bucket of an S3-compatible server (Ceph RGW, AWS S3, ...), through boto3.

Connection policy (see docs/storage-backends.md): Signature V4, path-style addressing, a connect
timeout and a read timeout per socket operation, and botocore's "standard" retry mode with a fixed
number of attempts for connection errors, timeouts, throttling and HTTP 500/502/503/504. When the
attempts are spent the store raises ``BlobStoreUnavailableError`` saying what to check. A failure
in the middle of a response body (the connection drops while bytes arrive) is not retried here: it
raises ``BlobStoreUnavailableError`` at once and the caller retries the range it needed.

Objects up to ``part_size`` bytes go up in one PUT; larger ones as a multipart upload of
``part_size`` parts, aborted if anything fails, so a partial object is never visible.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from revisit.lib.blobstore import (
    BlobNotFoundError,
    BlobStoreConfigError,
    BlobStoreError,
    BlobStoreUnavailableError,
    InvalidBlobKeyError,
    check_span,
    validate_key,
    validate_prefix,
)

__all__ = ["MIN_PART_SIZE", "S3BlobStore", "S3Policy"]

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # the S3 minimum for every part but the last
DEFAULT_PART_SIZE = 16 * MIB
_DEFAULT_BLOCK = 256 * 1024

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_REFUSED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Forbidden"}
)
# Failures of the connection itself, before or during a response.
_TRANSPORT_ERRORS = (BotoCoreError, Urllib3HTTPError, OSError)

# One boto3 session for the process, so the S3 service model is loaded once; sessions are not
# thread-safe, so clients are made under a lock (the clients themselves are thread-safe).
_SESSION_LOCK = threading.Lock()
_session: boto3.session.Session | None = None


def _new_client(**options: Any) -> Any:
    global _session
    with _SESSION_LOCK:
        if _session is None:
            _session = boto3.session.Session()
        return _session.client("s3", **options)


@dataclass(frozen=True, slots=True)
class S3Policy:
    """Timeouts (seconds) and attempts for every S3 request.

    Worst case before ``BlobStoreUnavailableError``: about ``max_attempts * connect_timeout`` for
    an unreachable host and ``max_attempts * read_timeout`` for a server that stops answering
    (plus botocore's backoff, well under a second for these errors).
    """

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_attempts: int = 3
    max_pool_connections: int = 20

    def __post_init__(self) -> None:
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise BlobStoreConfigError("S3 timeouts must be positive")
        if self.max_attempts < 1:
            raise BlobStoreConfigError("S3 max_attempts must be at least 1")


def _read_full(src: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at EOF (``src.read`` may return short pieces)."""
    pieces: list[bytes] = []
    missing = size
    while missing > 0:
        piece = src.read(missing)
        if not piece:
            break
        pieces.append(piece)
        missing -= len(piece)
    return b"".join(pieces)


class S3BlobStore:
    """Blobs as objects in ``bucket`` at ``endpoint_url``."""

    local = False  # every read is a request over the network

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        policy: S3Policy | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if _BUCKET_RE.fullmatch(bucket) is None:
            raise BlobStoreConfigError(
                "S3 bucket names are 3-63 lowercase letters, digits, '.' and '-'"
            )
        parts = urlsplit(endpoint_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BlobStoreConfigError("the S3 endpoint must be an http:// or https:// URL")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise BlobStoreConfigError(
                "the S3 endpoint URL must not carry credentials, a query or a fragment"
            )
        if part_size < MIN_PART_SIZE:
            raise BlobStoreConfigError(f"S3 part_size must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.policy = policy or S3Policy()
        self.part_size = part_size
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=self.policy.connect_timeout,
            read_timeout=self.policy.read_timeout,
            retries={"mode": "standard", "max_attempts": self.policy.max_attempts},
            max_pool_connections=self.policy.max_pool_connections,
        )
        self._client: Any = _new_client(
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=config,
        )

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    # -- errors -------------------------------------------------------------------------------

    def _translate(self, exc: Exception, key: str | None) -> BlobStoreError:
        """Map a botocore/urllib3 failure to a blob store error that says what to check."""
        where = f"S3 endpoint {self.endpoint_url} (bucket {self.bucket!r})"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket":
                return BlobStoreUnavailableError(
                    f"{where}: the bucket does not exist; create it or check the bucket setting"
                )
            if key is not None and (code in _NOT_FOUND_CODES or status == 404):
                return BlobNotFoundError(key)
            if code in _REFUSED_CODES or status == 403:
                return BlobStoreUnavailableError(
                    f"{where} refused the request ({code or status}); check the access key, "
                    "the secret key and that user's permissions on the bucket"
                )
            return BlobStoreUnavailableError(
                f"{where} answered HTTP {status} {code} after up to "
                f"{self.policy.max_attempts} attempts; check the S3 server's health and logs"
            )
        return BlobStoreUnavailableError(
            f"{where} is unreachable ({type(exc).__name__}) after up to "
            f"{self.policy.max_attempts} attempts (connect timeout "
            f"{self.policy.connect_timeout:g} s, read timeout {self.policy.read_timeout:g} s); "
            "check that the S3 server is running and reachable from this host and that the "
            "endpoint URL is right"
        )

    # -- bucket -------------------------------------------------------------------------------

    def create_bucket(self) -> None:
        """Create the bucket if it does not exist yet (set-up and tests)."""
        try:
            self._client.create_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return
            raise self._translate(exc, None) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._translate(exc, None) from exc

    def check(self) -> None:
        """One HEAD on the bucket: reachable, credentials accepted, bucket present."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                raise BlobStoreUnavailableError(
                    f"S3 endpoint {self.endpoint_url}: bucket {self.bucket!r} does not exist; "
                    "create it or check the bucket setting"
                ) from exc
            raise self._translate(exc, None) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._translate(exc, None) from exc

    # -- writes -------------------------------------------------------------------------------

    def adopt_file(self, key: str, path: Path) -> int:
        """Upload a finished file, then remove the local copy."""
        size = self.put_file(key, path)
        path.unlink()
        return size

    def put_file(self, key: str, path: Path) -> int:
        validate_key(key)
        with open(path, "rb") as src:
            return self.put_stream(key, src)

    def put_bytes(self, key: str, data: bytes) -> int:
        validate_key(key)
        if len(data) <= self.part_size:
            self._put_object(key, data)
            return len(data)
        return self.put_stream(key, io.BytesIO(data))

    def put_stream(self, key: str, src: BinaryIO) -> int:
        validate_key(key)
        first = _read_full(src, self.part_size)
        if len(first) < self.part_size:
            self._put_object(key, first)
            return len(first)
        second = _read_full(src, self.part_size)
        if not second:
            self._put_object(key, first)
            return len(first)
        return self._put_multipart(key, src, first, second)

    def _put_object(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except (ClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, None) from exc

    def _put_multipart(self, key: str, src: BinaryIO, first: bytes, second: bytes) -> int:
        try:
            upload_id = str(
                self._client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
            )
        except (ClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, None) from exc
        done: list[dict[str, Any]] = []
        size = 0
        try:
            part = first
            following: bytes | None = second
            while part:
                answer = self._client.upload_part(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=len(done) + 1,
                    Body=part,
                )
                done.append({"PartNumber": len(done) + 1, "ETag": answer["ETag"]})
                size += len(part)
                if following is not None:
                    part, following = following, None
                else:
                    part = _read_full(src, self.part_size)
            self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": done},
            )
        except BaseException as exc:
            self._abort(key, upload_id)
            if isinstance(exc, ClientError | BotoCoreError | Urllib3HTTPError):
                raise self._translate(exc, None) from exc
            raise
        return size

    def _abort(self, key: str, upload_id: str) -> None:
        """Best effort: drop the parts of a failed upload (a bucket lifecycle rule for incomplete
        multipart uploads catches what this cannot, see docs/storage-backends.md)."""
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, *_TRANSPORT_ERRORS):
            return

    def delete(self, key: str) -> None:
        validate_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
                return
            raise self._translate(exc, None) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._translate(exc, None) from exc

    # -- reads --------------------------------------------------------------------------------

    def size(self, key: str) -> int:
        validate_key(key)
        try:
            answer = self._client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, key) from exc
        return int(answer["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except BlobNotFoundError:
            return False
        return True

    def _get_range(self, key: str, first: int, last: int) -> Any:
        """GET bytes ``first..last`` (inclusive); None if ``first`` is at or past the end."""
        try:
            return self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={first}-{last}"
            )["Body"]
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 416:
                return None  # the object exists; the range starts at or after its end
            raise self._translate(exc, key) from exc
        except _TRANSPORT_ERRORS as exc:
            raise self._translate(exc, key) from exc

    def read_at(self, key: str, offset: int, length: int) -> bytes:
        validate_key(key)
        check_span(offset, length)
        if length == 0:
            self.size(key)  # still report a missing key
            return b""
        body = self._get_range(key, offset, offset + length - 1)
        if body is None:
            return b""
        try:
            return bytes(body.read())
        except _TRANSPORT_ERRORS as exc:
            raise self._translate(exc, key) from exc
        finally:
            body.close()

    def iter_range(
        self, key: str, start: int, end: int, *, block: int = _DEFAULT_BLOCK
    ) -> Iterator[bytes]:
        validate_key(key)
        check_span(start, end - start)
        if block <= 0:
            raise ValueError("block must be positive")
        if start == end:
            self.size(key)
            return iter(())
        body = self._get_range(key, start, end - 1)
        if body is None:
            return iter(())
        return _BodyBlocks(self, key, body, block)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[str]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        try:
            for page in pages:
                for entry in page.get("Contents", ()):
                    key = str(entry["Key"])
                    try:
                        yield validate_key(key)
                    except InvalidBlobKeyError:
                        continue  # an object this store did not write
        except (ClientError, *_TRANSPORT_ERRORS) as exc:
            raise self._translate(exc, None) from exc


class _BodyBlocks(Iterator[bytes]):
    """Pieces of one ranged GET's body; closing (or exhausting) it returns the connection."""

    def __init__(self, store: S3BlobStore, key: str, body: Any, block: int) -> None:
        self._store = store
        self._key = key
        self._body = body
        self._block = block
        self._closed = False

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            piece = bytes(self._body.read(self._block))
        except _TRANSPORT_ERRORS as exc:
            self.close()
            raise self._store._translate(exc, self._key) from exc
        if not piece:
            self.close()
            raise StopIteration
        return piece

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._body.close()

    def __del__(self) -> None:
        # Never raise from garbage collection; a half-read connection is simply dropped.
        with contextlib.suppress(Exception):
            self.close()
