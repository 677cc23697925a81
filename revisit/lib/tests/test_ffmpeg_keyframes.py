"""A re-encoded MP4 has a key frame every two seconds, so seeking is quick and even."""

from __future__ import annotations

import itertools
import subprocess

import pytest

from revisit.lib.ffmpeg import FFPROBE
from revisit.lib.ffprobe import probe
from revisit.lib.renditions import blackout_and_silence, make_mp4
from revisit.testing.sessions import make_test_clip


def key_frame_times(path):
    out = subprocess.run(
        [
            FFPROBE,
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-skip_frame",
            "nokey",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
            path,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return [float(line.strip().rstrip(",")) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    # A key frame every 5 s and scene-cut detection on in the original, so 2 s must be imposed.
    folder = tmp_path_factory.mktemp("keys")
    return make_test_clip(
        folder / "in.webm",
        container="webm",
        seconds=6.5,
        size="160x120",
        fps=25,
        video_codec="libvpx",
        audio_codec="libopus",
        extra=("-g", "125"),
    )


def assert_every_two_seconds(times):
    assert times[0] == pytest.approx(0.0, abs=0.05)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) >= 3
    assert all(gap == pytest.approx(2.0, abs=0.05) for gap in gaps)


def test_it_puts_a_key_frame_every_two_seconds(source, tmp_path):
    assert key_frame_times(source) == pytest.approx([0.0, 5.0], abs=0.05)  # the premise
    dst = tmp_path / "out.mp4"
    make_mp4(source, dst, probe(source))
    assert_every_two_seconds(key_frame_times(dst))


def test_it_keeps_the_key_frame_interval_when_holding_back(source, tmp_path):
    dst = tmp_path / "held.mp4"
    blackout_and_silence(source, dst, [(1.0, 3.0)], probe(source))
    assert_every_two_seconds(key_frame_times(dst))
