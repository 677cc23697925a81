"""ffprobe and ffmpeg, clients nobody here wrote, read a rendition over HTTP with a Bearer token
and seek in it, against the real server (granian)."""

from __future__ import annotations

import json
import subprocess

import pytest

from revisit.testing.server import RevisitServer

pytestmark = pytest.mark.slow

SHARE = """
from pathlib import Path
from revisit.accounts.models import User
from revisit.recordings.models import Recording, Rendition
from revisit.review.services import share_create
recording = Recording.objects.get()
share_create(recording=recording, actor=User.objects.get(email="alice@demo.revisit.test"))
video = Rendition.objects.get(recording=recording, kind="video", variant="full")
Path({path!r}).write_text(str(video.pk))
"""


def test_ffprobe_and_ffmpeg_read_and_seek_over_http(revisit_server: RevisitServer, tmp_path):
    revisit_server.extra_env["REVISIT_WHISPER_MODEL"] = "tiny.en"
    revisit_server.revisit("worker", "--batch")  # process the demo's sample session
    id_file = tmp_path / "rendition-id"
    revisit_server.revisit("manage", "shell", "-c", SHARE.format(path=str(id_file)))
    url = f"{revisit_server.url}/media/{id_file.read_text().strip()}"
    header = f"Authorization: Bearer {revisit_server.token('carol@demo.revisit.test')}\r\n"

    probed = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-headers",
            header,
            "-show_format",
            "-show_streams",
            "-of",
            "json",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probed.returncode == 0, probed.stderr
    info = json.loads(probed.stdout)
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert float(info["format"]["duration"]) > 60

    # Seek to 60 s and decode two seconds: ffmpeg has to use Range requests to get there.
    frame = tmp_path / "at-60s.png"
    seeked = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-headers",
            header,
            "-ss",
            "60",
            "-i",
            url,
            "-frames:v",
            "1",
            "-y",
            str(frame),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeked.returncode == 0, seeked.stderr
    assert frame.stat().st_size > 0

    refused = subprocess.run(
        ["ffprobe", "-v", "error", "-headers", "Authorization: Bearer rvt_nope\r\n", url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "401" in refused.stderr
