from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from revisit.accounts.models import User
from revisit.lib.stt import Segment, Transcript, Word
from revisit.recordings.consent import consent_give
from revisit.recordings.models import (
    ConsentMethod,
    ConsentScope,
    Recording,
    RecordingSource,
    RecordingStatus,
    Rendition,
    RenditionKind,
)
from revisit.review.models import Share
from revisit.review.reviewing import bookmark_add, highlight_add, progress_record, rating_add
from revisit.review.services import share_create
from revisit.testing.actors import World
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind, SealedObject

TEXT_KINDS = (
    RenditionKind.TRANSCRIPT,
    RenditionKind.CAPTIONS,
    RenditionKind.CHAPTERS,
    RenditionKind.SEARCH,
)
MEDIA_KINDS = (RenditionKind.VIDEO, RenditionKind.AUDIO)


def transcript_bytes() -> bytes:
    words = (Word(0.0, 1.0, "hello", 0.9), Word(1.0, 2.0, "again", 0.9))
    segment = Segment(start=0.0, end=2.0, text="hello again", words=words, speaker="client")
    return Transcript(language="en", duration=60.0, segments=(segment,)).to_json().encode()


def consent(world: World, client: User, *scopes: ConsentScope) -> None:
    therapist = world.mallory if client.practice_id == world.other_practice.pk else world.alice
    for scope in scopes:
        consent_give(client=client, scope=scope, actor=therapist, method=ConsentMethod.VERBAL)


def make_recording(
    world: World,
    client: User,
    *,
    days_old: float = 0,
    transcripts: bool = True,
    therapist: User | None = None,
) -> Recording:
    """A processed recording with small sealed renditions: media, and (unless told otherwise)
    transcript, captions, chapters and search index in both the full and the client version."""
    therapist = therapist or (
        world.mallory if client.practice_id == world.other_practice.pk else world.alice
    )
    consent(
        world,
        client,
        ConsentScope.RECORDING,
        ConsentScope.CLIENT_REVIEW,
        ConsentScope.TRANSCRIPTION,
    )
    practice_id = client.practice_id
    original = vault.vault_seal_bytes(
        practice_id=practice_id, kind=ObjectKind.ORIGINAL, data=b"original" * 10
    )
    made = timezone.now() - timedelta(days=days_old)
    recording = Recording.objects.create(
        practice_id=practice_id,
        therapist=therapist,
        client=client,
        title="Session about the move",
        source=RecordingSource.UPLOAD,
        status=RecordingStatus.READY,
        progress=1.0,
        duration=60.0,
        original=original,
        shareable_at=made,
        ready_at=made,
        created_at=made,
    )
    kinds: tuple[RenditionKind, ...] = MEDIA_KINDS + (TEXT_KINDS if transcripts else ())
    for kind in kinds:
        for variant in ("full", "client") if kind in TEXT_KINDS else ("full",):
            data = transcript_bytes() if kind == RenditionKind.TRANSCRIPT else os.urandom(500)
            sealed = vault.vault_seal_bytes(
                practice_id=practice_id, kind=ObjectKind.RENDITION, data=data
            )
            Rendition.objects.create(recording=recording, kind=kind, variant=variant, sealed=sealed)
    return recording


def make_share(world: World, recording: Recording, *, reviewed: bool = True) -> Share:
    share = share_create(recording=recording, actor=recording.therapist)
    if reviewed:
        client = recording.client
        progress_record(share=share, actor=client, position=30, played=[(0, 30)])
        progress_record(share=share, actor=client, position=20, played=[(10, 20)])
        rating_add(share=share, actor=client, helpfulness=6, harm=2, comment="private words")
    return share


def add_notes(recording: Recording, share: Share) -> None:
    """A therapist highlight and a client bookmark: sealed texts that belong to the recording."""
    highlight_add(recording=recording, actor=recording.therapist, at=5, note="look at this")
    bookmark_add(share=share, actor=recording.client, at=7, note="mine", bring_to_session=False)


def readable(sealed: SealedObject) -> bool:
    try:
        vault.vault_read_bytes(SealedObject.objects.get(pk=sealed.pk))
    except vault.ShreddedError:
        return False
    return True


@dataclass
class Two:
    carol: Recording
    dave: Recording


@pytest.fixture
def two(world: World) -> Two:
    return Two(carol=make_recording(world, world.carol), dave=make_recording(world, world.dave))
