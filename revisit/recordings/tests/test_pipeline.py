"""Processing with real ffmpeg and the real tiny.en speech model."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from revisit.audit.events import Event
from revisit.lib.stt import Transcript
from revisit.recordings.consent import consent_give
from revisit.recordings.imports import ImportRefused, recording_import
from revisit.recordings.models import (
    ConsentMethod,
    ConsentScope,
    Recording,
    RecordingStatus,
    RenditionKind,
    StepStatus,
)
from revisit.recordings.pipeline import recording_process
from revisit.recordings.tests.conftest import FIXTURE
from revisit.testing.actors import World, assert_audited
from revisit.vault import services as vault

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_model(settings, tmp_path_factory):
    settings.WHISPER_MODEL = "tiny.en"
    settings.MODELS_DIR = Path(os.environ["REVISIT_DATA_DIR"]) / "models"
    return settings


def _consent(world: World, *scopes: ConsentScope) -> None:
    for scope in (ConsentScope.RECORDING, *scopes):
        consent_give(
            client=world.carol, scope=scope, actor=world.alice, method=ConsentMethod.VERBAL
        )


def _rendition(recording: Recording, kind: RenditionKind) -> bytes:
    return vault.vault_reader(recording.renditions.get(kind=kind).sealed).read_all()


def _probe_json(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def test_it_processes_a_session_into_every_rendition(world: World, tiny_model, tmp_path: Path):
    _consent(world, ConsentScope.TRANSCRIPTION)
    recording = recording_import(
        path=FIXTURE, therapist=world.alice, client=world.carol, title="Fixture"
    )
    assert recording_process(recording_id=str(recording.pk)) == RecordingStatus.READY
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY and recording.progress == 1.0
    assert recording.shareable_at is not None and recording.ready_at is not None
    assert recording.ready_at >= recording.shareable_at
    kinds = set(recording.renditions.values_list("kind", flat=True))
    assert {
        "video",
        "audio",
        "poster",
        "waveform",
        "transcript",
        "captions",
        "chapters",
        "search",
    } <= kinds

    video = tmp_path / "v.mp4"
    video.write_bytes(_rendition(recording, RenditionKind.VIDEO))
    streams = {s["codec_type"]: s["codec_name"] for s in _probe_json(video)["streams"]}
    assert streams == {"video": "h264", "audio": "aac"}
    audio = tmp_path / "a.m4a"
    audio.write_bytes(_rendition(recording, RenditionKind.AUDIO))
    assert [s["codec_type"] for s in _probe_json(audio)["streams"]] == ["audio"]
    assert _rendition(recording, RenditionKind.POSTER)[:2] == b"\xff\xd8"
    peaks = json.loads(_rendition(recording, RenditionKind.WAVEFORM))
    assert len(peaks["peaks"]) >= 700 and max(peaks["peaks"]) > 0.1

    transcript = Transcript.from_json(_rendition(recording, RenditionKind.TRANSCRIPT).decode())
    words = " ".join(segment.text for segment in transcript.segments).lower()
    assert "form" in words  # "Thanks for filling it out ... this form" from the dialogue
    assert all(w.start <= w.end for s in transcript.segments for w in s.words)
    captions = _rendition(recording, RenditionKind.CAPTIONS).decode()
    assert captions.startswith("WEBVTT") and "-->" in captions
    # The fixture is stereo, therapist left and client right: labelled by channel.
    speakers = {s.speaker for s in transcript.segments}
    assert speakers == {"therapist", "client"}
    assert transcript.segments[0].speaker == "therapist"  # the dialogue opens with the counsellor
    assert "<v Therapist>" in captions and "<v You>" in captions
    chapters = json.loads(_rendition(recording, RenditionKind.CHAPTERS))
    assert chapters and all(c["title"] and c["start"] < c["end"] for c in chapters)

    steps = {s.name: s for s in recording.steps.all()}
    assert all(s.status == StepStatus.DONE for s in steps.values()), steps
    assert all(s.seconds is not None and s.attempts == 1 for s in steps.values())
    assert_audited(Event.PROCESSING_FINISHED, subject=recording)


def test_it_skips_the_transcript_without_consent(world: World, tiny_model):
    _consent(world)
    recording = recording_import(path=FIXTURE, therapist=world.alice, client=world.carol)
    recording_process(recording_id=str(recording.pk))
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    step = recording.steps.get(name="transcript")
    assert step.status == StepStatus.SKIPPED and "consented" in step.error
    assert not recording.renditions.filter(kind="transcript").exists()


def test_it_finishes_renditions_when_the_model_is_missing(world: World, settings, tmp_path: Path):
    settings.WHISPER_MODEL = str(tmp_path / "no-such-model")
    _consent(world, ConsentScope.TRANSCRIPTION)
    recording = recording_import(path=FIXTURE, therapist=world.alice, client=world.carol)
    recording_process(recording_id=str(recording.pk))
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    assert recording.renditions.filter(kind="video").exists()
    step = recording.steps.get(name="transcript")
    assert step.status == StepStatus.FAILED
    assert "REVISIT_WHISPER_MODEL" in step.error and "REVISIT_WHISPER_MODEL" in recording.error


def test_it_makes_an_audio_only_session(world: World, tiny_model, tmp_path: Path):
    _consent(world)
    wav = tmp_path / "talk.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:duration=3",
            "-ar",
            "44100",
            "-ac",
            "2",
            str(wav),
        ],
        check=True,
        timeout=60,
    )
    recording = recording_import(path=wav, therapist=world.alice, client=world.carol)
    recording_process(recording_id=str(recording.pk))
    recording.refresh_from_db()
    kinds = set(recording.renditions.values_list("kind", flat=True))
    assert recording.status == RecordingStatus.READY and "audio" in kinds and "video" not in kinds
    assert recording.steps.get(name="poster").status == StepStatus.SKIPPED


def test_it_gives_silence_an_empty_transcript(world: World, tiny_model, tmp_path: Path):
    _consent(world, ConsentScope.TRANSCRIPTION)
    wav = tmp_path / "silence.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=16000:cl=mono",
            "-t",
            "4",
            str(wav),
        ],
        check=True,
        timeout=60,
    )
    recording = recording_import(path=wav, therapist=world.alice, client=world.carol)
    recording_process(recording_id=str(recording.pk))
    recording.refresh_from_db()
    assert recording.status == RecordingStatus.READY
    transcript = Transcript.from_json(_rendition(recording, RenditionKind.TRANSCRIPT).decode())
    assert len(transcript.segments) == 0


def test_it_refuses_video_without_sound_on_import(world: World, tmp_path: Path):
    _consent(world)
    mute = tmp_path / "mute.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=10",
            "-t",
            "2",
            "-pix_fmt",
            "yuv420p",
            str(mute),
        ],
        check=True,
        timeout=60,
    )
    with pytest.raises(ImportRefused, match=r"sound|audio"):
        recording_import(path=mute, therapist=world.alice, client=world.carol)
    assert Recording.objects.count() == 0


def test_it_leaves_no_plaintext_behind(world: World, tiny_model, tmp_path: Path):
    """A marker planted in the recording is found nowhere at rest after processing."""
    _consent(world, ConsentScope.TRANSCRIPTION)
    marker = f"REVISIT-MARKER-{secrets.token_hex(8)}"  # made now: no file can hold it already
    marked = tmp_path / "marked.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(FIXTURE),
            "-c",
            "copy",
            "-t",
            "12",
            "-metadata",
            f"comment={marker}",
            str(marked),
        ],
        check=True,
        timeout=60,
    )
    started = time.time()
    recording = recording_import(path=marked, therapist=world.alice, client=world.carol)
    recording_process(recording_id=str(recording.pk))
    marked.unlink()
    needle = marker.encode()
    roots = [Path(settings.DATA_DIR), Path(tempfile.gettempdir()), Path(settings.SCRATCH_DIR)]
    # pytest's own per-test folders hold the inputs that tests write on purpose.
    harness = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if harness in path.parents:
                continue
            try:
                stat = path.stat()
                if not path.is_file() or stat.st_size > 200 * 1024 * 1024:
                    continue
                if stat.st_mtime < started - 1:  # older than the marker: cannot hold it
                    continue
                if needle in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    assert hits == []
