"""A re-encode fits 720p keeping the aspect, has even sides, and browser-friendly audio."""

from __future__ import annotations

import subprocess

import pytest

from revisit.lib.ffmpeg import FFMPEG
from revisit.lib.ffprobe import probe
from revisit.lib.renditions import make_mp4
from revisit.testing.sessions import make_test_clip


def transcode(tmp_path, **clip):
    src = make_test_clip(tmp_path / "in.mkv", container="matroska", seconds=0.5, **clip)
    dst = tmp_path / "out.mp4"
    make_mp4(src, dst, probe(src))
    return probe(dst)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("1920x1080", (1280, 720)),
        ("1080x1920", (720, 1280)),
        ("640x480", (640, 480)),
        ("322x242", (322, 242)),
        ("321x241", (320, 240)),
        ("2000x1000", (1280, 640)),
    ],
)
def test_it_fits_720p_with_even_sides(tmp_path, size, expected):
    video = transcode(tmp_path, size=size, video_codec="mpeg4").video
    assert video is not None
    assert (video.codec, video.width, video.height) == ("h264", *expected)


def test_it_turns_a_rotated_picture_upright(tmp_path):
    flat = make_test_clip(tmp_path / "flat.mp4", seconds=0.5, size="320x240", video_codec="mpeg4")
    turned = tmp_path / "turned.mp4"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-i",
            flat,
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            turned,
        ],
        check=True,
        timeout=60,
    )
    dst = tmp_path / "out.mp4"
    make_mp4(turned, dst, probe(turned))
    video = probe(dst).video
    assert video is not None
    assert (video.width, video.height, video.rotation) == (240, 320, 0)


def test_it_halves_a_60_fps_source(tmp_path):
    video = transcode(tmp_path, fps=60, video_codec="mpeg4").video
    assert video is not None
    assert video.fps == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("rate", "layout", "expected_rate", "expected_channels"),
    [
        (8000, "mono", 48000, 1),
        (44100, "stereo", 44100, 2),
        (22050, "stereo", 48000, 2),
        (48000, "5.1", 48000, 2),
    ],
)
def test_it_makes_browser_friendly_audio(tmp_path, rate, layout, expected_rate, expected_channels):
    audio = transcode(tmp_path, audio_codec="flac", sample_rate=rate, channel_layout=layout).audio
    assert audio is not None
    assert (audio.codec, audio.sample_rate, audio.channels) == (
        "aac",
        expected_rate,
        expected_channels,
    )
