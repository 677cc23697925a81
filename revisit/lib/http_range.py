"""Decide how to answer a GET or HEAD for a stored media file, honouring one byte range.

A pure function, shared by every media response: it reads the request's ``Range`` and
``If-Range`` header values and the representation's size and strong ETag, and says which status
to send, which bytes of the representation form the body, and the exact response headers.

The rules follow RFC 9110 (HTTP Semantics, June 2022), section numbers below:

- Only GET has range semantics (§14.2): a HEAD gets the headers of a full GET, with no body.
- One range is served as 206 (§14.1.2, §15.3.7): ``a-b`` (``b`` past the end is clamped),
  ``a-`` and the suffix ``-n`` (the last ``n`` bytes; the whole file when ``n`` >= size).
- A valid range nothing can satisfy (``a`` >= size, or ``-0``) is 416 with
  ``Content-Range: bytes */size`` (§14.1.1, §15.5.17).
- Several ranges are answered with the full body: a server MAY ignore Range (§14.2), and one
  ordered stream is what media players need; multipart/byteranges is never produced.
- An invalid ranges-specifier is ignored (§14.2): a unit other than ``bytes`` (unit names are
  case-insensitive, §14.1), ``b`` < ``a``, anything outside the grammar (§14.1.1) such as signs,
  spaces inside a range, non-ASCII digits or control characters, and positions above 2**63 - 1.
- A zero-length representation ignores Range (§14.2 allows it for "no content"): no 206 could
  describe zero bytes (§14.4).
- ``If-Range`` (§13.1.5) keeps the range only when it holds an entity-tag that matches ours by
  strong comparison (§8.8.3.2); a weak tag, another tag or an HTTP-date (we send no
  Last-Modified) means the full body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CACHE_CONTROL", "RangeDecision", "decide_range"]

CACHE_CONTROL = "no-store, private"
_MAX_POSITION = 2**63 - 1  # what a signed 64-bit offset holds; larger positions are invalid
_MAX_FIELD_CHARS = 1024  # longer Range values are ignored without being parsed
_OWS = " \t"  # optional whitespace, RFC 9110 §5.6.3
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # RFC 9110 §5.6.2
_RANGES_SPECIFIER = re.compile(rf"({_TCHARS})=(.*)", re.DOTALL)
_INT_RANGE = re.compile(r"([0-9]+)-([0-9]*)")
_SUFFIX_RANGE = re.compile(r"-([0-9]+)")
_STRONG_ETAG = re.compile(r'"[\x21\x23-\x7e]*"')  # opaque-tag with ASCII etagc, §8.8.3


@dataclass(frozen=True, slots=True)
class RangeDecision:
    """How to answer: the status, the body's byte span and the response headers.

    ``span`` is the inclusive ``(first, last)`` byte positions of the representation to send as
    the body, or None when no body is sent (HEAD, 416, or an empty representation).
    ``headers`` are ``(name, value)`` pairs in a fixed order; the caller adds Content-Type.
    """

    status: int
    span: tuple[int, int] | None
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _IntRange:
    first: int
    last: int | None


@dataclass(frozen=True, slots=True)
class _SuffixRange:
    length: int


def decide_range(
    *, method: str, range_header: str | None, if_range: str | None, size: int, etag: str
) -> RangeDecision:
    """Decide the response to a GET or HEAD of a ``size``-byte representation tagged ``etag``.

    ``range_header`` and ``if_range`` are the raw request header values, or None when absent
    (several field lines of one name must be joined with ", " first, RFC 9110 §5.3).
    ``etag`` is the representation's strong entity-tag including its quotes, e.g. ``"v1"``.
    Raises ValueError for a method other than GET or HEAD, a negative size or a weak or
    malformed ETag: those are programming errors, never client input.
    """
    if method not in ("GET", "HEAD"):
        raise ValueError(f"range decisions cover GET and HEAD, not {method!r}")
    if size < 0:
        raise ValueError("size must not be negative")
    if not _STRONG_ETAG.fullmatch(etag):
        raise ValueError("etag must be a strong entity-tag in double quotes")

    base = (("Accept-Ranges", "bytes"), ("Cache-Control", CACHE_CONTROL), ("ETag", etag))
    full_span = (0, size - 1) if size and method == "GET" else None
    full = RangeDecision(200, full_span, (*base, ("Content-Length", str(size))))
    if method == "HEAD" or range_header is None or size == 0:
        return full
    if if_range is not None and if_range.strip(_OWS) != etag:
        return full
    spec = _single_range(range_header)
    if spec is None:
        return full

    if isinstance(spec, _SuffixRange):
        if spec.length == 0:
            return _unsatisfiable(base, size)
        first, last = max(0, size - spec.length), size - 1
    else:
        if spec.first >= size:
            return _unsatisfiable(base, size)
        first = spec.first
        last = size - 1 if spec.last is None else min(spec.last, size - 1)
    headers = (
        *base,
        ("Content-Length", str(last - first + 1)),
        ("Content-Range", f"bytes {first}-{last}/{size}"),
    )
    return RangeDecision(206, (first, last), headers)


def _unsatisfiable(base: tuple[tuple[str, str], ...], size: int) -> RangeDecision:
    headers = (*base, ("Content-Length", "0"), ("Content-Range", f"bytes */{size}"))
    return RangeDecision(416, None, headers)


def _single_range(value: str) -> _IntRange | _SuffixRange | None:
    """The one byte range a Range value asks for, or None to ignore the header."""
    value = value.strip(_OWS)
    if len(value) > _MAX_FIELD_CHARS:
        return None
    match = _RANGES_SPECIFIER.fullmatch(value)
    if match is None or match[1].lower() != "bytes":
        return None
    # range-set is a list (RFC 9110 §5.6.1): OWS may surround commas, not start the value,
    # and empty elements are ignored.
    first_part, *other_parts = match[2].split(",")
    parts = [first_part.rstrip(_OWS), *(part.strip(_OWS) for part in other_parts)]
    elements = [part for part in parts if part]
    if len(elements) != 1:
        return None  # empty range-set (invalid) or several ranges (full body by choice)
    element = elements[0]
    if suffix := _SUFFIX_RANGE.fullmatch(element):
        length = _position(suffix[1])
        return None if length is None else _SuffixRange(length)
    if int_range := _INT_RANGE.fullmatch(element):
        first = _position(int_range[1])
        last = _position(int_range[2]) if int_range[2] else None
        if first is None or (int_range[2] and last is None):
            return None
        if last is not None and last < first:
            return None  # invalid int-range, RFC 9110 §14.1.1
        return _IntRange(first, last)
    return None


def _position(digits: str) -> int | None:
    """An ASCII-digit string as an int, or None above ``_MAX_POSITION``."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(_MAX_POSITION)):
        return None
    number = int(significant)
    return number if number <= _MAX_POSITION else None
