"""Practice admins set the retention policy on a small page; bad values get form errors."""

from __future__ import annotations

import pytest

from revisit.accounts.models import Practice
from revisit.audit.events import Event
from revisit.retention.models import DeletionReason, DeletionRecord
from revisit.retention.services import RetentionError, policy_update
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db

URL = "/practice/retention/"


def fresh(world: World) -> Practice:
    return Practice.objects.get(pk=world.practice.pk)


def test_it_starts_from_seven_years_and_saves_a_new_policy(world: World):
    ada = portal_client(world.ada)
    html = ada.get(URL).content.decode()
    assert 'value="2557"' in html and 'value="30"' in html
    body = {
        "recording_retention_days": "3650",
        "transcript_retention_days": "",
        "share_days_default": "60",
    }
    assert ada.post(URL, body).status_code == 302
    practice = fresh(world)
    assert practice.recording_retention_days == 3650
    assert practice.transcript_retention_days is None  # empty keeps
    assert practice.share_days_default == 60
    entry = assert_audited(Event.RETENTION_POLICY_CHANGED, actor=world.ada, subject=practice)
    assert entry.detail == {
        "action": "policy_changed",
        "recording_retention_days": 3650,
        "transcript_retention_days": None,
        "share_days_default": 60,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("recording_retention_days", "-5", "at least 1 day"),
        ("recording_retention_days", "0", "at least 1 day"),
        ("recording_retention_days", "seven years", "whole number"),
        ("recording_retention_days", "99999999999", "36500 days at most"),
        ("recording_retention_days", "2.5", "whole number"),
        ("transcript_retention_days", "3000", "cannot be kept longer"),
        ("share_days_default", "", "how many days"),
        ("share_days_default", "5000", "less than or equal to 3650"),
        ("share_days_default", "3000", "cannot outlast the recording"),
    ],
)
def test_it_refuses_bad_values_with_a_form_error(world: World, field, value, message):
    body = {
        "recording_retention_days": "2557",
        "transcript_retention_days": "2557",
        "share_days_default": "30",
        field: value,
    }
    response = portal_client(world.ada).post(URL, body)
    assert response.status_code == 400
    assert message in response.content.decode()
    practice = fresh(world)
    assert (practice.recording_retention_days, practice.share_days_default) == (2557, 30)


@pytest.mark.parametrize("who", ["alice", "carol", "sam", "mallory"])
def test_it_is_for_practice_admins_only(world: World, who: str):
    client = portal_client(getattr(world, who))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"share_days_default": "1"}).status_code == 404
    assert fresh(world).share_days_default == 30


def test_the_service_refuses_what_the_form_would(world: World):
    with pytest.raises(RetentionError, match="Only an admin"):
        policy_update(
            practice=world.practice,
            actor=world.alice,
            recording_days=10,
            transcript_days=None,
            share_days=5,
        )
    with pytest.raises(RetentionError, match="1 to"):
        policy_update(
            practice=world.practice,
            actor=world.ada,
            recording_days=0,
            transcript_days=None,
            share_days=5,
        )
    with pytest.raises(RetentionError, match="outlast"):
        policy_update(
            practice=world.practice,
            actor=world.ada,
            recording_days=10,
            transcript_days=None,
            share_days=30,
        )
    assert fresh(world).recording_retention_days == 2557


def test_it_lists_deletion_records_without_content(world: World):
    import uuid

    DeletionRecord.objects.create(
        practice=world.practice,
        kind="transcript",
        object_id=uuid.uuid4(),
        variant="client",
        reason=DeletionReason.CONSENT_REVOKED,
    )
    html = portal_client(world.ada).get(URL).content.decode()
    assert "Transcript (client&#x27;s version)" in html or "Transcript (client's version)" in html
    assert "Client withdrew consent" in html
