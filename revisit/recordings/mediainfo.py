"""What Revisit keeps about a recording's format: codecs and sizes, never content or tags."""

from __future__ import annotations

from revisit.lib.ffprobe import MediaInfo


def media_summary(info: MediaInfo) -> dict[str, object]:
    video, audio = info.video, info.audio
    summary: dict[str, object] = {
        "container": info.container,
        "duration_s": round(info.duration_s, 3),
        "size_bytes": info.size_bytes,
        "has_video": video is not None,
    }
    if video is not None:
        summary["video"] = {
            "codec": video.codec,
            "width": video.width,
            "height": video.height,
            "fps": video.fps,
            "rotation": video.rotation,
        }
    if audio is not None:
        summary["audio"] = {
            "codec": audio.codec,
            "sample_rate": audio.sample_rate,
            "channels": audio.channels,
        }
    return summary
