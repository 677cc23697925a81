"""The de-identified research export: one row per review (a share), figures only.

Only clients whose research consent stands when the export runs are in it; each appears under a
random pseudonym made for this export alone, so two exports cannot be joined on it. Nothing that
identifies a person or a session goes out: no names, ids, titles, dates, notes or comments.
"""

from __future__ import annotations

import csv
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.models import Consent, ConsentScope
from revisit.review.activity import share_activity
from revisit.review.models import Share

COLUMNS = (
    "participant",  # random per client, per export
    "review",  # random order number within this export
    "recording_seconds",
    "share_days",  # how long the client had access (to the revocation, or the expiry)
    "share_ended",  # revoked | expired | open
    "seconds_played",
    "percent_played",
    "replays",  # passages played more than once
    "replayed_seconds",
    "ratings",  # how many ratings the client gave this review
    "helpfulness",  # the latest rating, 1-7 (empty: none)
    "harm",  # the latest rating, 1-7 (empty: none)
)


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    participants: int


def _pseudonym(known: dict[UUID, str], client_id: UUID) -> str:
    if client_id not in known:
        taken = set(known.values())
        name = f"p{secrets.token_hex(6)}"
        while name in taken:
            name = f"p{secrets.token_hex(6)}"
        known[client_id] = name
    return known[client_id]


def research_rows(*, practice_id: UUID | None = None) -> list[dict[str, object]]:
    """The export's rows, in a random order. Reads consent now: a withdrawn client is absent."""
    consenting = Consent.objects.filter(scope=ConsentScope.RESEARCH, revoked_at=None).values(
        "client_id"
    )
    shares = Share.objects.filter(client_id__in=consenting).select_related("recording")
    if practice_id is not None:
        shares = shares.filter(practice_id=practice_id)
    now = timezone.now()
    names: dict[UUID, str] = {}
    rows: list[dict[str, object]] = []
    for share in shares:
        activity = share_activity(share=share, include_client_text=False)
        ended_at = share.revoked_at or share.expires_at
        ended = (
            "revoked" if share.revoked_at else ("expired" if share.expires_at <= now else "open")
        )
        latest = activity.ratings[-1] if activity.ratings else None
        rows.append(
            {
                "participant": _pseudonym(names, share.client_id),
                "recording_seconds": round(share.recording.duration or 0),
                "share_days": round((ended_at - share.created_at).total_seconds() / 86400, 1),
                "share_ended": ended,
                "seconds_played": activity.seconds_played,
                "percent_played": activity.percent_played
                if activity.percent_played is not None
                else "",
                "replays": len(activity.replays),
                "replayed_seconds": round(sum(e - s for s, e in activity.replays), 1),
                "ratings": len(activity.ratings),
                "helpfulness": latest.helpfulness if latest else "",
                "harm": latest.harm if latest else "",
            }
        )
    # Database order follows creation; a random order keeps it from hinting at when.
    secrets.SystemRandom().shuffle(rows)
    for number, row in enumerate(rows, start=1):
        row["review"] = number
    return rows


def research_export(*, path: Path, practice_id: UUID | None = None) -> ExportSummary:
    """Write the export as CSV (mode 0600) and audit it (EXPORT) in one transaction: the file
    appears only if the audit entry committed."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with transaction.atomic():
            rows = research_rows(practice_id=practice_id)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows(rows)
            summary = ExportSummary(
                rows=len(rows), participants=len({row["participant"] for row in rows})
            )
            audit_record(
                event=Event.EXPORT,
                practice=practice_id,
                detail={
                    "kind": "research",
                    "rows": summary.rows,
                    "participants": summary.participants,
                },
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return summary
