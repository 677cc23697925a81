"""waveform_peaks() gives one 0..1 peak per bucket, following the loudness of the audio."""

from __future__ import annotations

import subprocess

import pytest

from revisit.lib.ffmpeg import FFMPEG
from revisit.lib.ffprobe import probe
from revisit.lib.waveform import waveform_peaks
from revisit.testing.sessions import make_test_clip


def quiet_then_tone(path, *, quiet_s=1.0, tone_s=1.0, volume=1.0):
    graph = (
        f"anullsrc=r=48000:cl=mono,atrim=duration={quiet_s}[q];"
        f"sine=frequency=440:sample_rate=48000:duration={tone_s},volume={volume}[t];"
        "[q][t]concat=n=2:v=0:a=1[a]"
    )
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-filter_complex",
            graph,
            "-map",
            "[a]",
            "-c:a",
            "aac",
            path,
        ],
        check=True,
        timeout=60,
    )
    return path


def test_it_follows_the_loudness(tmp_path):
    src = quiet_then_tone(tmp_path / "in.m4a")
    progress: list[float] = []
    peaks = waveform_peaks(src, peaks_per_second=10, progress=progress.append)
    assert len(peaks) == pytest.approx(20, abs=1)
    assert max(peaks) == 1.0
    assert all(0.0 <= p <= 1.0 for p in peaks)
    assert max(peaks[:9]) < 0.01  # the quiet second
    assert min(peaks[11:19]) > 0.8  # the tone
    assert progress[-1] == pytest.approx(probe(src).duration_s, abs=0.1)


def test_it_scales_a_quiet_recording_up(tmp_path):
    src = quiet_then_tone(tmp_path / "in.m4a", volume=0.05)
    assert max(waveform_peaks(src, peaks_per_second=10)) == 1.0


@pytest.mark.parametrize("per_second", [1, 3, 7, 50])
def test_it_gives_one_peak_per_bucket(tmp_path, per_second):
    src = make_test_clip(
        tmp_path / "in.wav", container="wav", video_codec=None, audio_codec="pcm_s16le", seconds=2
    )
    peaks = waveform_peaks(src, peaks_per_second=per_second)
    assert len(peaks) == 2 * per_second


def test_it_draws_silence_flat(tmp_path):
    src = make_test_clip(tmp_path / "in.mp4", silent=True, seconds=1.0)
    peaks = waveform_peaks(src, peaks_per_second=20)
    assert len(peaks) == pytest.approx(20, abs=1)
    assert set(peaks) == {0.0}


@pytest.mark.parametrize("per_second", [0, -1, 1001])
def test_it_refuses_a_nonsense_resolution(tmp_path, per_second):
    with pytest.raises(ValueError, match="peaks_per_second"):
        waveform_peaks(tmp_path / "unused.wav", peaks_per_second=per_second)
