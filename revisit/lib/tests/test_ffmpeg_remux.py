"""make_mp4() copies what browsers already play and re-encodes only what they do not."""

from __future__ import annotations

import pytest

from revisit.lib.ffprobe import probe
from revisit.lib.renditions import make_mp4
from revisit.testing.sessions import make_test_clip


def codecs(path):
    info = probe(path)
    return (info.video.codec if info.video else None, info.audio.codec if info.audio else None)


def test_it_remuxes_h264_with_aac(tmp_path):
    src = make_test_clip(tmp_path / "in.mkv", container="matroska", seconds=1.0)
    dst = tmp_path / "out.mp4"
    progress: list[float] = []
    result = make_mp4(src, dst, probe(src), progress=progress.append)
    assert result is not None
    assert result.remuxed
    assert codecs(dst) == ("h264", "aac")
    assert "mp4" in probe(dst).container.split(",")
    assert progress[-1] == pytest.approx(1.0, abs=0.1)
    assert not (tmp_path / "out.mp4.part").exists()


def test_it_transcodes_webm_vp8_opus(tmp_path):
    src = make_test_clip(
        tmp_path / "in.webm", container="webm", video_codec="libvpx", audio_codec="libopus"
    )
    dst = tmp_path / "out.mp4"
    result = make_mp4(src, dst, probe(src))
    assert result is not None
    assert (result.video_copied, result.audio_copied) == (False, False)
    assert codecs(dst) == ("h264", "aac")
    assert probe(dst).duration_s == pytest.approx(1.0, abs=0.1)


def test_it_copies_h264_but_transcodes_opus(tmp_path):
    src = make_test_clip(tmp_path / "in.mkv", container="matroska", audio_codec="libopus")
    dst = tmp_path / "out.mp4"
    result = make_mp4(src, dst, probe(src))
    assert result is not None
    assert (result.video_copied, result.audio_copied) == (True, False)
    assert codecs(dst) == ("h264", "aac")


def test_it_transcodes_h264_in_a_pixel_format_browsers_cannot_play(tmp_path):
    src = make_test_clip(tmp_path / "in.mp4", extra=("-pix_fmt", "yuv444p"))
    dst = tmp_path / "out.mp4"
    result = make_mp4(src, dst, probe(src))
    assert result is not None
    assert not result.video_copied
    video = probe(dst).video
    assert video is not None
    assert (video.codec, video.pix_fmt) == ("h264", "yuv420p")


def test_it_makes_no_video_file_from_audio_only(tmp_path):
    src = make_test_clip(tmp_path / "in.m4a", container="mp4", video_codec=None)
    dst = tmp_path / "out.mp4"
    assert make_mp4(src, dst, probe(src)) is None
    assert not dst.exists()
