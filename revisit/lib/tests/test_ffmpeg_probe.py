"""probe() describes real files made by ffmpeg: streams, sizes, rates, length."""

from __future__ import annotations

import subprocess

import pytest

from revisit.lib.ffmpeg import FFMPEG, FFPROBE
from revisit.lib.ffprobe import probe
from revisit.testing.sessions import make_test_clip


def test_it_reads_video_and_audio_streams(tmp_path):
    clip = make_test_clip(tmp_path / "in.mp4", seconds=1.0, size="320x240", fps=25)
    info = probe(clip)
    assert "mp4" in info.container.split(",")
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert info.size_bytes == clip.stat().st_size
    assert info.video is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", 320, 240)
    assert info.video.fps == pytest.approx(25.0)
    assert info.audio is not None
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("aac", 48000, 2)


def test_it_reads_an_audio_only_file(tmp_path):
    clip = make_test_clip(
        tmp_path / "in.wav",
        container="wav",
        video_codec=None,
        audio_codec="pcm_s16le",
        sample_rate=8000,
        channel_layout="mono",
    )
    info = probe(clip)
    assert info.video is None
    assert info.audio is not None
    assert (info.audio.sample_rate, info.audio.channels) == (8000, 1)


def test_it_reads_a_5_1_layout_at_44_1_khz(tmp_path):
    clip = make_test_clip(
        tmp_path / "in.mkv",
        container="matroska",
        video_codec=None,
        audio_codec="ac3",
        sample_rate=44100,
        channel_layout="5.1",
    )
    audio = probe(clip).audio
    assert audio is not None
    assert (audio.codec, audio.sample_rate, audio.channels) == ("ac3", 44100, 6)
    assert audio.channel_layout is not None
    assert audio.channel_layout.startswith("5.1")


def test_it_scans_for_the_length_when_the_header_has_none(tmp_path):
    # A WebM written to a pipe has no duration in its header, like a browser's MediaRecorder.
    live = tmp_path / "live.webm"
    pipe_args = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"]
    pipe_args += ["-f", "lavfi", "-i", "sine=duration=2"]
    pipe_args += ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", "-f", "webm", "-"]
    with live.open("wb") as out:
        subprocess.run(
            [FFMPEG, "-nostdin", "-v", "error", *pipe_args], stdout=out, check=True, timeout=60
        )
    header = subprocess.run(
        [FFPROBE, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", live],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert header.stdout.strip() in ("", "N/A")  # the premise: no length in the header
    info = probe(live)
    assert info.duration_scanned
    assert info.duration_s == pytest.approx(2.0, abs=0.1)


def test_it_treats_cover_art_as_no_video(tmp_path):
    cover = make_test_clip(
        tmp_path / "cover.png",
        container="image2",
        audio_codec=None,
        video_codec="png",
        extra=("-frames:v", "1", "-update", "1"),
    )
    song = tmp_path / "song.mp3"
    args = [FFMPEG, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=1"]
    args += ["-i", str(cover), "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "png"]
    args += ["-frames:v", "1", "-disposition:v", "attached_pic", str(song)]
    subprocess.run(args, check=True, timeout=60)
    info = probe(song)
    assert any(s.kind == "video" and s.attached_pic for s in info.streams)
    assert info.video is None
    assert info.audio is not None


def test_it_reads_rotation_and_turns_the_display_size(tmp_path):
    clip = make_test_clip(tmp_path / "flat.mp4", seconds=0.5, size="320x240")
    turned = tmp_path / "turned.mp4"
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-v",
            "error",
            "-i",
            clip,
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            turned,
        ],
        check=True,
        timeout=60,
    )
    video = probe(turned).video
    assert video is not None
    assert video.rotation in (90, 270)
    assert (video.width, video.height) == (320, 240)
    assert video.display_size == (240, 320)
