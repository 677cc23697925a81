"""Hashing rules of the audit chain, kept free of Django so they can be checked by hand."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(fields: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no spaces, ASCII only."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_fields(
    *,
    seq: int,
    at: datetime,
    event: int,
    practice_id: str | None,
    actor_id: str | None,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "event": event,
        "practice": practice_id,
        "actor": actor_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "detail": detail,
    }


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(fields)).hexdigest()
