"""Reading the audit log for a practice's admin: one practice, optional filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from revisit.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    """Already validated (see forms.AuditFilterForm). ``until`` is exclusive."""

    event: int | None = None
    actor_id: uuid.UUID | None = None
    subject_type: str = ""
    subject_id: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_detail(self) -> dict[str, str | int]:
        """The filters as ids and codes, for the audit entry of an export."""
        detail: dict[str, str | int] = {}
        if self.event is not None:
            detail["event"] = self.event
        if self.actor_id is not None:
            detail["actor"] = str(self.actor_id)
        if self.subject_type:
            detail["subject_type"] = self.subject_type
        if self.subject_id:
            detail["subject_id"] = self.subject_id
        if self.since is not None:
            detail["since"] = self.since.isoformat()
        if self.until is not None:
            detail["until"] = self.until.isoformat()
        return detail


def audit_entries_for_practice(
    *, practice_id: uuid.UUID, filters: AuditFilters, upto_seq: int | None = None
) -> QuerySet[AuditEvent]:
    """Entries of one practice only, oldest first; nothing from any other practice."""
    entries = AuditEvent.objects.filter(practice_id=practice_id)
    if filters.event is not None:
        entries = entries.filter(event=filters.event)
    if filters.actor_id is not None:
        entries = entries.filter(actor_id=filters.actor_id)
    if filters.subject_type:
        entries = entries.filter(subject_type=filters.subject_type)
    if filters.subject_id:
        entries = entries.filter(subject_id=filters.subject_id)
    if filters.since is not None:
        entries = entries.filter(at__gte=filters.since)
    if filters.until is not None:
        entries = entries.filter(at__lt=filters.until)
    if upto_seq is not None:
        entries = entries.filter(seq__lte=upto_seq)
    return entries.order_by("seq")
