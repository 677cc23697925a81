"""A practice's audit log as CSV: ids, codes, timestamps and event labels, nothing else.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) get a leading apostrophe (the OWASP "CSV Injection" advice). Detail values that are not
plain ids, codes, numbers or booleans are left out, so free text can never reach the file even if
a caller broke the audit_record contract.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import Any, Final

from django.db import transaction

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.models import AuditEvent, AuditHead
from revisit.audit.selectors import AuditFilters, audit_entries_for_practice
from revisit.audit.services import audit_record

COLUMNS: Final = (
    "seq",
    "at",
    "event",
    "event_label",
    "actor_id",
    "subject_type",
    "subject_id",
    "detail",
    "hash",
)
OMITTED: Final = "(omitted)"
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_KEY = re.compile(r"\A[A-Za-z0-9_]{1,40}\Z")
_CODE = re.compile(r"\A[A-Za-z0-9_.:+-]{0,64}\Z")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def event_label(number: int) -> str:
    try:
        return Event(number).label
    except ValueError:
        return f"event {number}"


def safe_detail(detail: Any, *, depth: int = 0) -> dict[str, Any]:
    """Keep ids, codes, numbers and booleans (one level of nesting); omit anything else."""
    if not isinstance(detail, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY.match(key):
            continue
        plain = value is None or isinstance(value, bool | int | float)
        if plain or (isinstance(value, str) and _CODE.match(value)):
            kept[key] = value
        elif isinstance(value, dict) and depth == 0:
            kept[key] = safe_detail(value, depth=1)
        else:
            kept[key] = OMITTED
    return kept


def row(entry: AuditEvent) -> list[str]:
    values: list[object] = [
        entry.seq,
        entry.at.isoformat(timespec="seconds"),
        entry.event,
        event_label(entry.event),
        entry.actor_id,
        entry.subject_type,
        entry.subject_id,
        json.dumps(safe_detail(entry.detail), sort_keys=True, separators=(",", ":")),
        entry.hash,
    ]
    return [cell(value) for value in values]


class _Line:
    """csv.writer writes into this and hands each line back."""

    def write(self, text: str) -> str:
        return text


def audit_log_export(*, admin: User, filters: AuditFilters) -> Iterator[str]:
    """Record the export (Event.EXPORT), then yield the CSV lines of the admin's practice.

    The rows stop at the entry the log had reached when the export was recorded, so the file
    holds exactly the number of rows its audit entry states.
    """
    with transaction.atomic():
        upto = AuditHead.objects.filter(id=1).values_list("seq", flat=True).first() or 0
        entries = audit_entries_for_practice(
            practice_id=admin.practice_id, filters=filters, upto_seq=upto
        )
        audit_record(
            event=Event.EXPORT,
            actor=admin,
            practice=admin.practice_id,
            subject_type="audit_log",
            subject_id=str(admin.practice_id),
            detail={
                "format": "csv",
                "rows": entries.count(),
                "upto": upto,
                "filters": filters.as_detail(),
            },
        )

    def lines() -> Iterator[str]:
        writer = csv.writer(_Line())
        yield writer.writerow(COLUMNS)
        for entry in entries.iterator(chunk_size=2000):
            yield writer.writerow(row(entry))

    return lines()
