"""What a media file holds: :func:`probe` reads a file with ffprobe into a :class:`MediaInfo`.

A file ffprobe cannot read as a recording raises :class:`MediaRejected`, the refusal that
:mod:`revisit.lib.media_check` also raises: a stable ``reason_code`` for programs and a
plain-language ``message`` for the person who uploaded.
"""

from __future__ import annotations

import enum
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from revisit.lib.ffmpeg import (
    ALLOWED_DEMUXERS,
    BASE_ARGS,
    FFMPEG,
    FFPROBE,
    PROBE_BASE_ARGS,
    FfmpegError,
    input_args,
    parse_progress_line,
    run_streaming,
    run_tool,
)

PROBE_TIMEOUT_S = 30.0


class RejectReason(enum.StrEnum):
    EMPTY = "empty"
    NOT_MEDIA = "not_media"
    NO_AUDIO = "no_audio"
    BAD_DIMENSIONS = "bad_dimensions"
    BAD_DURATION = "bad_duration"
    TOO_LONG = "too_long"
    CORRUPT = "corrupt"


class MediaRejected(Exception):
    """The file is not a recording Revisit can accept; ``message`` is safe to show the uploader."""

    def __init__(self, reason_code: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


@dataclass(frozen=True)
class StreamInfo:
    index: int
    kind: str  # "video", "audio", "subtitle", "data", "attachment"
    codec: str
    profile: str | None = None
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    sample_aspect_ratio: float = 1.0
    rotation: int = 0  # degrees, from the display matrix; players turn the picture by it
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    channel_layout: str | None = None
    attached_pic: bool = False  # cover art inside an audio file, not a video

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as shown: square pixels, after rotation."""
        if not self.width or not self.height:
            return None
        width = max(round(self.width * self.sample_aspect_ratio), 1)
        height = self.height
        if self.rotation % 180 == 90:
            width, height = height, width
        return width, height


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    container: str
    size_bytes: int
    bit_rate: int | None
    streams: tuple[StreamInfo, ...]
    # True when the header had no duration (a live WebM from a browser) and the file was scanned.
    duration_scanned: bool = False

    @property
    def video(self) -> StreamInfo | None:
        """The first real video stream (cover art does not count)."""
        for stream in self.streams:
            if stream.kind == "video" and not stream.attached_pic:
                return stream
        return None

    @property
    def audio(self) -> StreamInfo | None:
        for stream in self.streams:
            if stream.kind == "audio":
                return stream
        return None


def probe(path: Path, *, timeout_s: float = PROBE_TIMEOUT_S) -> MediaInfo:
    """Describe the media file at ``path``.

    Raises :class:`MediaRejected` (``empty`` or ``not_media``) when ffprobe cannot read it as a
    recording, and :class:`FfmpegError` when ffprobe cannot run or times out.
    """
    size = os.stat(path).st_size
    if size == 0:
        raise MediaRejected(RejectReason.EMPTY, "The file is empty.")
    args = [
        *PROBE_BASE_ARGS,
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        *input_args(path),
    ]
    try:
        raw = run_tool(FFPROBE, args, timeout_s=timeout_s, paths=[path])
    except FfmpegError as exc:
        if exc.timed_out or exc.returncode is None:
            raise
        raise not_media() from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise not_media() from None
    info = _parse(data, size=size)
    if info is None:
        raise not_media()
    if math.isnan(info.duration_s):
        scanned = _scan_duration(path, timeout_s=max(timeout_s, 60.0 + size / 50e6))
        info = MediaInfo(
            duration_s=scanned,
            container=info.container,
            size_bytes=info.size_bytes,
            bit_rate=info.bit_rate,
            streams=info.streams,
            duration_scanned=True,
        )
    return info


def not_media() -> MediaRejected:
    return MediaRejected(
        RejectReason.NOT_MEDIA,
        "This file is not an audio or video recording that can be read. "
        "Please upload the recording itself (for example MP4, M4A, WebM, MP3 or WAV).",
    )


def _parse(data: Any, *, size: int) -> MediaInfo | None:
    if not isinstance(data, dict):
        return None
    fmt = data.get("format")
    raw_streams = data.get("streams")
    if not isinstance(fmt, dict) or not isinstance(raw_streams, list) or not raw_streams:
        return None
    container = str(fmt.get("format_name", ""))
    if not set(container.split(",")) & set(ALLOWED_DEMUXERS):
        return None
    streams = tuple(_parse_stream(s) for s in raw_streams if isinstance(s, dict))
    return MediaInfo(
        duration_s=_float(fmt.get("duration")),
        container=container,
        size_bytes=size,
        bit_rate=_int(fmt.get("bit_rate")),
        streams=streams,
    )


def _parse_stream(raw: Mapping[str, Any]) -> StreamInfo:
    kind = str(raw.get("codec_type", "unknown"))
    disposition = raw.get("disposition")
    attached = isinstance(disposition, dict) and disposition.get("attached_pic") == 1
    return StreamInfo(
        index=_int(raw.get("index")) or 0,
        kind=kind,
        codec=str(raw.get("codec_name", "unknown")),
        profile=_str(raw.get("profile")),
        pix_fmt=_str(raw.get("pix_fmt")),
        width=_int(raw.get("width")),
        height=_int(raw.get("height")),
        sample_aspect_ratio=_ratio(raw.get("sample_aspect_ratio"), ":") or 1.0,
        rotation=_rotation(raw),
        fps=_fps(raw) if kind == "video" else None,
        sample_rate=_int(raw.get("sample_rate")),
        channels=_int(raw.get("channels")),
        channel_layout=_str(raw.get("channel_layout")),
        attached_pic=attached,
    )


def _fps(raw: Mapping[str, Any]) -> float | None:
    for key in ("avg_frame_rate", "r_frame_rate"):
        rate = _ratio(raw.get(key), "/")
        if rate is not None and 0 < rate <= 1000:
            return rate
    return None


def _rotation(raw: Mapping[str, Any]) -> int:
    side_data = raw.get("side_data_list")
    if isinstance(side_data, list):
        for item in side_data:
            if isinstance(item, dict) and "rotation" in item:
                return _degrees(item["rotation"])
    tags = raw.get("tags")
    if isinstance(tags, dict) and "rotate" in tags:
        return _degrees(tags["rotate"])
    return 0


def _degrees(value: Any) -> int:
    degrees = _float(value)
    return 0 if math.isnan(degrees) else round(degrees) % 360


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return math.nan
    return result if math.isfinite(result) else math.nan


def _ratio(value: Any, sep: str) -> float | None:
    if not isinstance(value, str):
        return None
    top, found, bottom = value.partition(sep)
    try:
        ratio = Fraction(int(top), int(bottom)) if found else Fraction(value)
    except (ValueError, ZeroDivisionError):
        return None
    return float(ratio) if ratio > 0 else None


def _scan_duration(path: Path, *, timeout_s: float) -> float:
    """Read every packet (no decoding) to find the length of a file whose header lacks it."""
    last = math.nan

    def consume(stdout: IO[bytes]) -> None:
        nonlocal last
        for raw in stdout:
            seconds = parse_progress_line(raw.decode("ascii", errors="replace"))
            if seconds is not None:
                last = seconds

    args = [
        "-progress",
        "pipe:1",
        "-nostats",
        *BASE_ARGS,
        *input_args(path),
        "-map",
        "0:V?",
        "-map",
        "0:a?",
        "-c",
        "copy",
        "-f",
        "null",
        "-",
    ]
    try:
        run_streaming(FFMPEG, args, timeout_s=timeout_s, paths=[path], consume=consume)
    except FfmpegError as exc:
        if exc.timed_out or exc.returncode is None:
            raise
        raise not_media() from None
    return last
