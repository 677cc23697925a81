"""Whether Revisit accepts a recording: limits on what ffprobe saw, and a full decode.

:func:`validate_media` checks a :class:`~revisit.lib.ffprobe.MediaInfo` against the practice's
limits; :func:`decode_check` decodes the whole file to find damage that the container headers do
not show. A refusal raises :class:`~revisit.lib.ffprobe.MediaRejected`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from revisit.lib.ffmpeg import (
    BASE_ARGS,
    FFMPEG,
    ProgressCallback,
    input_args,
    parse_progress_line,
    run_streaming,
)
from revisit.lib.ffprobe import MediaInfo, MediaRejected, RejectReason, StreamInfo, not_media

MIN_DIMENSION = 16
# Outside these a "recording" is broken or hostile: no session lasts under a second or a day.
MIN_DURATION_S = 1.0
ABSURD_DURATION_S = 24 * 3600.0
MAX_STREAMS = 16
# A decode that stops this much short of the declared length means the file is cut off.
DECODE_SHORTFALL_S = 2.0


def validate_media(
    info: MediaInfo,
    *,
    max_duration_s: float,
    max_width: int,
    max_height: int,
    decoded: DecodeReport | None = None,
) -> None:
    """Raise :class:`MediaRejected` unless ``info`` describes a recording Revisit accepts.

    A recording needs an audio stream (video is optional), a sensible picture size and a length
    from a second to ``max_duration_s``. ``max_width``/``max_height`` bound the picture in either
    orientation. With ``decoded`` (from :func:`decode_check`) damage found by decoding is
    refused too.
    """
    if len(info.streams) > MAX_STREAMS:
        raise not_media()
    audio = info.audio
    if audio is None or not audio.channels or not audio.sample_rate:
        raise MediaRejected(
            RejectReason.NO_AUDIO,
            "This recording has no sound. Revisit needs the audio of the session; "
            "please check that the microphone was on and upload it again.",
        )
    video = info.video
    if video is not None:
        _check_dimensions(video, max_width=max_width, max_height=max_height)
    duration = info.duration_s
    if math.isnan(duration) or duration <= 0 or duration > ABSURD_DURATION_S:
        raise MediaRejected(
            RejectReason.BAD_DURATION,
            "The length of this recording cannot be read; the file may be damaged.",
        )
    if duration < MIN_DURATION_S:
        raise MediaRejected(
            RejectReason.BAD_DURATION,
            "This recording is shorter than a second. Please check that it is the whole session.",
        )
    if duration > max_duration_s:
        raise MediaRejected(
            RejectReason.TOO_LONG,
            f"This recording is {_minutes(duration)} long; the limit for this practice is "
            f"{_minutes(max_duration_s)}.",
        )
    if decoded is not None:
        _check_decoded(decoded, duration)


def _check_dimensions(video: StreamInfo, *, max_width: int, max_height: int) -> None:
    size = video.display_size
    ok = size is not None and min(size) >= MIN_DIMENSION
    if size is not None and ok:
        long_side, short_side = max(size), min(size)
        ok = long_side <= max(max_width, max_height) and short_side <= min(max_width, max_height)
    if not ok:
        raise MediaRejected(
            RejectReason.BAD_DIMENSIONS,
            "The picture size of this video is not one a camera produces; the file may be damaged.",
        )


def _minutes(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{minutes / 60:.1f} hours"


@dataclass(frozen=True)
class DecodeReport:
    """What a full decode found: error lines (paths scrubbed), their count, decoded length."""

    errors: tuple[str, ...]
    error_count: int
    decoded_s: float

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def decode_check(
    path: Path, *, timeout_s: float, progress: ProgressCallback | None = None
) -> DecodeReport:
    """Decode the first video and audio streams to nowhere and report any errors.

    Headers can look fine while the data is damaged part way through; only decoding shows it.
    Raises :class:`FfmpegError` when ffmpeg fails outright or times out.
    """
    decoded = 0.0

    def consume(stdout: IO[bytes]) -> None:
        nonlocal decoded
        for raw in stdout:
            seconds = parse_progress_line(raw.decode("ascii", errors="replace"))
            if seconds is not None:
                decoded = seconds
                if progress is not None:
                    progress(seconds)

    args = [
        "-progress",
        "pipe:1",
        "-nostats",
        *BASE_ARGS,
        *input_args(path),
        "-map",
        "0:V:0?",
        "-map",
        "0:a:0?",
        "-f",
        "null",
        "-",
    ]
    output = run_streaming(FFMPEG, args, timeout_s=timeout_s, paths=[path], consume=consume)
    return DecodeReport(errors=output.first_lines, error_count=output.line_count, decoded_s=decoded)


def _check_decoded(report: DecodeReport, declared_s: float) -> None:
    if report.ok and report.decoded_s >= declared_s - DECODE_SHORTFALL_S:
        return
    raise MediaRejected(
        RejectReason.CORRUPT,
        "This recording is damaged part of the way through and cannot be played reliably. "
        "If you still have the original, please upload it again.",
    )
