"""make_poster() writes one JPEG still, a tenth of the way in."""

from __future__ import annotations

import subprocess

import pytest

from revisit.lib.ffmpeg import FFPROBE
from revisit.lib.ffprobe import probe
from revisit.lib.renditions import make_poster, poster_time
from revisit.testing.sessions import make_test_clip


def test_it_writes_a_jpeg_of_the_picture(tmp_path):
    src = make_test_clip(tmp_path / "in.mp4", seconds=2.0, size="320x240")
    dst = tmp_path / "poster.jpg"
    assert make_poster(src, dst, probe(src))
    assert dst.read_bytes()[:3] == b"\xff\xd8\xff"
    still = probe_image(dst)
    assert (still["width"], still["height"]) == (320, 240)


def test_it_scales_a_large_picture_down(tmp_path):
    src = make_test_clip(tmp_path / "in.mkv", container="matroska", size="1920x1080", seconds=0.5)
    dst = tmp_path / "poster.jpg"
    assert make_poster(src, dst, probe(src))
    still = probe_image(dst)
    assert (still["width"], still["height"]) == (1280, 720)


def test_it_makes_no_poster_for_audio_only(tmp_path):
    src = make_test_clip(tmp_path / "in.m4a", container="mp4", video_codec=None)
    dst = tmp_path / "poster.jpg"
    assert not make_poster(src, dst, probe(src))
    assert not dst.exists()


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(3000.0, 300.0), (60.0, 6.0), (10.0, 1.0), (4.0, 1.0), (1.0, 0.5), (0.0, 0.0)],
)
def test_it_picks_a_tenth_of_the_way_or_one_second(duration, expected):
    assert poster_time(duration) == pytest.approx(expected)


def probe_image(path):
    out = subprocess.run(
        [
            FFPROBE,
            "-v",
            "error",
            "-show_entries",
            "stream=width,height,codec_name",
            "-of",
            "default=nw=1",
            path,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    fields = dict(line.split("=", 1) for line in out.splitlines())
    assert fields["codec_name"] == "mjpeg"
    return {"width": int(fields["width"]), "height": int(fields["height"])}
