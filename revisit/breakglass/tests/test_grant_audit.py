from __future__ import annotations

import pytest

from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.audit.services import audit_verify
from revisit.breakglass.tests.conftest import grant_for, media
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db(transaction=True)  # the media handler reads in a thread


def test_it_marks_every_access_under_the_grant_with_its_id(world: World, ready: Ready):
    grant = grant_for(world.ada, world.carol)
    admin = portal_client(world.ada)

    assert media(admin, ready.video).status == 206
    assert media(admin, ready.captions).status == 206

    played = assert_audited(Event.PLAYBACK_STARTED, actor=world.ada)
    read = assert_audited(Event.TRANSCRIPT_VIEWED, actor=world.ada)
    assert played.detail["break_glass"] == str(grant.pk)
    assert read.detail["break_glass"] == str(grant.pk)
    assert played.subject_id == read.subject_id == str(ready.recording.pk)
    assert audit_verify().ok


def test_it_does_not_mark_ordinary_access(world: World, ready: Ready):
    grant_for(world.ada, world.carol)
    therapist = portal_client(world.alice)
    assert media(therapist, ready.video).status == 206
    played = assert_audited(Event.PLAYBACK_STARTED, actor=world.alice)
    assert "break_glass" not in played.detail


def test_it_records_granting_and_ending(world: World):
    grant = grant_for(world.ada, world.carol)
    portal_client(world.ada).post(f"/emergency-access/{grant.pk}/end/")
    actions = [
        e.detail["action"]
        for e in AuditEvent.objects.filter(event=int(Event.BREAK_GLASS), subject_id=str(grant.pk))
    ]
    assert actions == ["granted", "ended"]


def test_it_marks_transcripts_read_through_the_api_with_the_grant(world: World, ready: Ready):
    from revisit.testing.actors import api_client

    grant = grant_for(world.ada, world.carol)
    response = api_client(world.ada).get(f"/api/v1/recordings/{ready.recording.pk}/captions.vtt")
    assert response.status_code == 200
    read = assert_audited(Event.TRANSCRIPT_VIEWED, actor=world.ada)
    assert read.detail["via"] == "api"
    assert read.detail["break_glass"] == str(grant.pk)
