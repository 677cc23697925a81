"""tus 1.0.0 header rules, one table row per protocol case.

Quotes in the reasons are from "tus resumable upload protocol" 1.0.0
(https://tus.io/protocols/resumable-upload); its worked examples serve as known answers.
"""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import pytest

from revisit.lib import tus

MAX = 1000
HUGE = "9" * 5000
INT64_PLUS_ONE = str(2**63)
# The protocol's Checksum example: "hello world" with sha1.
HELLO_SHA1 = "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0="
SHA256_OF_HELLO = base64.b64encode(hashlib.sha256(b"hello world").digest()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def status_of(call: object, *args: object, **kwargs: object) -> int:
    assert callable(call)
    with pytest.raises(tus.TusError) as caught:
        call(*args, **kwargs)
    return caught.value.status


# --- Tus-Resumable -------------------------------------------------------------------------------


class VersionCase(NamedTuple):
    reason: str
    value: str | None
    accepted: bool


VERSION_CASES = [
    VersionCase("the one version spoken", "1.0.0", True),
    VersionCase("OWS around a field value is not part of it", " 1.0.0\t", True),
    VersionCase("'MUST be included in every request' but OPTIONS", None, False),
    VersionCase("empty value", "", False),
    VersionCase("an older protocol version", "0.2.2", False),
    VersionCase("a truncated version", "1.0", False),
    VersionCase("a later version", "1.0.1", False),
    VersionCase("a list is a Tus-Version value, not Tus-Resumable", "1.0.0,0.2.2", False),
    VersionCase("a prefixed version", "v1.0.0", False),
    VersionCase("CR LF injection", "1.0.0\r\nX-Evil: 1", False),
]


@pytest.mark.parametrize("case", VERSION_CASES, ids=[c.reason for c in VERSION_CASES])
def test_it_checks_tus_resumable(case: VersionCase) -> None:
    if case.accepted:
        tus.check_version(case.value)
        return
    with pytest.raises(tus.TusError) as caught:
        tus.check_version(case.value)
    # "MUST respond with the 412 Precondition Failed status and MUST include the Tus-Version"
    assert caught.value.status == 412
    assert caught.value.headers["Tus-Version"] == tus.TUS_VERSION


# --- Upload-Length / Upload-Defer-Length on creation ---------------------------------------------


class CreationCase(NamedTuple):
    reason: str
    upload_length: str | None
    defer_length: str | None
    length: int | None = None
    status: int | None = None


CREATION_CASES = [
    CreationCase("a known length", "100", None, length=100),
    CreationCase("an empty upload is complete at once", "0", None, length=0),
    CreationCase("exactly Tus-Max-Size", "1000", None, length=1000),
    CreationCase("leading zeros are still an integer", "00100", None, length=100),
    CreationCase("OWS around the value", " 100\t", None, length=100),
    CreationCase("one byte over Tus-Max-Size: 413", "1001", None, status=413),
    CreationCase("2**63-1 is a number, far over the limit: 413", str(2**63 - 1), None, status=413),
    CreationCase("'MUST be a non-negative integer': negative", "-1", None, status=400),
    CreationCase("a plus sign, which int() would accept", "+1", None, status=400),
    CreationCase("underscores, which int() would accept", "1_000", None, status=400),
    CreationCase("non-ASCII digits, which int() would accept", "\u0661\u0660", None, status=400),
    CreationCase("exponent notation", "1e3", None, status=400),
    CreationCase("a fraction", "1.5", None, status=400),
    CreationCase("hexadecimal", "0x10", None, status=400),
    CreationCase("a space inside", "1 0", None, status=400),
    CreationCase("empty value", "", None, status=400),
    CreationCase("letters", "abc", None, status=400),
    CreationCase("2**63 overflows a signed 64-bit length", INT64_PLUS_ONE, None, status=400),
    CreationCase("a 5000-digit length", HUGE, None, status=400),
    CreationCase("CR LF injection", "100\r\nX-Evil: 1", None, status=400),
    CreationCase("'Upload-Defer-Length: 1' defers the length", None, "1", length=None),
    CreationCase("defer value with OWS", None, " 1 ", length=None),
    CreationCase("'any other value than 1': 0", None, "0", status=400),
    CreationCase("'any other value than 1': true", None, "true", status=400),
    CreationCase("'any other value than 1': 01", None, "01", status=400),
    CreationCase("'MUST include one of' the two: none sent", None, None, status=400),
    CreationCase("both a length and a deferral", "100", "1", status=400),
]


@pytest.mark.parametrize("case", CREATION_CASES, ids=[c.reason for c in CREATION_CASES])
def test_it_parses_the_creation_length(case: CreationCase) -> None:
    kwargs = {"upload_length": case.upload_length, "defer_length": case.defer_length}
    if case.status is not None:
        assert status_of(tus.parse_creation_length, **kwargs, max_size=MAX) == case.status
        return
    assert tus.parse_creation_length(**kwargs, max_size=MAX) == case.length


# --- Upload-Length on PATCH (creation-defer-length) ----------------------------------------------


class PatchLengthCase(NamedTuple):
    reason: str
    value: str | None
    known: int | None
    offset: int
    length: int | None = None
    status: int | None = None


PATCH_LENGTH_CASES = [
    PatchLengthCase("no header keeps the known length", None, 100, 10, length=100),
    PatchLengthCase("no header keeps a deferred length deferred", None, None, 10, length=None),
    PatchLengthCase("'MUST set the Upload-Length header in the next PATCH'", "500", None, 10, 500),
    PatchLengthCase("a length equal to the offset completes the upload", "10", None, 10, 10),
    PatchLengthCase("repeating the same length is not a change", "100", 100, 10, 100),
    PatchLengthCase("'Once set the length MUST NOT be changed'", "200", 100, 10, status=400),
    PatchLengthCase("a length below the bytes already received", "5", None, 10, status=400),
    PatchLengthCase("a deferred length over Tus-Max-Size", "2000", None, 0, status=413),
    PatchLengthCase("a negative deferred length", "-5", None, 0, status=400),
]


@pytest.mark.parametrize("case", PATCH_LENGTH_CASES, ids=[c.reason for c in PATCH_LENGTH_CASES])
def test_it_parses_a_deferred_length_on_patch(case: PatchLengthCase) -> None:
    def parse() -> int | None:
        return tus.parse_patch_length(
            case.value, length=case.known, offset=case.offset, max_size=MAX
        )

    if case.status is not None:
        assert status_of(parse) == case.status
        return
    assert parse() == case.length


# --- Upload-Offset -------------------------------------------------------------------------------


class OffsetCase(NamedTuple):
    reason: str
    value: str | None
    current: int
    status: int | None = None


OFFSET_CASES = [
    OffsetCase("a fresh upload starts at 0", "0", 0),
    OffsetCase("the protocol's resume example", "70", 70),
    OffsetCase("leading zeros", "0070", 70),
    OffsetCase("OWS around the value", " 70 ", 70),
    OffsetCase("'If the offsets do not match ... 409': behind", "70", 100, 409),
    OffsetCase("ahead of the server is a mismatch too", "100", 70, 409),
    OffsetCase("a PATCH without Upload-Offset", None, 0, 400),
    OffsetCase("empty value", "", 0, 400),
    OffsetCase("'MUST be a non-negative integer': negative", "-1", 0, 400),
    OffsetCase("letters", "abc", 0, 400),
    OffsetCase("exponent notation", "1e2", 100, 400),
    OffsetCase("2**63 overflows", INT64_PLUS_ONE, 0, 400),
    OffsetCase("a 5000-digit offset", HUGE, 0, 400),
    OffsetCase("a trailing line feed", "70\n", 70, 400),
]


@pytest.mark.parametrize("case", OFFSET_CASES, ids=[c.reason for c in OFFSET_CASES])
def test_it_checks_upload_offset(case: OffsetCase) -> None:
    if case.status is None:
        tus.check_upload_offset(case.value, current=case.current)
        return
    assert status_of(tus.check_upload_offset, case.value, current=case.current) == case.status


# --- Content-Type of data-carrying requests ------------------------------------------------------


class ContentTypeCase(NamedTuple):
    reason: str
    value: str | None
    accepted: bool


CONTENT_TYPE_CASES = [
    ContentTypeCase(
        "'MUST use Content-Type: application/offset+octet-stream'", tus.OFFSET_CONTENT_TYPE, True
    ),
    ContentTypeCase(
        "media types compare case-insensitively", "Application/Offset+Octet-Stream", True
    ),
    ContentTypeCase(
        "parameters do not change the media type", f"{tus.OFFSET_CONTENT_TYPE}; x=1", True
    ),
    ContentTypeCase("'otherwise ... 415': missing", None, False),
    ContentTypeCase("empty value", "", False),
    ContentTypeCase("a plain octet stream", "application/octet-stream", False),
    ContentTypeCase("a form upload", "multipart/form-data; boundary=x", False),
    ContentTypeCase("CR LF injection", f"{tus.OFFSET_CONTENT_TYPE}\r\nX-Evil: 1", False),
]


@pytest.mark.parametrize("case", CONTENT_TYPE_CASES, ids=[c.reason for c in CONTENT_TYPE_CASES])
def test_it_checks_the_content_type(case: ContentTypeCase) -> None:
    if case.accepted:
        tus.check_content_type(case.value)
        return
    assert status_of(tus.check_content_type, case.value) == 415


# --- Upload-Metadata -----------------------------------------------------------------------------


class MetadataCase(NamedTuple):
    reason: str
    value: str | None
    metadata: dict[str, bytes] | None = None  # None: rejected with 400


METADATA_CASES = [
    MetadataCase("the header is optional", None, {}),
    MetadataCase("a blank header is no metadata", "  ", {}),
    MetadataCase(
        "the protocol's creation example, with a value left out",
        "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential",
        {"filename": b"world_domination_plan.pdf", "is_confidential": b""},
    ),
    MetadataCase(
        "what this portal sends: client and title",
        f"client {b64('carol@demo.revisit.test')},title {b64('Session 3')}",
        {"client": b"carol@demo.revisit.test", "title": b"Session 3"},
    ),
    MetadataCase("an empty value keeping its space", "flag ", {"flag": b""}),
    MetadataCase("OWS after a comma", f"a {b64('x')}, b {b64('y')}", {"a": b"x", "b": b"y"}),
    MetadataCase("a UTF-8 value is just bytes", f"t {b64('Séance')}", {"t": "Séance".encode()}),
    MetadataCase("keys may hold punctuation", f"x-title.v2 {b64('a')}", {"x-title.v2": b"a"}),
    MetadataCase("'All keys MUST be unique'", f"a {b64('x')},a {b64('y')}"),
    MetadataCase("keys are case-sensitive, so A and a differ", "a ,A ", {"a": b"", "A": b""}),
    MetadataCase("an empty pair between commas", f"a {b64('x')},,b {b64('y')}"),
    MetadataCase("a trailing comma", f"a {b64('x')},"),
    MetadataCase("'one or more' pairs: only a comma", ","),
    MetadataCase("a comma then OWS: an empty last pair", f"a {b64('x')}, "),
    MetadataCase("two values for one key", f"a {b64('x')} {b64('y')}"),
    MetadataCase("two spaces before the value", f"a  {b64('x')}"),
    MetadataCase("a tab instead of the space", f"a\t{b64('x')}"),
    MetadataCase("'the value MUST be Base64 encoded': bad padding", "a YQ"),
    MetadataCase("a lone base64 character", "a Y"),
    MetadataCase("characters outside base64", "a Y!=="),
    MetadataCase("url-safe base64 is another alphabet", "a _-8="),
    MetadataCase("padding in the middle", "a YQ==YQ=="),
    MetadataCase("a non-ASCII key", f"tïtle {b64('x')}"),
    MetadataCase("a NUL in the key", f"a\x00b {b64('x')}"),
    MetadataCase("CR LF injection after a value", f"a {b64('x')}\r\nX-Evil: 1"),
    MetadataCase("a bare LF between pairs", f"a {b64('x')}\n,b {b64('y')}"),
    MetadataCase("longer than the limit", "a " + "A" * tus.MAX_METADATA_CHARS),
]


@pytest.mark.parametrize("case", METADATA_CASES, ids=[c.reason for c in METADATA_CASES])
def test_it_parses_upload_metadata(case: MetadataCase) -> None:
    if case.metadata is None:
        assert status_of(tus.parse_upload_metadata, case.value) == 400
        return
    assert tus.parse_upload_metadata(case.value) == case.metadata


def test_it_accepts_metadata_right_at_the_length_limit() -> None:
    value = "abc " + "A" * (tus.MAX_METADATA_CHARS - 4)

    assert len(value) == tus.MAX_METADATA_CHARS
    assert tus.parse_upload_metadata(value)["abc"] == bytes((tus.MAX_METADATA_CHARS - 4) // 4 * 3)


class MetadataTextCase(NamedTuple):
    reason: str
    raw: bytes | None
    text: str | None = None
    status: int | None = None


METADATA_TEXT_CASES = [
    MetadataTextCase("an absent key", None, None),
    MetadataTextCase("plain text", b"Session 3", "Session 3"),
    MetadataTextCase("UTF-8 text", "Séance 3".encode(), "Séance 3"),
    MetadataTextCase("an empty value", b"", ""),
    MetadataTextCase("not UTF-8", b"\xff\xfe", status=400),
    MetadataTextCase("a line feed", b"a\nb", status=400),
    MetadataTextCase("a NUL", b"a\x00b", status=400),
    MetadataTextCase("a C1 control", "a\x85b".encode(), status=400),
    MetadataTextCase("a right-to-left override", "a\u202eb".encode(), status=400),
    MetadataTextCase("longer than asked", b"x" * 501, status=400),
]


@pytest.mark.parametrize("case", METADATA_TEXT_CASES, ids=[c.reason for c in METADATA_TEXT_CASES])
def test_it_reads_metadata_as_text(case: MetadataTextCase) -> None:
    metadata = {} if case.raw is None else {"title": case.raw}
    if case.status is not None:
        assert status_of(tus.metadata_text, metadata, "title") == case.status
        return
    assert tus.metadata_text(metadata, "title") == case.text


# --- Upload-Checksum -----------------------------------------------------------------------------


class ChecksumCase(NamedTuple):
    reason: str
    value: str | None
    algorithm: str | None = None  # None with status None: header absent
    status: int | None = None


CHECKSUM_CASES = [
    ChecksumCase("the header is optional", None),
    ChecksumCase("the protocol's sha1 example", HELLO_SHA1, "sha1"),
    ChecksumCase("sha256 is offered too", f"sha256 {SHA256_OF_HELLO}", "sha256"),
    ChecksumCase("OWS around the value", f" {HELLO_SHA1} ", "sha1"),
    ChecksumCase(
        "'400 ... if the checksum algorithm is not supported'",
        "md5 XrY7u+Ae7tCTyyK7j1rNww==",
        status=400,
    ),
    ChecksumCase("crc32 is not offered", "crc32 DUoRhQ==", status=400),
    ChecksumCase(
        "'uppercase characters are excluded' from names",
        "SHA1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
        status=400,
    ),
    ChecksumCase("an algorithm without a digest", "sha1", status=400),
    ChecksumCase("two spaces", "sha1  Kq5sNclPz7QV2+lfQIuc6R7oRu0=", status=400),
    ChecksumCase("a digest without padding", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0", status=400),
    ChecksumCase("a digest of the wrong length", f"sha1 {SHA256_OF_HELLO}", status=400),
    ChecksumCase("a sha1 digest named sha256", f"sha256 {HELLO_SHA1[5:]}", status=400),
    ChecksumCase(
        "hex instead of base64", "sha1 2aae6c35c94fcfb415dbe95f408b9ce91ee846ed", status=400
    ),
    ChecksumCase("characters outside base64", "sha1 Kq5s!!!!", status=400),
    ChecksumCase("CR LF injection", f"{HELLO_SHA1}\r\nX-Evil: 1", status=400),
    ChecksumCase("an overlong digest", "sha1 " + "A" * 4000, status=400),
    ChecksumCase("an empty value", "", status=400),
]


@pytest.mark.parametrize("case", CHECKSUM_CASES, ids=[c.reason for c in CHECKSUM_CASES])
def test_it_parses_upload_checksum(case: ChecksumCase) -> None:
    if case.status is not None:
        assert status_of(tus.parse_upload_checksum, case.value) == case.status
        return
    checksum = tus.parse_upload_checksum(case.value)
    assert (checksum and checksum.algorithm) == case.algorithm


@pytest.mark.parametrize(
    ("header", "parts"),
    [
        pytest.param(HELLO_SHA1, [b"hello world"], id="the protocol's example in one piece"),
        pytest.param(HELLO_SHA1, [b"hel", b"", b"lo wor", b"ld"], id="the same body in pieces"),
        pytest.param(f"sha256 {SHA256_OF_HELLO}", [b"hello", b" world"], id="sha256 in pieces"),
    ],
)
def test_it_verifies_a_matching_chunk(header: str, parts: list[bytes]) -> None:
    checksum = tus.parse_upload_checksum(header)
    assert checksum is not None
    verifier = tus.ChecksumVerifier(checksum)
    for part in parts:
        verifier.update(part)

    verifier.verify()


@pytest.mark.parametrize(
    ("header", "body"),
    [
        pytest.param(HELLO_SHA1, b"hello worle", id="one byte changed"),
        pytest.param(HELLO_SHA1, b"hello worl", id="the last byte missing"),
        pytest.param(HELLO_SHA1, b"", id="an empty body"),
        pytest.param(f"sha256 {SHA256_OF_HELLO}", b"hello world!", id="one byte extra"),
    ],
)
def test_it_answers_460_for_a_mismatched_chunk(header: str, body: bytes) -> None:
    checksum = tus.parse_upload_checksum(header)
    assert checksum is not None
    verifier = tus.ChecksumVerifier(checksum)
    verifier.update(body)

    with pytest.raises(tus.TusError) as caught:
        verifier.verify()
    assert (caught.value.status, caught.value.title) == (460, "Checksum Mismatch")


# --- request size, method override, gone uploads -------------------------------------------------


class ChunkCase(NamedTuple):
    reason: str
    received: int
    offset: int
    length: int | None
    status: int | None = None


CHUNK_CASES = [
    ChunkCase("the protocol's example: 30 bytes at 70 of 100", 30, 70, 100),
    ChunkCase("an empty PATCH at the end", 0, 100, 100),
    ChunkCase("one byte past the declared length", 31, 70, 100, 413),
    ChunkCase("any byte after completion", 1, 100, 100, 413),
    ChunkCase("a deferred length may grow to Tus-Max-Size", MAX, 0, None),
    ChunkCase("but not past it", MAX + 1, 0, None, 413),
]


@pytest.mark.parametrize("case", CHUNK_CASES, ids=[c.reason for c in CHUNK_CASES])
def test_it_limits_the_bytes_a_request_may_carry(case: ChunkCase) -> None:
    def check() -> None:
        tus.check_chunk_length(
            received=case.received, offset=case.offset, length=case.length, max_size=MAX
        )

    if case.status is None:
        check()
        return
    assert status_of(check) == case.status


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(None, "POST", id="no override keeps the method"),
        pytest.param("PATCH", "PATCH", id="'MUST be interpreted as the request's method'"),
        pytest.param("DELETE", "DELETE", id="termination through a POST"),
        pytest.param("patch", 400, id="method names are case-sensitive"),
        pytest.param("FETCH", 400, id="an unknown method"),
        pytest.param("PATCH\r\nX-Evil: 1", 400, id="CR LF injection"),
    ],
)
def test_it_honours_x_http_method_override(override: str | None, expected: str | int) -> None:
    if isinstance(expected, int):
        assert status_of(tus.effective_method, "POST", override) == expected
        return
    assert tus.effective_method("POST", override) == expected


def test_it_answers_410_for_an_upload_it_remembers_and_404_otherwise() -> None:
    assert tus.missing_upload_error(remembered=True).status == 410
    assert tus.missing_upload_error(remembered=False).status == 404


def test_it_gives_every_error_a_problem_body_and_tus_resumable() -> None:
    with pytest.raises(tus.TusError) as caught:
        tus.parse_creation_length(upload_length="50", defer_length=None, max_size=10)

    problem = caught.value.problem()
    assert problem["status"] == 413
    assert set(problem) == {"type", "title", "status", "detail"}
    assert caught.value.headers["Tus-Resumable"] == tus.TUS_VERSION


# --- response headers ----------------------------------------------------------------------------


def test_it_describes_the_server_in_options_headers() -> None:
    headers = tus.options_headers(max_size=1073741824)

    assert headers["Tus-Version"] == "1.0.0"
    assert headers["Tus-Max-Size"] == "1073741824"
    extensions = headers["Tus-Extension"].split(",")
    assert set(extensions) == {
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "termination",
        "checksum",
        "expiration",
    }
    algorithms = headers["Tus-Checksum-Algorithm"].split(",")
    assert "sha1" in algorithms  # "The Server MUST support at least the SHA1 checksum algorithm"
    assert "sha256" in algorithms


@pytest.mark.parametrize(
    ("offset", "length", "metadata", "expected"),
    [
        pytest.param(
            70,
            100,
            None,
            {"Upload-Offset": "70", "Upload-Length": "100"},
            id="a known length",
        ),
        pytest.param(
            0,
            0,
            None,
            {"Upload-Offset": "0", "Upload-Length": "0"},
            id="'even if the offset is 0'",
        ),
        pytest.param(
            5,
            None,
            None,
            {"Upload-Offset": "5", "Upload-Defer-Length": "1"},
            id="'MUST set Upload-Defer-Length: 1' while deferred",
        ),
        pytest.param(
            0,
            10,
            "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential",
            {
                "Upload-Offset": "0",
                "Upload-Length": "10",
                "Upload-Metadata": "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential",
            },
            id="metadata echoed 'as specified by the Client'",
        ),
    ],
)
def test_it_describes_an_upload_in_head_headers(
    offset: int, length: int | None, metadata: str | None, expected: dict[str, str]
) -> None:
    headers = tus.head_headers(offset=offset, length=length, metadata=metadata)

    assert headers == {**expected, "Tus-Resumable": "1.0.0", "Cache-Control": "no-store"}


def test_it_refuses_to_echo_metadata_that_would_split_a_header() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        tus.head_headers(offset=0, length=1, metadata="a YQ==\r\nX-Evil: 1")


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(
            datetime(2014, 6, 25, 16, 0, tzinfo=UTC),
            "Wed, 25 Jun 2014 16:00:00 GMT",
            id="the protocol's Upload-Expires example",
        ),
        pytest.param(
            datetime(2014, 6, 25, 18, 0, tzinfo=timezone(timedelta(hours=2))),
            "Wed, 25 Jun 2014 16:00:00 GMT",
            id="another zone is converted to GMT",
        ),
    ],
)
def test_it_formats_upload_expires_as_an_http_date(moment: datetime, expected: str) -> None:
    assert tus.http_date(moment) == expected
    assert parsedate_to_datetime(tus.http_date(moment)) == moment


def test_it_refuses_a_naive_expiry() -> None:
    with pytest.raises(ValueError, match="aware"):
        tus.http_date(datetime(2014, 6, 25, 16, 0))  # noqa: DTZ001  # the naive value is the point


# --- what the real tuspy client sends ------------------------------------------------------------


def test_it_accepts_what_tuspy_sends() -> None:
    # tuspy builds its headers without a server: no URL is stored and none is fetched.
    from tusclient.client import TusClient
    from tusclient.request import BaseTusRequest
    from tusclient.uploader.uploader import Uploader

    body = b"hello world, from a real client"
    uploader = Uploader(
        file_stream=io.BytesIO(body),
        client=TusClient("http://127.0.0.1:9/api/v1/uploads"),
        metadata={"client": "carol@demo.revisit.test", "title": "Séance 3, revisited"},
        upload_checksum=True,
    )

    creation = uploader.get_url_creation_headers()
    tus.check_version(creation["Tus-Resumable"])
    length = tus.parse_creation_length(
        upload_length=creation["upload-length"], defer_length=None, max_size=MAX
    )
    metadata = tus.parse_upload_metadata(creation["upload-metadata"])
    assert length == len(body)
    assert tus.metadata_text(metadata, "title") == "Séance 3, revisited"
    assert tus.metadata_text(metadata, "client") == "carol@demo.revisit.test"

    request = BaseTusRequest(uploader)
    request.add_checksum(body)
    patch = request._request_headers  # tuspy keeps the PATCH headers here; no public accessor
    tus.check_version(patch["Tus-Resumable"])
    tus.check_content_type(patch["Content-Type"])
    tus.check_upload_offset(patch["upload-offset"], current=0)
    checksum = tus.parse_upload_checksum(patch["upload-checksum"])
    assert checksum is not None
    verifier = tus.ChecksumVerifier(checksum)
    verifier.update(body)
    verifier.verify()
