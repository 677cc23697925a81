"""make_audio_m4a() gives AAC in M4A with no picture, from any source."""

from __future__ import annotations

import pytest

from revisit.lib.ffprobe import probe
from revisit.lib.renditions import make_audio_m4a
from revisit.testing.sessions import make_test_clip


@pytest.mark.parametrize(
    ("container", "video", "audio"),
    [("webm", "libvpx", "libopus"), ("mp4", "libx264", "aac"), ("wav", None, "pcm_s16le")],
)
def test_it_writes_aac_without_video(tmp_path, container, video, audio):
    src = make_test_clip(
        tmp_path / f"in.{container}", container=container, video_codec=video, audio_codec=audio
    )
    dst = tmp_path / "out.m4a"
    progress: list[float] = []
    make_audio_m4a(src, dst, info=probe(src), progress=progress.append)
    info = probe(dst)
    assert "m4a" in info.container.split(",")
    assert [s.kind for s in info.streams] == ["audio"]
    assert info.audio is not None
    assert info.audio.codec == "aac"
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert progress


def test_it_works_without_probe_information(tmp_path):
    src = make_test_clip(tmp_path / "in.mkv", container="matroska", audio_codec="flac")
    dst = tmp_path / "out.m4a"
    make_audio_m4a(src, dst)
    audio = probe(dst).audio
    assert audio is not None
    assert audio.codec == "aac"
