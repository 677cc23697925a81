"""The audit page's filters: every value is checked here, so bad input gets a message, not a 500."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.selectors import AuditFilters

EARLIEST = date(1970, 1, 1)
LATEST = date(9998, 12, 31)

SUBJECT_TYPE = RegexValidator(
    r"\A[a-z_]{1,32}\Z", "A subject type is lower-case letters and underscores, such as recording."
)
SUBJECT_ID = RegexValidator(
    r"\A[A-Za-z0-9_.:-]{1,64}\Z",
    "A subject id is letters, digits and - _ . : only, as shown in the log.",
)


class AuditFilterForm(forms.Form):
    event = forms.TypedChoiceField(
        label="Event",
        choices=[("", "Any event"), *((e.value, f"{e.value} {e.label}") for e in Event)],
        coerce=int,
        empty_value=None,
        required=False,
        error_messages={"invalid_choice": "Unknown event type: choose one from the list."},
    )
    actor = forms.CharField(
        label="Actor",
        help_text="An account id, or the email address of someone in this practice.",
        max_length=254,
        required=False,
    )
    subject_type = forms.CharField(
        label="Subject type", max_length=32, required=False, validators=[SUBJECT_TYPE]
    )
    subject_id = forms.CharField(
        label="Subject id", max_length=64, required=False, validators=[SUBJECT_ID]
    )
    date_from = forms.DateField(
        label="From (date)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the start date as YYYY-MM-DD."},
    )
    date_to = forms.DateField(
        label="To (date, included)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the end date as YYYY-MM-DD."},
    )

    def __init__(self, *args: Any, admin: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin = admin

    def clean_actor(self) -> uuid.UUID | None:
        raw = str(self.cleaned_data.get("actor") or "").strip()
        if not raw:
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            pass
        member = (
            User.objects.filter(practice_id=self.admin.practice_id, email=raw.lower())
            .values_list("id", flat=True)
            .first()
        )
        if member is None:
            raise forms.ValidationError(
                "Enter an account id, or the email address of someone in this practice."
            )
        return member

    def _date_in_range(self, name: str) -> date | None:
        value: date | None = self.cleaned_data.get(name)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(
                f"Choose a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
            )
        return value

    def clean_date_from(self) -> date | None:
        return self._date_in_range("date_from")

    def clean_date_to(self) -> date | None:
        return self._date_in_range("date_to")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> AuditFilters:
        """Call only after is_valid(). Dates are whole days in the installation's time zone."""
        data = self.cleaned_data

        def midnight(day: date) -> datetime:
            return timezone.make_aware(datetime.combine(day, time.min))

        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        return AuditFilters(
            event=data.get("event"),
            actor_id=data.get("actor"),
            subject_type=data.get("subject_type") or "",
            subject_id=data.get("subject_id") or "",
            since=midnight(start) if start else None,
            until=midnight(end + timedelta(days=1)) if end else None,
        )
