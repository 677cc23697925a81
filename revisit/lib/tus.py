"""The tus 1.0.0 resumable-upload protocol: header parsing, checks and response headers.

Storage and web framework stay outside: a handler reads the headers, calls these functions,
turns a raised `TusError` into its status (with `TusError.headers` and a problem body), and
adds `Tus-Resumable` to every other response it sends.

Implements the core protocol and the extensions creation, creation-with-upload,
creation-defer-length, termination, checksum (sha1, sha256) and expiration, as written in
"tus resumable upload protocol", version 1.0.0, 2016-03-25 (https://tus.io/protocols/resumable-upload).
Where the protocol leaves a choice, this module is strict:

- a number is ASCII digits only, at most 2**63 - 1 (what a signed 64-bit offset holds);
- ``Upload-Length`` together with ``Upload-Defer-Length`` is a 400;
- ``Upload-Metadata`` keys are printable ASCII without commas and values must be valid
  standard base64; a bad pair is a 400, never silently dropped;
- headers carrying control characters (such as CR or LF) or over their size limit are a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "MAX_METADATA_CHARS",
    "OFFSET_CONTENT_TYPE",
    "TUS_EXTENSIONS",
    "TUS_VERSION",
    "ChecksumVerifier",
    "TusError",
    "UploadChecksum",
    "check_chunk_length",
    "check_content_type",
    "check_upload_offset",
    "check_version",
    "effective_method",
    "head_headers",
    "http_date",
    "metadata_text",
    "missing_upload_error",
    "options_headers",
    "parse_creation_length",
    "parse_patch_length",
    "parse_upload_checksum",
    "parse_upload_metadata",
]

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = (
    "creation",
    "creation-with-upload",
    "creation-defer-length",
    "termination",
    "checksum",
    "expiration",
)
CHECKSUM_ALGORITHMS = ("sha1", "sha256")  # sha1 is the one the protocol requires
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_CHARS = 4096

_MAX_NUMBER = 2**63 - 1
_OWS = " \t"
_DIGITS = re.compile(r"[0-9]+")
_METADATA_KEY = re.compile(r"[\x21-\x2b\x2d-\x7e]+")  # printable ASCII, no space or comma
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_CHECKSUM = re.compile(r"([a-z0-9-]{1,32}) ([A-Za-z0-9+/=]{1,128})")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
# C0/C1 controls, line and paragraph separators, bidirectional overrides and isolates
_TEXT_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST"})
_TITLES = {
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    460: "Checksum Mismatch",
}


class TusError(Exception):
    """A request the protocol answers with an error ``status``.

    ``headers`` are response headers the status requires (always ``Tus-Resumable``; also
    ``Tus-Version`` on 412). `problem` gives an RFC 9457 problem body.
    """

    def __init__(
        self, status: int, title: str, detail: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = {"Tus-Resumable": TUS_VERSION, **(headers or {})}

    def problem(self) -> dict[str, str | int]:
        """The RFC 9457 problem JSON object for this error."""
        return {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }


def _error(status: int, detail: str) -> TusError:
    return TusError(status, _TITLES[status], detail)


@dataclass(frozen=True, slots=True)
class UploadChecksum:
    """A parsed ``Upload-Checksum``: the algorithm name and the expected raw digest."""

    algorithm: str
    digest: bytes


class ChecksumVerifier:
    """Hashes a request body as it streams in, then checks it against ``Upload-Checksum``."""

    def __init__(self, checksum: UploadChecksum) -> None:
        self._expected = checksum.digest
        self._hash = hashlib.new(checksum.algorithm, usedforsecurity=False)  # integrity only

    def update(self, data: bytes) -> None:
        """Feed the next part of the body."""
        self._hash.update(data)

    def verify(self) -> None:
        """Raise a 460 TusError unless the body seen so far has the expected digest.

        On failure the caller discards the whole chunk and leaves the offset unchanged.
        """
        if not hmac.compare_digest(self._hash.digest(), self._expected):
            raise _error(460, "The chunk does not match its Upload-Checksum.")


def check_version(value: str | None) -> None:
    """Check ``Tus-Resumable`` (every request but OPTIONS): 412 with Tus-Version if not ours."""
    if value is None or value.strip(_OWS) != TUS_VERSION:
        raise TusError(
            412,
            _TITLES[412],
            f"This server speaks tus {TUS_VERSION}; send Tus-Resumable: {TUS_VERSION}.",
            headers={"Tus-Version": TUS_VERSION},
        )


def effective_method(method: str, override: str | None) -> str:
    """The request's method, replaced by ``X-HTTP-Method-Override`` when that is present."""
    if override is None:
        return method
    name = override.strip(_OWS)
    if name not in _METHODS:
        raise _error(400, "X-HTTP-Method-Override names no method this endpoint knows.")
    return name


def parse_creation_length(
    *, upload_length: str | None, defer_length: str | None, max_size: int
) -> int | None:
    """The length a creation POST declares, or None when it is deferred.

    Exactly one of ``Upload-Length`` and ``Upload-Defer-Length: 1`` must be present (400),
    and the length must not exceed ``max_size`` (413).
    """
    if upload_length is not None and defer_length is not None:
        raise _error(400, "Send either Upload-Length or Upload-Defer-Length, not both.")
    if defer_length is not None:
        if defer_length.strip(_OWS) != "1":
            raise _error(400, "Upload-Defer-Length must be 1.")
        return None
    if upload_length is None:
        raise _error(400, "Upload-Length or Upload-Defer-Length: 1 is required.")
    return _length(upload_length, max_size=max_size)


def parse_patch_length(
    value: str | None, *, length: int | None, offset: int, max_size: int
) -> int | None:
    """The upload's length after a PATCH that may carry ``Upload-Length`` (deferred length).

    ``length`` is the length known so far (None while deferred) and ``offset`` the current
    offset. A known length cannot change (400); a new one cannot be below the offset (400)
    or above ``max_size`` (413).
    """
    if value is None:
        return length
    declared = _length(value, max_size=max_size)
    if length is not None and declared != length:
        raise _error(400, "Upload-Length is already set and cannot change.")
    if declared < offset:
        raise _error(400, "Upload-Length is smaller than the bytes already received.")
    return declared


def check_upload_offset(value: str | None, *, current: int) -> None:
    """Check a PATCH's ``Upload-Offset``: 400 if missing or malformed, 409 unless ``current``."""
    if value is None:
        raise _error(400, "Upload-Offset is required.")
    claimed = _number(value, "Upload-Offset")
    if claimed != current:
        raise _error(409, f"Upload-Offset {claimed} does not match the upload's offset {current}.")


def check_content_type(value: str | None) -> None:
    """Check that a body-carrying PATCH or POST is ``application/offset+octet-stream`` (415).

    The media type compares case-insensitively and parameters are ignored (RFC 9110 §8.3.1).
    """
    media_type = (value or "").split(";", 1)[0].strip(_OWS).lower()
    if media_type != OFFSET_CONTENT_TYPE:
        raise _error(415, f"Upload data must be sent as {OFFSET_CONTENT_TYPE}.")


def check_chunk_length(*, received: int, offset: int, length: int | None, max_size: int) -> None:
    """Raise 413 if ``received`` body bytes at ``offset`` would pass the upload's end.

    The end is ``length``, or ``max_size`` while the length is deferred. Call it with the
    declared Content-Length before reading, and with the running count while streaming.
    """
    end = max_size if length is None else length
    if offset + received > end:
        raise _error(413, f"The upload ends at byte {end}; this request goes past it.")


def parse_upload_metadata(value: str | None) -> dict[str, bytes]:
    """Decode ``Upload-Metadata`` (``key base64value`` pairs, comma-separated) into a dict.

    A missing or blank header is no metadata. A value may be absent (an empty value). Bad
    keys, duplicate keys, invalid base64, control characters or a header longer than
    `MAX_METADATA_CHARS` are a 400.
    """
    if value is None or not value.strip(_OWS):
        return {}
    if len(value) > MAX_METADATA_CHARS:
        raise _error(400, f"Upload-Metadata is longer than {MAX_METADATA_CHARS} characters.")
    metadata: dict[str, bytes] = {}
    for pair in value.split(","):
        key, _, encoded = pair.strip(_OWS).partition(" ")
        if not _METADATA_KEY.fullmatch(key):
            raise _error(400, "Upload-Metadata keys must be printable ASCII without , or space.")
        if key in metadata:
            raise _error(400, f"Upload-Metadata repeats the key {key!r}.")
        metadata[key] = _base64(encoded)
    return metadata


def metadata_text(metadata: Mapping[str, bytes], key: str, *, max_chars: int = 500) -> str | None:
    """A metadata value as text (None if absent): UTF-8, no control characters, not too long."""
    raw = metadata.get(key)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(400, f"Upload-Metadata {key!r} is not UTF-8 text.") from None
    if _TEXT_CONTROL.search(text) or len(text) > max_chars:
        raise _error(400, f"Upload-Metadata {key!r} has control characters or is too long.")
    return text


def parse_upload_checksum(value: str | None) -> UploadChecksum | None:
    """Parse ``Upload-Checksum: <algorithm> <base64 digest>``; None when absent.

    An unsupported algorithm, bad base64 or a digest of the wrong length is a 400.
    """
    if value is None:
        return None
    match = _CHECKSUM.fullmatch(value.strip(_OWS))
    if match is None:
        raise _error(400, "Upload-Checksum must be '<algorithm> <base64 digest>'.")
    algorithm, encoded = match[1], match[2]
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise _error(400, f"Unsupported checksum algorithm; use one of {CHECKSUM_ALGORITHMS}.")
    digest = _base64(encoded)
    if len(digest) != hashlib.new(algorithm, usedforsecurity=False).digest_size:
        raise _error(400, f"An {algorithm} digest has a different length.")
    return UploadChecksum(algorithm, digest)


def missing_upload_error(*, remembered: bool) -> TusError:
    """The error for an upload that is gone: 410 if the server remembers it ended, else 404."""
    if remembered:
        return _error(410, "The upload expired or was terminated; start a new one.")
    return _error(404, "No such upload.")


def options_headers(*, max_size: int) -> dict[str, str]:
    """Response headers for OPTIONS: the version, extensions, size limit and checksums."""
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": ",".join(TUS_EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }


def head_headers(*, offset: int, length: int | None, metadata: str | None) -> dict[str, str]:
    """Response headers for HEAD on an upload.

    ``length`` is None while deferred; ``metadata`` is the ``Upload-Metadata`` value the
    creation request sent (already validated by `parse_upload_metadata`), echoed as sent.
    """
    if metadata is not None and not _PRINTABLE_ASCII.fullmatch(metadata):
        raise ValueError("stored Upload-Metadata must be printable ASCII")
    headers = {"Tus-Resumable": TUS_VERSION, "Upload-Offset": str(offset)}
    if length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(length)
    if metadata:
        headers["Upload-Metadata"] = metadata
    headers["Cache-Control"] = "no-store"
    return headers


def http_date(moment: datetime) -> str:
    """An aware datetime as an RFC 9110 IMF-fixdate, e.g. for ``Upload-Expires``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("http_date needs a timezone-aware datetime")
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _length(value: str, *, max_size: int) -> int:
    length = _number(value, "Upload-Length")
    if length > max_size:
        raise _error(413, f"The upload is larger than this server's limit of {max_size} bytes.")
    return length


def _number(value: str, name: str) -> int:
    digits = value.strip(_OWS)
    if not _DIGITS.fullmatch(digits):
        raise _error(400, f"{name} must be a non-negative integer.")
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(_MAX_NUMBER)) or int(significant) > _MAX_NUMBER:
        raise _error(400, f"{name} is out of range.")
    return int(significant)


def _base64(encoded: str) -> bytes:
    if not _BASE64.fullmatch(encoded):
        raise _error(400, "A value is not valid base64.")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise _error(400, "A value is not valid base64.") from None
