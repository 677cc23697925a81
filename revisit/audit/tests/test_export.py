"""CSV export of the audit page: same filters, own practice only, no PHI, no formulas, audited."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from revisit.audit.events import Event
from revisit.audit.export import COLUMNS, OMITTED, cell, safe_detail
from revisit.audit.models import AuditEvent
from revisit.audit.services import audit_record, audit_verify
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db
EXPORT = "/practice/audit/export.csv"


def _entry(practice: object, **fields: object) -> None:
    with transaction.atomic():
        audit_record(practice=practice, **fields)  # type: ignore[arg-type]


def _body(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def _rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_body(response))))


def test_it_exports_its_own_practice_with_the_same_filters(world: World):
    _entry(world.practice, event=Event.DOWNLOAD, actor=world.carol, subject_id="ours-1")
    _entry(world.practice, event=Event.SIGN_IN, actor=world.carol, subject_id="ours-2")
    _entry(world.other_practice, event=Event.DOWNLOAD, actor=world.eve, subject_id="theirs-1")
    response = portal_client(world.ada).post(EXPORT, {"event": int(Event.DOWNLOAD)})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    assert response["Cache-Control"] == "no-store, private"
    rows = _rows(response)
    assert [row["subject_id"] for row in rows] == ["ours-1"]
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["event"] == "403" and rows[0]["event_label"] == "download"
    assert rows[0]["actor_id"] == str(world.carol.pk)
    assert rows[0]["hash"] == AuditEvent.objects.get(subject_id="ours-1").hash


def test_it_records_the_export_and_counts_its_rows(world: World):
    for i in range(3):
        _entry(world.practice, event=Event.SEARCHED, subject_id=f"s-{i}")
    response = portal_client(world.ada).post(
        EXPORT, {"event": int(Event.SEARCHED), "actor": "", "date_from": "2020-01-01"}
    )
    rows = _rows(response)
    entry = assert_audited(Event.EXPORT, actor=world.ada)
    assert entry.practice_id == world.practice.pk and entry.subject_type == "audit_log"
    assert entry.detail["rows"] == len(rows) == 3
    assert entry.detail["filters"] == {
        "event": int(Event.SEARCHED),
        "since": "2020-01-01T00:00:00+00:00",
    }
    assert audit_verify().ok
    # The export's own entry is in the next export, not in the one it describes.
    again = _rows(portal_client(world.ada).post(EXPORT, {"event": int(Event.EXPORT)}))
    assert [row["seq"] for row in again] == [str(entry.seq)]


def test_it_leaves_out_names_emails_titles_and_free_text(world: World):
    _entry(
        world.practice,
        event=Event.TRANSCRIPT_CORRECTED,
        actor=world.alice,
        subject_type="recording",
        subject_id="rec-1",
        detail={
            "chapters": 2,
            "title": "Session with Carol about her mother",
            "email": world.carol.email,
            "nested": {"ok": 1, "text": "I felt anxious"},
            "list": ["Carol"],
        },
    )
    body = _body(portal_client(world.ada).post(EXPORT))
    for person in world.everyone():
        assert person.email not in body
        assert person.display_name not in body
    for secret in ("Carol", "mother", "anxious", "Riverside", "Elsewhere"):
        assert secret not in body
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["subject_id"] == "rec-1")
    assert json.loads(row["detail"]) == {
        "chapters": 2,
        "email": OMITTED,
        "list": OMITTED,
        "nested": {"ok": 1, "text": OMITTED},
        "title": OMITTED,
    }


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_it_defuses_spreadsheet_formulas(world: World, start: str):
    payload = f"{start}HYPERLINK(1)"
    _entry(world.practice, event=Event.SIGN_IN, subject_type="x", subject_id=payload)
    rows = _rows(portal_client(world.ada).post(EXPORT, {"event": int(Event.SIGN_IN)}))
    exported = [row["subject_id"] for row in rows if "HYPERLINK" in row["subject_id"]]
    assert exported == ["'" + payload]
    assert cell(payload) == "'" + payload and cell("plain") == "plain" and cell(None) == ""


def test_it_keeps_detail_codes_that_are_safe():
    assert safe_detail({"rows": 3, "ok": True, "kind": "audio-only", "x": None}) == {
        "rows": 3,
        "ok": True,
        "kind": "audio-only",
        "x": None,
    }
    assert safe_detail(["not", "a", "dict"]) == {}
    assert safe_detail({"bad key!": 1, "k": "two words"}) == {"k": OMITTED}


def test_it_exports_only_by_post_with_a_csrf_token(world: World):
    browser = portal_client(world.ada)
    assert browser.get(EXPORT).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.ada, backend="allauth.account.auth_backends.AuthenticationBackend")
    assert strict.post(EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(event=int(Event.EXPORT)).exists()
