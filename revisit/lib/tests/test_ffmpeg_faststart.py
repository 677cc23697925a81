"""MP4 and M4A renditions put their index (moov) before the media data (mdat)."""

from __future__ import annotations

import struct

import pytest

from revisit.lib.ffprobe import probe
from revisit.lib.renditions import blackout_and_silence, make_audio_m4a, make_mp4
from revisit.testing.sessions import make_test_clip


def top_level_boxes(path):
    names = []
    data = path.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        names.append(kind.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return names


@pytest.fixture(scope="module")
def slow_start(tmp_path_factory):
    # ffmpeg's default for MP4 is the index at the end; the rendition must move it.
    folder = tmp_path_factory.mktemp("faststart")
    clip = make_test_clip(folder / "in.mp4", seconds=1.0)
    boxes = top_level_boxes(clip)
    assert boxes.index("mdat") < boxes.index("moov")  # the premise
    return clip


def assert_index_first(path):
    boxes = top_level_boxes(path)
    assert "moov" in boxes
    assert "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat")


def test_it_moves_the_index_to_the_front_when_remuxing(slow_start, tmp_path):
    dst = tmp_path / "out.mp4"
    result = make_mp4(slow_start, dst, probe(slow_start))
    assert result is not None
    assert result.remuxed
    assert_index_first(dst)


def test_it_puts_the_index_first_in_every_mp4_rendition(slow_start, tmp_path):
    info = probe(slow_start)
    m4a, held = tmp_path / "a.m4a", tmp_path / "held.mp4"
    make_audio_m4a(slow_start, m4a, info=info)
    blackout_and_silence(slow_start, held, [(0.1, 0.2)], info)
    assert_index_first(m4a)
    assert_index_first(held)
