"""The files a player needs, made from an original recording.

- :func:`make_mp4`: H.264/AAC MP4 with the index first (``+faststart``) and no metadata. It
  copies streams that browsers already play (H.264 8-bit 4:2:0 video, AAC audio in at most two
  channels) and re-encodes the rest: libx264 ``veryfast`` within 1280x720 (either orientation),
  even dimensions, at most 30 frames a second, a key frame every 2 s; AAC at 44.1 or 48 kHz.
- :func:`make_audio_m4a`: the sound alone, AAC in M4A, for the audio-only mode.
- :func:`make_poster`: one JPEG frame at a tenth of the way in.
- :func:`extract_wav16k`: 16 kHz mono 16-bit WAV for the speech model, optionally one channel.
- :func:`blackout_and_silence`: a copy with the picture black and the sound silent over given
  time ranges, same timeline, for holding parts of a session back.

Each writes ``dst`` through a ``.part`` file renamed on success, so a failure never leaves a
half-written rendition, and takes an optional progress callback (seconds processed).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from revisit.lib.ffmpeg import (
    BASE_ARGS,
    FFMPEG,
    FfmpegError,
    ProgressCallback,
    file_url,
    input_args,
    run_tool,
)
from revisit.lib.ffprobe import MediaInfo, StreamInfo, probe

MAX_LONG_SIDE = 1280
MAX_SHORT_SIDE = 720
MAX_FPS = Fraction(30)
FALLBACK_FPS = Fraction(25)
KEYFRAME_INTERVAL_S = 2
X264_PRESET = "veryfast"
X264_CRF = "23"
AAC_BITRATE = "128k"
AAC_RATES = (44100, 48000)
POSTER_FRACTION = 0.1
POSTER_SHORT_CLIP_S = 1.0
# Without a known length, allow an hour of input at the slowest expected speed.
DEFAULT_TIMEOUT_S = 3600.0

# Strip global, stream and chapter metadata (titles, dates, device names, GPS tags, chapters).
STRIP_METADATA: tuple[str, ...] = ("-map_metadata", "-1", "-map_chapters", "-1")
MP4_OUT: tuple[str, ...] = (*STRIP_METADATA, "-movflags", "+faststart", "-f", "mp4")


@dataclass(frozen=True)
class Mp4Result:
    """Which streams :func:`make_mp4` copied unchanged (the rest were re-encoded)."""

    video_copied: bool
    audio_copied: bool

    @property
    def remuxed(self) -> bool:
        return self.video_copied and self.audio_copied


def can_copy_video(video: StreamInfo) -> bool:
    return video.codec == "h264" and video.pix_fmt in ("yuv420p", "yuvj420p")


def can_copy_audio(audio: StreamInfo) -> bool:
    return audio.codec == "aac" and audio.channels is not None and 1 <= audio.channels <= 2


def target_size(video: StreamInfo) -> tuple[int, int]:
    """Display size scaled down to fit 1280x720 (either orientation), both sides even."""
    width, height = video.display_size or (MAX_LONG_SIDE, MAX_SHORT_SIDE)
    scale = min(1.0, MAX_LONG_SIDE / max(width, height), MAX_SHORT_SIDE / min(width, height))
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    """The nearest whole number, made even by dropping one if it is odd (never upscales)."""
    return max(2, round(value) // 2 * 2)


def output_rate(video: StreamInfo) -> Fraction:
    """Frame rate for a re-encode: the source's, halved above 30, 30 when it is implausible."""
    if video.fps is None or video.fps < 1:
        return FALLBACK_FPS
    rate = Fraction(video.fps).limit_denominator(1001)
    if rate > 2 * MAX_FPS:  # a time base, not a frame rate (common in browser WebM)
        return MAX_FPS
    if rate > MAX_FPS:
        rate /= 2
    return rate


def video_encode_args(video: StreamInfo, *, filters: Sequence[str] = ()) -> list[str]:
    width, height = target_size(video)
    rate = output_rate(video)
    gop = str(max(1, round(KEYFRAME_INTERVAL_S * rate)))
    chain = [*filters, f"scale={width}:{height}:flags=bicubic", "setsar=1", "format=yuv420p"]
    return [
        "-filter:v",
        ",".join(chain),
        "-c:v",
        "libx264",
        "-preset",
        X264_PRESET,
        "-crf",
        X264_CRF,
        "-profile:v",
        "high",
        "-r",
        str(rate),
        "-fps_mode",
        "cfr",
        "-g",
        gop,
        "-keyint_min",
        gop,
        "-sc_threshold",
        "0",
    ]


def audio_encode_args(audio: StreamInfo, *, filters: Sequence[str] = ()) -> list[str]:
    args = ["-c:a", "aac", "-b:a", AAC_BITRATE]
    if filters:
        args += ["-filter:a", ",".join(filters)]
    if audio.channels is None or audio.channels > 2:
        args += ["-ac", "2"]
    if audio.sample_rate not in AAC_RATES:
        args += ["-ar", str(AAC_RATES[-1])]
    return args


def make_mp4(
    src: Path,
    dst: Path,
    info: MediaInfo,
    *,
    progress: ProgressCallback | None = None,
    timeout_s: float | None = None,
) -> Mp4Result | None:
    """Write the browser rendition of ``src``; None (nothing written) for an audio-only source."""
    video = info.video
    if video is None:
        return None
    audio = info.audio
    copy_video = can_copy_video(video)
    copy_audio = audio is not None and can_copy_audio(audio)
    args = [*BASE_ARGS, "-y", *input_args(src), "-map", "0:V:0", "-map", "0:a:0?"]
    args += ["-c:v", "copy"] if copy_video else video_encode_args(video)
    if audio is not None:
        args += ["-c:a", "copy"] if copy_audio else audio_encode_args(audio)
    if timeout_s is None:
        timeout_s = _budget(info, per_second=0.1 if copy_video else 2.0)
    _write_required(args, MP4_OUT, src=src, dst=dst, timeout_s=timeout_s, progress=progress)
    return Mp4Result(video_copied=copy_video, audio_copied=copy_audio)


def make_audio_m4a(
    src: Path,
    dst: Path,
    *,
    info: MediaInfo | None = None,
    progress: ProgressCallback | None = None,
    timeout_s: float | None = None,
) -> None:
    """Write the first audio stream as AAC in M4A (copied when ``info`` shows it is AAC)."""
    audio = info.audio if info is not None else None
    args = [*BASE_ARGS, "-y", *input_args(src), "-map", "0:a:0", "-vn"]
    if audio is not None and can_copy_audio(audio):
        args += ["-c:a", "copy"]
    else:
        args += audio_encode_args(audio or StreamInfo(index=0, kind="audio", codec="unknown"))
    if timeout_s is None:
        timeout_s = _budget(info, per_second=0.2) if info is not None else DEFAULT_TIMEOUT_S
    _write_required(args, MP4_OUT, src=src, dst=dst, timeout_s=timeout_s, progress=progress)


def poster_time(duration_s: float) -> float:
    """A tenth of the way in; a second in (or the middle) for clips under ten seconds."""
    if not math.isfinite(duration_s) or duration_s <= 0:
        return 0.0
    if duration_s >= POSTER_SHORT_CLIP_S / POSTER_FRACTION:
        return duration_s * POSTER_FRACTION
    return min(POSTER_SHORT_CLIP_S, duration_s / 2)


def make_poster(
    src: Path,
    dst: Path,
    info: MediaInfo,
    *,
    progress: ProgressCallback | None = None,
    timeout_s: float = 120.0,
) -> bool:
    """Write a JPEG still of ``src``; False (nothing written) for an audio-only source."""
    video = info.video
    if video is None:
        return False
    width, height = target_size(video)
    for seek in (poster_time(info.duration_s), 0.0):
        args = [
            *BASE_ARGS,
            "-y",
            *input_args(src, seek_s=seek),
            "-map",
            "0:V:0",
            "-frames:v",
            "1",
            "-filter:v",
            f"scale={width}:{height}:flags=bicubic,setsar=1",
            "-q:v",
            "3",
        ]
        out = (*STRIP_METADATA, "-f", "image2", "-update", "1")
        if _write(args, out, src=src, dst=dst, timeout_s=timeout_s, progress=progress):
            return True
    return False


def extract_wav16k(
    src: Path,
    dst: Path,
    *,
    channel: int | None = None,
    info: MediaInfo | None = None,
    progress: ProgressCallback | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Write 16 kHz mono 16-bit PCM WAV: all channels mixed, or only ``channel`` (0 = left).

    A ``channel`` the first audio stream does not have raises ValueError (ffmpeg would quietly
    write silence); ``src`` is probed to check unless ``info`` is given.
    """
    args = [*BASE_ARGS, "-y", *input_args(src), "-map", "0:a:0", "-vn"]
    if channel is not None:
        audio = (info or probe(src)).audio
        available = audio.channels if audio is not None and audio.channels else 0
        if not 0 <= channel < available:
            raise ValueError(f"channel must be 0 to {available - 1}; got {channel}")
        args += ["-filter:a", f"pan=mono|c0=c{channel}"]
    args += ["-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"]
    out = (*STRIP_METADATA, "-fflags", "+bitexact", "-f", "wav")
    _write_required(args, out, src=src, dst=dst, timeout_s=timeout_s, progress=progress)


def normalise_ranges(
    ranges: Sequence[tuple[float, float]], *, duration_s: float
) -> list[tuple[float, float]]:
    """Ranges clipped to the recording, sorted, overlaps merged, empty ones dropped."""
    clipped: list[tuple[float, float]] = []
    for start, end in ranges:
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError("time ranges must be finite numbers")
        start, end = max(start, 0.0), min(end, duration_s)
        if end > start:
            clipped.append((start, end))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(clipped):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def blackout_and_silence(
    src: Path,
    dst: Path,
    ranges: Sequence[tuple[float, float]],
    info: MediaInfo,
    *,
    progress: ProgressCallback | None = None,
    timeout_s: float | None = None,
) -> None:
    """Write an MP4 of ``src`` with black picture and silence over ``ranges`` (seconds).

    The timeline is unchanged, so times in transcripts and notes still match. An audio-only
    source gives an audio-only MP4 (name it ``.m4a``). Both streams are re-encoded.
    """
    spans = normalise_ranges(ranges, duration_s=info.duration_s)
    when = "+".join(f"between(t\\,{start:.3f}\\,{end:.3f})" for start, end in spans) or "0"
    args = [*BASE_ARGS, "-y", *input_args(src)]
    video, audio = info.video, info.audio
    if video is not None:
        black = f"drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable={when}"
        args += ["-map", "0:V:0", *video_encode_args(video, filters=[black])]
    if audio is not None:
        args += ["-map", "0:a:0", *audio_encode_args(audio, filters=[f"volume=0:enable={when}"])]
    if timeout_s is None:
        timeout_s = _budget(info, per_second=2.0)
    _write_required(args, MP4_OUT, src=src, dst=dst, timeout_s=timeout_s, progress=progress)


def _budget(info: MediaInfo, *, per_second: float) -> float:
    duration = info.duration_s if math.isfinite(info.duration_s) else DEFAULT_TIMEOUT_S
    return 60.0 + per_second * duration


def _write_required(
    args: Sequence[str],
    out: Sequence[str],
    *,
    src: Path,
    dst: Path,
    timeout_s: float,
    progress: ProgressCallback | None,
) -> None:
    if not _write(args, out, src=src, dst=dst, timeout_s=timeout_s, progress=progress):
        raise FfmpegError("ffmpeg wrote no output", tool=FFMPEG, returncode=0)


def _write(
    args: Sequence[str],
    out: Sequence[str],
    *,
    src: Path,
    dst: Path,
    timeout_s: float,
    progress: ProgressCallback | None,
) -> bool:
    """Run ffmpeg into ``dst.part`` and rename it to ``dst``; False if it wrote nothing."""
    part = dst.with_name(dst.name + ".part")
    try:
        run_tool(
            FFMPEG,
            [*args, *out, file_url(part)],
            timeout_s=timeout_s,
            paths=[src, dst, part],
            progress=progress,
        )
        if not part.exists() or part.stat().st_size == 0:
            return False
        os.replace(part, dst)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
