"""Holding back: no held-back word or audio energy reaches anything a client can fetch."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from revisit.lib.renditions import extract_wav16k
from revisit.lib.stt import Transcript
from revisit.recordings.client_version import client_version_make
from revisit.recordings.consent import consent_give
from revisit.recordings.imports import recording_import
from revisit.recordings.models import ConsentMethod, ConsentScope, RecordingStatus, Rendition
from revisit.recordings.pipeline import recording_process
from revisit.recordings.tests.conftest import FIXTURE
from revisit.review.access import recording_access, rendition_access
from revisit.review.reviewing import ReviewError, holdback_add
from revisit.review.services import share_create
from revisit.testing.actors import World
from revisit.vault import services as vault

pytestmark = pytest.mark.django_db


@pytest.fixture
def processed(world: World, settings):
    settings.WHISPER_MODEL = "tiny.en"
    for scope in (ConsentScope.RECORDING, ConsentScope.CLIENT_REVIEW, ConsentScope.TRANSCRIPTION):
        consent_give(
            client=world.carol, scope=scope, actor=world.alice, method=ConsentMethod.VERBAL
        )
    recording = recording_import(path=FIXTURE, therapist=world.alice, client=world.carol)
    assert recording_process(recording_id=str(recording.pk)) == RecordingStatus.READY
    recording.refresh_from_db()
    return recording


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def _pcm(media: bytes, tmp_path: Path, name: str) -> np.ndarray:
    src = tmp_path / f"{name}.bin"
    src.write_bytes(media)
    wav = tmp_path / f"{name}.wav"
    extract_wav16k(src, wav)
    with wave.open(str(wav)) as handle:
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)


def test_it_removes_held_back_words_and_sound_from_everything_the_client_gets(
    world: World, processed, tmp_path: Path, django_capture_on_commit_callbacks
):
    full = Rendition.objects.get(recording=processed, kind="transcript", variant="full")
    transcript = Transcript.from_json(vault.vault_read_bytes(full.sealed).decode())
    # Hold back the third segment: the words the client must never get.
    target = transcript.segments[2]
    start, end = target.start - 0.05, target.end + 0.05
    held_words = {
        w.text.strip(".,?!").lower() for w in target.words if len(w.text.strip(".,?!")) > 3
    }
    other_words = " ".join(
        w.text.lower()
        for s in transcript.segments
        for w in s.words
        if w.end <= start or w.start >= end
    )
    unique_held = {w for w in held_words if w not in other_words}
    assert unique_held, "choose a segment with words that occur nowhere else"

    with django_capture_on_commit_callbacks(execute=False):
        holdback_add(
            recording=processed, actor=world.alice, start=start, end=end, reason="third_party"
        )
    share_create(recording=processed, actor=world.alice)
    # Until the client's version exists, the client gets nothing at all.
    access = recording_access(user=world.carol, recording_id=processed.pk)
    assert access is not None and access.variant == "client"
    full_video = Rendition.objects.get(recording=processed, kind="video", variant="full")
    assert rendition_access(user=world.carol, rendition_id=full_video.pk) is None

    assert client_version_make(recording_id=str(processed.pk)) >= 5
    fetchable = [
        r
        for r in Rendition.objects.filter(recording=processed)
        if rendition_access(user=world.carol, rendition_id=r.pk) is not None
    ]
    assert {r.kind for r in fetchable} >= {"video", "audio", "transcript", "captions", "waveform"}
    assert all(r.variant == "client" for r in fetchable)
    for rendition in fetchable:
        data = vault.vault_read_bytes(rendition.sealed, max_bytes=200 << 20)
        if rendition.kind in ("transcript", "captions"):
            text = data.decode().lower()
            for word in unique_held:
                assert word not in text, (rendition.kind, word)
        if rendition.kind in ("video", "audio"):
            pcm = _pcm(data, tmp_path, rendition.kind)
            inside = pcm[int((start + 0.1) * 16000) : int((end - 0.1) * 16000)]
            outside = pcm[(1 * 16000) : int(start * 16000)]
            assert _rms(inside) < 1.0  # digital silence (tolerating resampler dither)
            assert _rms(outside) > 100  # speech is still there elsewhere
        if rendition.kind == "waveform":
            peaks = json.loads(data)["peaks"]
            held = peaks[int(start * 10) + 1 : int(end * 10) - 1]
            assert held and max(held) < 0.01


def test_it_refuses_a_range_outside_the_recording(world: World, processed):
    with pytest.raises(ReviewError):
        holdback_add(recording=processed, actor=world.alice, start=5000, end=5005, reason="other")
    with pytest.raises(ReviewError):
        holdback_add(recording=processed, actor=world.alice, start=10, end=10.05, reason="other")
    with pytest.raises(ReviewError):
        holdback_add(recording=processed, actor=world.bob, start=1, end=2, reason="other")


def test_it_withdraws_the_old_client_version_when_more_is_held_back(world: World, processed):
    holdback_add(recording=processed, actor=world.alice, start=1.0, end=2.0, reason="other")
    client_version_make(recording_id=str(processed.pk))
    share_create(recording=processed, actor=world.alice)
    old_audio = Rendition.objects.get(recording=processed, kind="audio", variant="client")
    assert rendition_access(user=world.carol, rendition_id=old_audio.pk) is not None
    holdback_add(recording=processed, actor=world.alice, start=5.0, end=6.0, reason="other")
    # No worker has run: the client gets nothing rather than the version without the new range.
    assert not Rendition.objects.filter(recording=processed, variant="client").exists()
    assert rendition_access(user=world.carol, rendition_id=old_audio.pk) is None
