"""Permissions-Policy header values: which powerful browser features a page may use.

The header is a structured-field dictionary (RFC 8941) of feature names to allowlists, as the W3C
Permissions Policy specification defines it: `camera=()` turns a feature off for the page and
everything it embeds, `fullscreen=(self)` allows it for this origin only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

Policy = Mapping[str, Sequence[str]]

_FEATURE = re.compile(r"[a-z][a-z0-9-]*")
_TOKENS = frozenset({"self", "*", "src"})
_ORIGIN = re.compile(r"(https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?)/?")


class PolicyError(ValueError):
    """A policy in settings that cannot be written as a header; the message says what to fix."""


def _allowlist_item(feature: str, item: str) -> str:
    if item in _TOKENS:
        return item
    origin = _ORIGIN.fullmatch(item)
    if origin is None:
        raise PolicyError(
            f"{feature}: {item!r} is neither self, * nor an origin such as https://example.org"
        )
    return f'"{origin.group(1)}"'


def policy_header(policy: Policy) -> str:
    """The header value for a policy, features in a stable (sorted) order."""
    entries = []
    for feature in sorted(policy):
        if not _FEATURE.fullmatch(feature):
            raise PolicyError(f"{feature!r} is not a feature name (lower-case letters and '-')")
        items = " ".join(_allowlist_item(feature, item) for item in policy[feature])
        entries.append(f"{feature}=({items})")
    return ", ".join(entries)


def policy_for_path(path: str, base: Policy, by_path: Mapping[str, Policy]) -> dict[str, list[str]]:
    """The base policy with the overrides of the longest path prefix that matches, if any."""
    merged = {feature: list(items) for feature, items in base.items()}
    matches = [prefix for prefix in by_path if path.startswith(prefix)]
    if matches:
        for feature, items in by_path[max(matches, key=len)].items():
            merged[feature] = list(items)
    return merged
