"""Range and If-Range decisions, one table row per RFC 9110 case (sections in the reasons)."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revisit.lib.http_range import CACHE_CONTROL, decide_range

ETAG = '"rec-7f3a"'
SIZE = 1000


class Case(NamedTuple):
    reason: str
    range_header: str | None
    status: int
    span: tuple[int, int] | None
    if_range: str | None = None
    size: int = SIZE
    method: str = "GET"


FULL = (0, SIZE - 1)

CASES = [
    # --- one satisfiable range: 206 -------------------------------------------------------
    Case("first 500 bytes, §14.1.2 example", "bytes=0-499", 206, (0, 499)),
    Case("second 500 bytes, §14.1.2 example", "bytes=500-999", 206, (500, 999)),
    Case("a single byte", "bytes=0-0", 206, (0, 0)),
    Case("the last byte by position", "bytes=999-999", 206, (999, 999)),
    Case("open-ended a- runs to the end", "bytes=500-", 206, (500, 999)),
    Case("open-ended from zero is the whole file as 206", "bytes=0-", 206, FULL),
    Case("last-pos past the end is clamped, §14.1.2", "bytes=0-5000", 206, FULL),
    Case("last-pos one past the end is clamped", "bytes=999-1000", 206, (999, 999)),
    Case("last-pos at 2**63-1 is valid and clamped", "bytes=0-9223372036854775807", 206, FULL),
    Case("suffix: the final 500 bytes", "bytes=-500", 206, (500, 999)),
    Case("suffix of one byte", "bytes=-1", 206, (999, 999)),
    Case("suffix equal to the size is the whole file", "bytes=-1000", 206, FULL),
    Case("suffix longer than the file is the whole file", "bytes=-5000", 206, FULL),
    Case("range unit names are case-insensitive, §14.1", "BYTES=0-9", 206, (0, 9)),
    Case("leading zeros are 1*DIGIT too", "bytes=0009-0019", 206, (9, 19)),
    Case("OWS around the field value is not part of it, §5.5", " bytes=0-9\t", 206, (0, 9)),
    Case("empty list elements are ignored, §5.6.1", "bytes=0-9,", 206, (0, 9)),
    Case("OWS after a comma is allowed, §5.6.1", "bytes=, 0-9", 206, (0, 9)),
    Case("OWS then comma before the range", "bytes= ,0-9", 206, (0, 9)),
    Case("a one-byte file, open-ended", "bytes=0-", 206, (0, 0), size=1),
    Case("If-Range with our strong ETag keeps the range, §13.1.5", "bytes=0-9", 206, (0, 9), ETAG),
    Case("If-Range value OWS is trimmed", "bytes=0-9", 206, (0, 9), f" {ETAG} "),
    # --- a valid range nothing satisfies: 416 ---------------------------------------------
    Case("first-pos equal to the size, §14.1.1", "bytes=1000-", 416, None),
    Case("first-pos past the end, closed range", "bytes=1000-2000", 416, None),
    Case("first-pos far past the end", "bytes=5000-5000", 416, None),
    Case("first-pos at 2**63-1", "bytes=9223372036854775807-", 416, None),
    Case("zero suffix-length is unsatisfiable, §14.1.1", "bytes=-0", 416, None),
    Case("zero suffix-length with leading zeros", "bytes=-000", 416, None),
    Case("a one-byte file has no byte 1", "bytes=1-", 416, None, size=1),
    Case("If-Range match does not rescue an unsatisfiable range", "bytes=1000-", 416, None, ETAG),
    # --- full body: no range, several ranges, or the header ignored -----------------------
    Case("no Range header", None, 200, FULL),
    Case("several ranges are served whole by choice, §14.2 MAY ignore", "bytes=0-1,5-6", 200, FULL),
    Case("overlapping ranges", "bytes=0-499,0-499", 200, FULL),
    Case("several ranges, none satisfiable: still whole", "bytes=2000-,3000-", 200, FULL),
    Case("a range plus a suffix", "bytes=0-0,-1", 200, FULL),
    Case("several ranges, one malformed", "bytes=0-5,junk", 200, FULL),
    Case("last-pos below first-pos is invalid, §14.1.1", "bytes=5-4", 200, FULL),
    Case("empty field value", "", 200, FULL),
    Case("only whitespace", "   ", 200, FULL),
    Case("unit with no range-set", "bytes=", 200, FULL),
    Case("unit with no equals sign", "bytes", 200, FULL),
    Case("range-set without a unit", "=0-5", 200, FULL),
    Case("only commas: a list needs one element", "bytes=,", 200, FULL),
    Case("other range unit is ignored, §14.2", "items=0-5", 200, FULL),
    Case("a space instead of '=' (Content-Range syntax)", "bytes 0-5", 200, FULL),
    Case("whitespace around '='", "bytes = 0-5", 200, FULL),
    Case("whitespace right after '='", "bytes= 0-5", 200, FULL),
    Case("whitespace inside a range", "bytes=0 -5", 200, FULL),
    Case("whitespace after the dash", "bytes=0- 5", 200, FULL),
    Case("a dash alone", "bytes=-", 200, FULL),
    Case("letters", "bytes=abc", 200, FULL),
    Case("two dashes", "bytes=--5", 200, FULL),
    Case("negative first-pos", "bytes=-5-10", 200, FULL),
    Case("plus sign, which int() would accept", "bytes=+5-10", 200, FULL),
    Case("underscore digits, which int() would accept", "bytes=1_0-20", 200, FULL),
    Case("hexadecimal", "bytes=0x10-20", 200, FULL),
    Case("decimal fraction", "bytes=0.5-1", 200, FULL),
    Case("three positions", "bytes=1-2-3", 200, FULL),
    Case("a trailing semicolon", "bytes=0-5;", 200, FULL),
    Case("doubled equals sign", "bytes==0-5", 200, FULL),
    Case("non-ASCII digits, which int() would accept", "bytes=\u0660-\u0665", 200, FULL),
    Case("a trailing newline is not OWS", "bytes=0-5\n", 200, FULL),
    Case("CR LF header injection", "bytes=0-5\r\nX-Evil: 1", 200, FULL),
    Case("NUL byte", "bytes=0-5\x00", 200, FULL),
    Case("last-pos above 2**63-1", "bytes=0-99999999999999999999", 200, FULL),
    Case("first-pos of 2**63", "bytes=9223372036854775808-", 200, FULL),
    Case("suffix-length of 2**63", "bytes=-9223372036854775808", 200, FULL),
    Case("a 900-digit position", "bytes=0-" + "9" * 900, 200, FULL),
    Case("a 5000-digit value is not parsed at all", "bytes=0-" + "9" * 5000, 200, FULL),
    Case("If-Range without Range is ignored, §13.1.5", None, 200, FULL, ETAG),
    Case("If-Range with another ETag", "bytes=0-9", 200, FULL, '"rec-0000"'),
    Case("If-Range with our tag marked weak, §13.1.5", "bytes=0-9", 200, FULL, f"W/{ETAG}"),
    Case(
        "If-Range with an HTTP-date: no Last-Modified",
        "bytes=0-9",
        200,
        FULL,
        "Sun, 06 Nov 1994 08:49:37 GMT",
    ),
    Case("If-Range with an unquoted tag", "bytes=0-9", 200, FULL, "rec-7f3a"),
    Case("If-Range with a list of tags", "bytes=0-9", 200, FULL, f'{ETAG}, "x"'),
    Case("If-Range with a wildcard", "bytes=0-9", 200, FULL, "*"),
    Case("If-Range mismatch beats an unsatisfiable range", "bytes=1000-", 200, FULL, '"old"'),
    Case("If-Range match with several ranges", "bytes=0-1,3-4", 200, FULL, ETAG),
    # --- HEAD and empty files ---------------------------------------------------------------
    Case("HEAD without Range: headers only", None, 200, None, method="HEAD"),
    Case("HEAD ignores Range, §14.2 (GET only)", "bytes=0-9", 200, None, method="HEAD"),
    Case("HEAD ignores an unsatisfiable Range", "bytes=5000-", 200, None, method="HEAD"),
    Case("empty file, no Range: empty 200", None, 200, None, size=0),
    Case("empty file ignores a-, §14.2 'no content'", "bytes=0-", 200, None, size=0),
    Case("empty file ignores a suffix it cannot express", "bytes=-5", 200, None, size=0),
    Case("empty file ignores -0", "bytes=-0", 200, None, size=0),
]


@pytest.mark.parametrize("case", CASES, ids=[case.reason for case in CASES])
def test_it_decides_each_rfc_case(case: Case) -> None:
    decision = decide_range(
        method=case.method,
        range_header=case.range_header,
        if_range=case.if_range,
        size=case.size,
        etag=ETAG,
    )

    assert (decision.status, decision.span) == (case.status, case.span)


def test_it_has_a_row_for_every_outcome() -> None:
    assert len(CASES) >= 40
    assert {case.status for case in CASES} == {200, 206, 416}
    assert len({case.reason for case in CASES}) == len(CASES)


def test_it_sends_content_range_and_length_on_206() -> None:
    decision = decide_range(
        method="GET", range_header="bytes=100-", if_range=None, size=250, etag=ETAG
    )

    assert dict(decision.headers) == {
        "Accept-Ranges": "bytes",
        "Cache-Control": "no-store, private",
        "ETag": ETAG,
        "Content-Length": "150",
        "Content-Range": "bytes 100-249/250",
    }


def test_it_sends_star_content_range_on_416() -> None:
    decision = decide_range(
        method="GET", range_header="bytes=-0", if_range=None, size=250, etag=ETAG
    )

    headers = dict(decision.headers)
    assert headers["Content-Range"] == "bytes */250"
    assert headers["Content-Length"] == "0"
    assert headers["Accept-Ranges"] == "bytes"


def test_it_sends_full_length_without_content_range_on_200() -> None:
    decision = decide_range(
        method="GET", range_header="bytes=0-1,4-5", if_range=None, size=250, etag=ETAG
    )

    headers = dict(decision.headers)
    assert headers["Content-Length"] == "250"
    assert "Content-Range" not in headers
    assert headers["Cache-Control"] == CACHE_CONTROL


def test_it_gives_head_the_headers_of_a_plain_get() -> None:
    get = decide_range(method="GET", range_header=None, if_range=None, size=250, etag=ETAG)
    head = decide_range(method="HEAD", range_header="bytes=0-9", if_range=ETAG, size=250, etag=ETAG)

    assert head.headers == get.headers
    assert head.span is None
    assert get.span == (0, 249)


def test_it_sends_no_header_value_with_a_line_break() -> None:
    for case in CASES:
        decision = decide_range(
            method=case.method,
            range_header=case.range_header,
            if_range=case.if_range,
            size=case.size,
            etag=ETAG,
        )
        assert all("\r" not in v and "\n" not in v for _, v in decision.headers), case.reason


@pytest.mark.parametrize(
    ("method", "size", "etag"),
    [
        pytest.param("POST", 10, ETAG, id="a method without range semantics"),
        pytest.param("get", 10, ETAG, id="methods are case-sensitive"),
        pytest.param("GET", -1, ETAG, id="a negative size"),
        pytest.param("GET", 10, f"W/{ETAG}", id="a weak ETag cannot back If-Range"),
        pytest.param("GET", 10, "rec-7f3a", id="an ETag without quotes"),
        pytest.param("GET", 10, '"a\r\nX: 1"', id="an ETag that would inject a header"),
    ],
)
def test_it_rejects_programming_errors(method: str, size: int, etag: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        decide_range(method=method, range_header=None, if_range=None, size=size, etag=etag)


@st.composite
def _sized_valid_range(draw: st.DrawFn) -> tuple[int, str]:
    size = draw(st.integers(min_value=1, max_value=2**62))
    first = draw(st.integers(min_value=0, max_value=size - 1))
    form = draw(st.sampled_from(["a-b", "a-", "-n"]))
    if form == "a-b":
        last = draw(st.integers(min_value=first, max_value=2**63 - 1))
        return size, f"bytes={first}-{last}"
    if form == "a-":
        return size, f"bytes={first}-"
    suffix = draw(st.integers(min_value=1, max_value=2**63 - 1))
    return size, f"bytes=-{suffix}"


@given(_sized_valid_range())
def test_it_keeps_any_valid_single_range_inside_the_file(sized: tuple[int, str]) -> None:
    size, header = sized

    decision = decide_range(method="GET", range_header=header, if_range=None, size=size, etag=ETAG)

    assert decision.status == 206
    assert decision.span is not None
    first, last = decision.span
    assert 0 <= first <= last < size
    headers = dict(decision.headers)
    assert int(headers["Content-Length"]) == last - first + 1
    assert headers["Content-Range"] == f"bytes {first}-{last}/{size}"


@given(
    header=st.text(max_size=60) | st.from_regex(r"[ \t]?[bB]ytes=[-0-9, \t]{0,24}", fullmatch=True),
    if_range=st.none() | st.text(max_size=20),
    size=st.integers(min_value=0, max_value=10_000),
)
def test_it_answers_any_header_text_without_raising(
    header: str, if_range: str | None, size: int
) -> None:
    decision = decide_range(
        method="GET", range_header=header, if_range=if_range, size=size, etag=ETAG
    )

    assert decision.status in (200, 206, 416)
    if decision.span is not None:
        assert 0 <= decision.span[0] <= decision.span[1] < size
