"""The practice admin's audit page: admins only, their own practice only, filters and pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client

from revisit.accounts.models import Role
from revisit.accounts.services import user_create
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.testing.actors import World, enrol_totp, portal_client

pytestmark = pytest.mark.django_db
PAGE = "/practice/audit/"


def _entry(practice: object, **fields: object) -> None:
    with transaction.atomic():
        audit_record(practice=practice, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("ada", 200),
        ("alice", 404),
        ("bob", 404),
        ("carol", 404),
        ("dave", 404),
        ("sam", 404),
        ("mallory", 404),
        ("eve", 404),
    ],
)
def test_it_shows_the_page_to_practice_admins_only(world: World, who: str, status: int):
    browser = portal_client(getattr(world, who))
    assert browser.get(PAGE).status_code == status
    assert browser.post("/practice/audit/export.csv").status_code == status


def test_it_asks_visitors_to_sign_in(world: World):
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_links_the_page_for_admins_only(world: World):
    assert 'href="/practice/audit/"' in portal_client(world.ada).get("/security/").content.decode()
    assert 'href="/practice/audit/"' not in (
        portal_client(world.alice).get("/security/").content.decode()
    )


def test_it_checks_ownership(world: World):
    _entry(world.practice, event=Event.SHARE_CREATED, subject_type="share", subject_id="ours-1")
    _entry(
        world.other_practice, event=Event.SHARE_CREATED, subject_type="share", subject_id="theirs-1"
    )
    ours = portal_client(world.ada).get(PAGE).content.decode()
    assert "ours-1" in ours and "theirs-1" not in ours
    other_admin = user_create(
        practice=world.other_practice, email="oz@example.net", role=Role.ADMIN, password=None
    )
    enrol_totp(other_admin)
    theirs = portal_client(other_admin).get(PAGE).content.decode()
    assert "theirs-1" in theirs and "ours-1" not in theirs
    # Naming the other practice's subject as a filter finds nothing either.
    filtered = portal_client(world.ada).get(PAGE, {"subject_id": "theirs-1"})
    assert filtered.status_code == 200 and "theirs-1</span>" not in filtered.content.decode()


def test_it_filters_by_event_actor_and_subject(world: World):
    _entry(world.practice, event=Event.PLAYBACK_STARTED, actor=world.carol, subject_id="rec-a")
    _entry(world.practice, event=Event.DOWNLOAD, actor=world.dave, subject_id="rec-b")
    _entry(world.practice, event=Event.PLAYBACK_STARTED, actor=world.dave, subject_id="rec-c")
    browser = portal_client(world.ada)
    by_event = browser.get(PAGE, {"event": int(Event.PLAYBACK_STARTED)}).content.decode()
    assert "rec-a" in by_event and "rec-c" in by_event and "rec-b" not in by_event
    by_actor = browser.get(PAGE, {"actor": str(world.dave.pk)}).content.decode()
    assert "rec-b" in by_actor and "rec-c" in by_actor and "rec-a" not in by_actor
    both = browser.get(
        PAGE, {"actor": str(world.dave.pk), "event": str(int(Event.PLAYBACK_STARTED))}
    ).content.decode()
    assert "rec-c" in both and "rec-b" not in both
    by_subject = browser.get(PAGE, {"subject_id": "rec-b"}).content.decode()
    assert "rec-b" in by_subject and "rec-a" not in by_subject


def test_it_takes_an_email_but_puts_only_the_id_in_the_address(world: World):
    browser = portal_client(world.ada)
    response = browser.get(PAGE, {"actor": world.dave.email, "event": str(int(Event.DOWNLOAD))})
    assert response.status_code == 302
    assert str(world.dave.pk) in response["Location"] and "@" not in response["Location"]
    assert "event=403" in response["Location"]


def test_it_filters_by_whole_days(world: World):
    for day, name in ((1, "day-one"), (2, "day-two"), (3, "day-three")):
        with mock.patch(
            "django.utils.timezone.now", return_value=datetime(2026, 3, day, 23, 59, tzinfo=UTC)
        ):
            _entry(world.practice, event=Event.SIGN_IN, subject_id=name)
    page = portal_client(world.ada).get(PAGE, {"date_from": "2026-03-02", "date_to": "2026-03-02"})
    text = page.content.decode()
    assert "day-two" in text and "day-one" not in text and "day-three" not in text
    since = portal_client(world.ada).get(PAGE, {"date_from": "2026-03-02"}).content.decode()
    assert "day-two" in since and "day-three" in since and "day-one" not in since


def test_it_pages_through_entries_newest_first(world: World):
    for i in range(60):
        _entry(world.practice, event=Event.SEARCHED, subject_type="search", subject_id=f"q-{i:03d}")
    browser = portal_client(world.ada)
    first = browser.get(PAGE, {"event": int(Event.SEARCHED)}).content.decode()
    assert "60 entries" in first and "Page 1 of 2" in first
    assert "q-059" in first and "q-010" in first and "q-009" not in first
    assert "event=406&amp;page=2" in first
    second = browser.get(PAGE, {"event": str(int(Event.SEARCHED)), "page": "2"}).content.decode()
    assert "q-009" in second and "q-000" in second and "q-059" not in second


def test_it_shows_ids_and_codes_but_never_free_text_from_details(world: World):
    _entry(
        world.practice,
        event=Event.TRANSCRIPT_CORRECTED,
        subject_type="recording",
        subject_id=str(uuid.uuid4()),
        detail={"chapters": 3, "note": "Carol said something private"},
    )
    page = portal_client(world.ada).get(PAGE).content.decode()
    assert "chapters=3" in page and "note=(omitted)" in page
    assert "something private" not in page
