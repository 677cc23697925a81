"""validate_media() accepts sessions and refuses what no session looks like, with reasons."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from revisit.lib.ffprobe import MediaInfo, MediaRejected, RejectReason, StreamInfo, probe
from revisit.lib.media_check import validate_media as _validate
from revisit.testing.sessions import make_test_clip

VIDEO = StreamInfo(index=0, kind="video", codec="h264", width=1280, height=720, fps=30.0)
AUDIO = StreamInfo(index=1, kind="audio", codec="aac", sample_rate=48000, channels=2)
SESSION = MediaInfo(
    duration_s=50 * 60.0,
    container="mov,mp4,m4a,3gp,3g2,mj2",
    size_bytes=300_000_000,
    bit_rate=800_000,
    streams=(VIDEO, AUDIO),
)


def validate(info: MediaInfo) -> None:
    _validate(info, max_duration_s=3 * 3600, max_width=3840, max_height=2160)


def reason(info: MediaInfo) -> RejectReason:
    with pytest.raises(MediaRejected) as caught:
        validate(info)
    assert caught.value.message  # always something to tell the uploader
    return caught.value.reason_code


def test_it_accepts_a_fifty_minute_video_session():
    validate(SESSION)


def test_it_accepts_audio_only():
    validate(replace(SESSION, streams=(AUDIO,)))


def test_it_accepts_portrait_video_within_the_limits():
    validate(replace(SESSION, streams=(replace(VIDEO, width=2160, height=3840), AUDIO)))


def test_it_refuses_video_without_sound():
    assert reason(replace(SESSION, streams=(VIDEO,))) == RejectReason.NO_AUDIO


def test_it_refuses_an_audio_stream_with_no_channels():
    broken = replace(AUDIO, channels=0)
    assert reason(replace(SESSION, streams=(VIDEO, broken))) == RejectReason.NO_AUDIO


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 720), (1280, 65_535), (8, 8), (1280, 0), (None, None), (7680, 4320)],
)
def test_it_refuses_absurd_picture_sizes(width, height):
    video = replace(VIDEO, width=width, height=height)
    assert reason(replace(SESSION, streams=(video, AUDIO))) == RejectReason.BAD_DIMENSIONS


@pytest.mark.parametrize("duration", [0.0, -1.0, math.nan, 0.4, 30 * 24 * 3600.0])
def test_it_refuses_zero_or_absurd_lengths(duration):
    assert reason(replace(SESSION, duration_s=duration)) == RejectReason.BAD_DURATION


def test_it_refuses_a_recording_over_the_practice_limit():
    with pytest.raises(MediaRejected) as caught:
        _validate(
            replace(SESSION, duration_s=95 * 60.0),
            max_duration_s=90 * 60.0,
            max_width=3840,
            max_height=2160,
        )
    assert caught.value.reason_code == RejectReason.TOO_LONG
    assert "95 minutes" in caught.value.message
    assert "90 minutes" in caught.value.message


def test_it_refuses_a_file_with_dozens_of_streams():
    many = tuple(replace(AUDIO, index=i) for i in range(40))
    assert reason(replace(SESSION, streams=many)) == RejectReason.NOT_MEDIA


def test_it_accepts_a_real_silent_recording(tmp_path):
    quiet = make_test_clip(tmp_path / "quiet.mp4", seconds=1.5, silent=True)
    validate(probe(quiet))


def test_it_refuses_a_real_video_without_sound(tmp_path):
    mute = make_test_clip(tmp_path / "mute.mp4", seconds=1.5, audio_codec=None)
    assert reason(probe(mute)) == RejectReason.NO_AUDIO
