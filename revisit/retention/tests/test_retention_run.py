"""The daily retention run deletes what is past its time, and nothing else; a legal hold pauses
it; each deletion leaves a record; running it twice (or from two workers) changes nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from revisit.accounts.models import Practice
from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.recordings.models import Recording, Rendition, Upload
from revisit.retention.deletion import recording_destroy
from revisit.retention.models import DeletedKind, DeletionReason, DeletionRecord
from revisit.retention.run import retention_run
from revisit.retention.services import legal_hold_place, legal_hold_release
from revisit.retention.tests.conftest import (
    TEXT_KINDS,
    add_notes,
    make_recording,
    make_share,
    readable,
)
from revisit.review.models import Bookmark, Highlight, Rating, Share
from revisit.testing.actors import World, assert_audited
from revisit.vault.models import SealedObject

pytestmark = pytest.mark.django_db


def policy(practice: Practice, *, recordings: int | None, transcripts: int | None) -> None:
    Practice.objects.filter(pk=practice.pk).update(
        recording_retention_days=recordings, transcript_retention_days=transcripts
    )


def sealed_of(recording: Recording) -> list[SealedObject]:
    ids = [recording.original_id, *recording.renditions.values_list("sealed_id", flat=True)]
    ids += Highlight.objects.filter(recording=recording).values_list("note_id", flat=True)
    ids += Bookmark.objects.filter(share__recording=recording).values_list("note_id", flat=True)
    ids += Rating.objects.filter(share__recording=recording).values_list("comment_id", flat=True)
    return list(SealedObject.objects.filter(pk__in=ids))


def test_it_deletes_recordings_past_retention_and_keeps_the_rest(world: World):
    policy(world.practice, recordings=100, transcripts=None)
    old = make_recording(world, world.carol, days_old=101)
    share = make_share(world, old)
    add_notes(old, share)
    young = make_recording(world, world.carol, days_old=99)
    elsewhere = make_recording(world, world.eve, days_old=500)  # its practice keeps 2557 days
    old_sealed = sealed_of(old)
    assert (
        len(old_sealed) == 14
    )  # original, 2 media, 8 text renditions, highlight, bookmark, rating

    report = retention_run()

    assert report.recordings_deleted == 1
    assert not Recording.objects.filter(pk=old.pk).exists()
    assert not Share.objects.filter(pk=share.pk).exists()
    assert not any(readable(s) for s in old_sealed)
    assert Recording.objects.filter(pk__in=[young.pk, elsewhere.pk]).count() == 2
    assert all(readable(s) for s in sealed_of(young))
    assert all(readable(s) for s in sealed_of(elsewhere))


def test_it_keeps_everything_when_the_policy_says_keep(world: World):
    policy(world.practice, recordings=None, transcripts=None)
    old = make_recording(world, world.carol, days_old=10_000)
    report = retention_run()
    assert report.recordings_deleted == 0 and report.objects_shredded == 0
    assert Recording.objects.filter(pk=old.pk).exists()
    assert all(readable(s) for s in sealed_of(old))


def test_it_leaves_a_record_of_each_deletion_without_content(world: World):
    policy(world.practice, recordings=30, transcripts=None)
    old = make_recording(world, world.carol, days_old=31)
    add_notes(old, make_share(world, old))
    renditions = {str(r.pk): r.kind for r in old.renditions.all()}
    assert old.original is not None
    Upload.objects.create(
        practice=world.practice,
        owner=world.alice,
        client=world.carol,
        title=old.title,
        key=old.original,
        expires_at=timezone.now(),
        completed_at=timezone.now(),
        recording=old,
    )

    retention_run()

    records = DeletionRecord.objects.filter(recording_id=old.pk)
    by_kind: dict[str, int] = {}
    for record in records:
        by_kind[record.kind] = by_kind.get(record.kind, 0) + 1
        assert record.reason == DeletionReason.RETENTION and record.actor_id is None
    assert by_kind == {
        DeletedKind.RECORDING: 1,
        DeletedKind.ORIGINAL: 1,
        DeletedKind.VIDEO: 1,
        DeletedKind.AUDIO: 1,
        DeletedKind.TRANSCRIPT: 2,
        DeletedKind.CAPTIONS: 2,
        DeletedKind.CHAPTERS: 2,
        DeletedKind.SEARCH: 2,
        DeletedKind.NOTE: 3,
    }
    assert {
        str(r.object_id) for r in records if r.kind not in ("recording", "original", "note")
    } == set(renditions)
    assert not Upload.objects.filter(title=old.title).exists()  # the title went with it
    entry = assert_audited(Event.RECORDING_DELETED, subject=old.pk)
    assert entry.detail == {"reason": "retention", "objects": 14}


def test_it_shreds_transcripts_past_their_own_retention_only(world: World):
    policy(world.practice, recordings=1000, transcripts=30)
    old = make_recording(world, world.carol, days_old=31)
    young = make_recording(world, world.carol, days_old=29)
    media = list(old.renditions.exclude(kind__in=TEXT_KINDS))
    texts = list(old.renditions.filter(kind__in=TEXT_KINDS))

    report = retention_run()

    assert report.transcripts_deleted == 1 and report.recordings_deleted == 0
    assert not Rendition.objects.filter(pk__in=[r.pk for r in texts]).exists()
    assert not any(readable(r.sealed) for r in texts)
    assert all(readable(r.sealed) for r in media)
    assert young.renditions.filter(kind__in=TEXT_KINDS).count() == 8
    assert DeletionRecord.objects.filter(recording_id=old.pk).count() == 8


def test_a_legal_hold_pauses_every_deletion_and_the_run_reports_it(world: World):
    policy(world.practice, recordings=30, transcripts=10)
    held_one = make_recording(world, world.carol, days_old=40)
    held_client = make_recording(world, world.dave, days_old=40)
    free = make_recording(world, world.dave, days_old=40, therapist=world.bob)
    legal_hold_place(actor=world.alice, client=world.carol, recording=held_one, reason="subpoena")
    legal_hold_place(actor=world.ada, client=world.dave, reason="complaint")

    report = retention_run()

    assert sorted(report.held) == sorted(str(r.pk) for r in (held_one, held_client, free))
    assert report.recordings_deleted == 0 and report.transcripts_deleted == 0
    for recording in (held_one, held_client, free):
        assert all(readable(s) for s in sealed_of(recording))
    entry = assert_audited(Event.RETENTION_RUN)
    assert entry.detail["held"] == 3 and entry.detail["recordings_deleted"] == 0


def test_it_deletes_what_a_hold_kept_once_it_is_released(world: World):
    policy(world.practice, recordings=30, transcripts=None)
    recording = make_recording(world, world.carol, days_old=40)
    hold = legal_hold_place(actor=world.alice, client=world.carol, reason="records request")
    assert retention_run().recordings_deleted == 0
    legal_hold_release(hold=hold, actor=world.alice)
    assert retention_run().recordings_deleted == 1
    assert not Recording.objects.filter(pk=recording.pk).exists()


def test_it_refuses_to_delete_a_held_recording_directly(world: World):
    from revisit.retention.deletion import RecordingHeldError

    recording = make_recording(world, world.carol)
    legal_hold_place(actor=world.alice, client=world.carol, reason="records request")
    with pytest.raises(RecordingHeldError, match="legal hold"):
        recording_destroy(
            recording=recording, reason=DeletionReason.THERAPIST_DELETED, actor=world.alice
        )
    assert Recording.objects.filter(pk=recording.pk).exists()


def test_it_does_nothing_more_when_run_twice(world: World):
    policy(world.practice, recordings=30, transcripts=10)
    make_recording(world, world.carol, days_old=40)
    make_recording(world, world.dave, days_old=20)
    share = make_share(world, make_recording(world, world.dave))
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    first = retention_run()
    records = DeletionRecord.objects.count()
    audits = AuditEvent.objects.count()
    second = retention_run()

    assert (first.recordings_deleted, first.transcripts_deleted, first.shares_expired) == (1, 1, 1)
    assert (second.recordings_deleted, second.transcripts_deleted, second.shares_expired) == (
        0,
        0,
        0,
    )
    assert second.objects_shredded == 0
    assert DeletionRecord.objects.count() == records
    assert AuditEvent.objects.count() == audits + 1  # only the second run's own entry


def test_a_second_worker_finds_the_recording_already_gone(world: World):
    recording = make_recording(world, world.carol)
    stale_copy = Recording.objects.get(pk=recording.pk)
    reason = DeletionReason.RETENTION
    assert recording_destroy(recording=recording, reason=reason, actor=None) == 11
    assert recording_destroy(recording=stale_copy, reason=reason, actor=None) is None
    assert DeletionRecord.objects.filter(kind=DeletedKind.RECORDING).count() == 1


def test_it_skips_a_recording_being_processed(world: World):
    policy(world.practice, recordings=30, transcripts=None)
    busy = make_recording(world, world.carol, days_old=40)
    Recording.objects.filter(pk=busy.pk).update(
        status="processing", job_lease_until=timezone.now() + timedelta(minutes=5)
    )
    report = retention_run()
    assert report.busy == [str(busy.pk)] and Recording.objects.filter(pk=busy.pk).exists()


def test_it_audits_each_expired_share_once(world: World):
    recording = make_recording(world, world.carol)
    expired = make_share(world, recording, reviewed=False)
    active = make_share(world, recording, reviewed=False)
    Share.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert retention_run().shares_expired == 1
    assert retention_run().shares_expired == 0

    entries = AuditEvent.objects.filter(event=Event.SHARE_EXPIRED)
    assert [e.subject_id for e in entries] == [str(expired.pk)]
    assert not AuditEvent.objects.filter(event=Event.SHARE_EXPIRED, subject_id=str(active.pk))
