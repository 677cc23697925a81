"""Withdrawing consent to transcription shreds every transcript-like rendition of that client at
once, leaves deletion records, and keeps the pipeline from transcribing again."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.recordings.consent import consent_give, consent_revoke
from revisit.recordings.models import ConsentMethod, ConsentScope, Rendition
from revisit.recordings.pipeline import Job, StepSkipped, step_transcript
from revisit.retention.models import DeletionReason, DeletionRecord
from revisit.retention.run import retention_run
from revisit.retention.services import legal_hold_place, legal_hold_release
from revisit.retention.tests.conftest import MEDIA_KINDS, TEXT_KINDS, Two, make_recording, readable
from revisit.testing.actors import World, api_client, assert_audited

pytestmark = pytest.mark.django_db


def test_it_shreds_transcripts_captions_chapters_and_search_of_every_recording(
    world: World, two: Two
):
    another = make_recording(world, world.carol)
    texts = list(
        Rendition.objects.filter(recording__client=world.carol, kind__in=TEXT_KINDS).select_related(
            "sealed"
        )
    )
    assert len(texts) == 16  # 2 recordings x 4 kinds x (full, client)
    alice = api_client(world.alice)
    assert alice.get(f"/api/v1/recordings/{two.carol.pk}/transcript").status_code == 200

    outcome = consent_revoke(
        client=world.carol, scope=ConsentScope.TRANSCRIPTION, actor=world.carol
    )

    assert outcome.transcripts_deleted == 2 and outcome.held == 0
    assert not any(readable(r.sealed) for r in texts)
    for recording in (two.carol, another):
        assert not recording.renditions.filter(kind__in=TEXT_KINDS).exists()
        assert alice.get(f"/api/v1/recordings/{recording.pk}/transcript").status_code == 404
        assert alice.get(f"/api/v1/recordings/{recording.pk}/captions.vtt").status_code == 404
        assert alice.get(f"/api/v1/recordings/{recording.pk}/chapters").status_code == 404
        # The media stays: only the text went.
        assert set(recording.renditions.values_list("kind", flat=True)) == set(MEDIA_KINDS)
    records = DeletionRecord.objects.filter(reason=DeletionReason.CONSENT_REVOKED)
    assert sorted(str(r.object_id) for r in records) == sorted(str(r.pk) for r in texts)
    assert {r.variant for r in records} == {"full", "client"}
    assert all(r.actor_id == world.carol.pk for r in records)
    assert_audited(Event.OBJECT_SHREDDED, actor=world.carol, subject=texts[0].sealed)


def test_it_leaves_other_clients_transcripts_alone(world: World, two: Two):
    consent_revoke(client=world.carol, scope=ConsentScope.TRANSCRIPTION, actor=world.carol)
    daves = Rendition.objects.filter(recording=two.dave, kind__in=TEXT_KINDS)
    assert daves.count() == 8
    assert all(readable(r.sealed) for r in daves)


def test_it_audits_each_shredding_in_the_revocations_transaction(world: World, two: Two):
    before = AuditEvent.objects.count()
    consent_revoke(client=world.carol, scope=ConsentScope.TRANSCRIPTION, actor=world.carol)
    written = list(AuditEvent.objects.order_by("seq")[before:])
    assert [e.event for e in written] == [Event.CONSENT_REVOKED] + [Event.OBJECT_SHREDDED] * 8


def test_it_rolls_everything_back_if_the_transaction_fails(world: World, two: Two):
    from django.db import transaction

    def revoke_then_fail() -> None:
        with transaction.atomic():
            consent_revoke(client=world.carol, scope=ConsentScope.TRANSCRIPTION, actor=world.carol)
            raise RuntimeError("the request failed after the revoke")

    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError):
        revoke_then_fail()
    texts = Rendition.objects.filter(recording=two.carol, kind__in=TEXT_KINDS)
    assert texts.count() == 8 and all(readable(r.sealed) for r in texts)
    assert AuditEvent.objects.count() == before
    assert DeletionRecord.objects.count() == 0
    assert world.carol.consents.filter(scope=ConsentScope.TRANSCRIPTION, revoked_at=None).exists()


class ModelReached(Exception):
    """Raised in place of loading the speech model: the step got past its consent check."""


def test_it_does_not_transcribe_again_while_consent_is_absent(
    world: World, two: Two, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def no_model() -> None:
        raise ModelReached

    monkeypatch.setattr("revisit.recordings.speech.speech_model", no_model)
    consent_revoke(client=world.carol, scope=ConsentScope.TRANSCRIPTION, actor=world.carol)
    job = Job(
        recording=two.carol,
        folder=tmp_path,
        original=tmp_path / "original.mp4",
        info=None,  # type: ignore[arg-type]  # never read: consent is checked first
        report=lambda fraction: None,
    )
    with pytest.raises(StepSkipped, match="not consented"):
        step_transcript(job)
    consent_give(
        client=world.carol,
        scope=ConsentScope.TRANSCRIPTION,
        actor=world.alice,
        method=ConsentMethod.WRITTEN,
    )
    with pytest.raises(ModelReached):
        step_transcript(job)


def test_a_legal_hold_keeps_them_until_it_is_lifted(world: World, two: Two):
    def texts():
        return Rendition.objects.filter(recording=two.carol, kind__in=TEXT_KINDS)

    hold = legal_hold_place(actor=world.alice, client=world.carol, reason="records request")
    outcome = consent_revoke(
        client=world.carol, scope=ConsentScope.TRANSCRIPTION, actor=world.carol
    )
    assert outcome.revoked and outcome.held == 1 and outcome.transcripts_deleted == 0
    assert texts().count() == 8 and all(readable(r.sealed) for r in texts())

    report = retention_run()
    assert str(two.carol.pk) in report.held and texts().count() == 8

    legal_hold_release(hold=hold, actor=world.alice)
    report = retention_run()
    assert report.transcripts_deleted == 1 and texts().count() == 0
    assert DeletionRecord.objects.filter(reason=DeletionReason.CONSENT_REVOKED).count() == 8
