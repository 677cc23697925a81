"""Hostile and malformed filter values get a 400 with a message that says what to fix, on the
page and on the export; never a 500, never an export, never a change to the log."""

from __future__ import annotations

import pytest

from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.audit.services import audit_verify
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db

CASES = [
    ({"date_from": "2026-13-45"}, "Enter the start date as YYYY-MM-DD."),
    ({"date_to": "yesterday"}, "Enter the end date as YYYY-MM-DD."),
    ({"date_from": "0001-01-01"}, "Choose a date between 1970-01-01 and 9998-12-31."),
    ({"date_to": "9999-12-31"}, "Choose a date between 1970-01-01 and 9998-12-31."),
    ({"date_from": "2026-05-02", "date_to": "2026-05-01"}, "The end date is before the start"),
    ({"date_from": "2026-05-02' OR '1'='1"}, "Enter the start date as YYYY-MM-DD."),
    ({"event": "999"}, "Unknown event type"),
    ({"event": "-1"}, "Unknown event type"),
    ({"event": "101 OR 1=1"}, "Unknown event type"),
    ({"event": "1e2"}, "Unknown event type"),
    ({"actor": "not-an-id"}, "Enter an account id, or the email address"),
    ({"actor": "' OR 1=1 --"}, "Enter an account id, or the email address"),
    ({"actor": "eve@example.net"}, "Enter an account id, or the email address"),
    ({"actor": "x" * 300}, "at most 254 characters"),
    ({"subject_type": "recording'; DROP TABLE audit_auditevent; --"}, "at most 32 characters"),
    ({"subject_type": "rec'--"}, "A subject type is lower-case letters"),
    ({"subject_type": "<script>alert(1)</script>"}, "A subject type is lower-case letters"),
    ({"subject_type": "<b>x</b>"}, "A subject type is lower-case letters"),
    ({"subject_id": "a b"}, "A subject id is letters, digits"),
    ({"subject_id": "1;DELETE FROM audit_auditevent"}, "A subject id is letters, digits"),
    ({"subject_id": "ab\x00cd"}, "Null characters are not allowed."),
    ({"subject_id": "%" * 10}, "A subject id is letters, digits"),
]


@pytest.mark.parametrize(("params", "message"), CASES)
def test_it_answers_bad_filters_with_a_clear_400(
    world: World, params: dict[str, str], message: str
):
    browser = portal_client(world.ada)
    page = browser.get("/practice/audit/", params)
    assert page.status_code == 400
    text = page.content.decode()
    assert message in text and "Nothing is shown until the filters above are corrected" in text
    assert "<script>alert" not in text and "<b>x</b>" not in text  # echoed values are escaped
    export = browser.post("/practice/audit/export.csv", params)
    assert export.status_code == 400 and message in export.content.decode()
    assert not AuditEvent.objects.filter(event=int(Event.EXPORT)).exists()
    assert audit_verify().ok


@pytest.mark.parametrize("page", ["abc", "-5", "0", "99999999999999999999999", "1.5", ""])
def test_it_answers_odd_page_numbers_with_a_page(world: World, page: str):
    response = portal_client(world.ada).get("/practice/audit/", {"page": page})
    assert response.status_code == 200 and "Audit log" in response.content.decode()


def test_it_ignores_parameters_it_does_not_know(world: World):
    response = portal_client(world.ada).get("/practice/audit/", {"practice": "other", "x": "1"})
    assert response.status_code == 200
