"""decode_check() finds damage part way through a file that its headers do not show."""

from __future__ import annotations

import random

import pytest

from revisit.lib.ffprobe import MediaRejected, RejectReason, probe
from revisit.lib.media_check import decode_check, validate_media
from revisit.testing.sessions import make_test_clip


def validate(info, report):
    validate_media(info, decoded=report, max_duration_s=3600.0, max_width=3840, max_height=2160)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decode")
    return make_test_clip(folder / "clean.mp4", seconds=3.0, extra=("-movflags", "+faststart"))


def test_it_reports_a_clean_file_as_whole(clean):
    progress: list[float] = []
    report = decode_check(clean, timeout_s=60, progress=progress.append)
    assert report.ok
    assert report.errors == ()
    assert report.decoded_s == pytest.approx(3.0, abs=0.1)
    assert progress
    validate(probe(clean), report)


def test_it_finds_garbage_written_over_the_middle(clean, tmp_path):
    data = bytearray(clean.read_bytes())
    middle = len(data) // 2
    noise = random.Random(7)
    data[middle : middle + 4000] = bytes(noise.randrange(256) for _ in range(4000))
    damaged = tmp_path / "Dave Example.mp4"
    damaged.write_bytes(bytes(data))
    info = probe(damaged)  # the headers still look fine
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    report = decode_check(damaged, timeout_s=60)
    assert not report.ok
    assert report.error_count >= len(report.errors) > 0
    assert not any("Dave" in line for line in report.errors)
    with pytest.raises(MediaRejected) as caught:
        validate(info, report)
    assert caught.value.reason_code == RejectReason.CORRUPT


def test_it_finds_a_file_cut_off_part_way(clean, tmp_path):
    data = clean.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # index first, so it still probes
    info = probe(cut)
    report = decode_check(cut, timeout_s=60)
    with pytest.raises(MediaRejected) as caught:
        validate(info, report)
    assert caught.value.reason_code == RejectReason.CORRUPT
