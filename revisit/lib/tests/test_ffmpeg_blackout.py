"""blackout_and_silence() hides chosen time ranges and keeps the timeline."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from revisit.lib.ffmpeg import FFMPEG
from revisit.lib.ffprobe import probe
from revisit.lib.renditions import blackout_and_silence, normalise_ranges
from revisit.testing.sessions import decode_pcm, make_test_clip


def luma_at(path, seconds):
    frame = subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-ss",
            str(seconds),
            "-i",
            path,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return float(np.frombuffer(frame, dtype=np.uint8).mean())


def rms(samples, start, end, rate=16000):
    part = samples[int(start * rate) : int(end * rate)]
    return float(np.sqrt(np.mean(part**2)))


@pytest.fixture(scope="module")
def held(tmp_path_factory):
    folder = tmp_path_factory.mktemp("held")
    src = make_test_clip(folder / "in.mp4", seconds=3.0, size="160x120")
    dst = folder / "held.mp4"
    progress: list[float] = []
    blackout_and_silence(src, dst, [(2.0, 2.5), (1.0, 2.2)], probe(src), progress=progress.append)
    return src, dst, progress


def test_it_blacks_out_the_picture_in_range_only(held):
    _, dst, _ = held
    assert luma_at(dst, 1.5) < 20
    assert luma_at(dst, 2.4) < 20
    assert luma_at(dst, 0.5) > 40
    assert luma_at(dst, 2.8) > 40


def test_it_silences_the_sound_in_range_only(held):
    _, dst, _ = held
    samples = decode_pcm(dst)[:, 0]
    assert rms(samples, 1.1, 2.4) < 0.001
    assert rms(samples, 0.1, 0.9) > 0.05
    assert rms(samples, 2.6, 2.9) > 0.05


def test_it_keeps_the_length(held):
    src, dst, progress = held
    assert probe(dst).duration_s == pytest.approx(probe(src).duration_s, abs=0.1)
    assert progress[-1] == pytest.approx(3.0, abs=0.1)


def test_it_silences_audio_only_sources(tmp_path):
    src = make_test_clip(tmp_path / "in.m4a", container="mp4", video_codec=None, seconds=2.0)
    dst = tmp_path / "held.m4a"
    blackout_and_silence(src, dst, [(0.5, 1.5)], probe(src))
    info = probe(dst)
    assert info.video is None
    samples = decode_pcm(dst)[:, 0]
    assert rms(samples, 0.6, 1.4) < 0.001
    assert rms(samples, 1.6, 1.9) > 0.05


@pytest.mark.parametrize(
    ("ranges", "expected"),
    [
        ([(1.0, 2.0)], [(1.0, 2.0)]),
        ([(3.0, 4.0), (1.0, 2.0)], [(1.0, 2.0), (3.0, 4.0)]),
        ([(1.0, 2.5), (2.0, 3.0)], [(1.0, 3.0)]),
        ([(1.0, 2.0), (2.0, 3.0)], [(1.0, 3.0)]),
        ([(-5.0, 1.0), (9.0, 20.0)], [(0.0, 1.0), (9.0, 10.0)]),
        ([(2.0, 1.0), (4.0, 4.0), (11.0, 12.0)], []),
    ],
)
def test_it_tidies_the_ranges(ranges, expected):
    assert normalise_ranges(ranges, duration_s=10.0) == expected


def test_it_refuses_ranges_that_are_not_numbers():
    with pytest.raises(ValueError, match="finite"):
        normalise_ranges([(float("nan"), 1.0)], duration_s=10.0)
