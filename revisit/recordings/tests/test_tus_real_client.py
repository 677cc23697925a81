"""The real tuspy client against a real server over loopback, through crashes (SIGKILL).

Each test starts `revisit serve` (granian) on its own data folder with the demo practice, where
carol has consented to recording and alice is her therapist. What the server stored is read back
with `revisit manage shell` against the same data folder: the original is decrypted by the
server's own code and compared with the source's SHA-256.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from tusclient import client as tus_client

from revisit.bench import ingest
from revisit.bench.loadgen import (
    TusSession,
    parse_stored_recordings,
    stored_recordings_script,
    wav_header,
    write_wav,
)
from revisit.recordings.tests.conftest import FIXTURE
from revisit.testing.server import RevisitServer

pytestmark = pytest.mark.slow

THERAPIST = "alice@demo.revisit.test"
CLIENT = "carol@demo.revisit.test"
MiB = 1 << 20
CHUNK = 256 * 1024


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stored(server: RevisitServer, recording_ids: list[str]) -> dict[str, tuple[str, str]]:
    """(client email, SHA-256 of the decrypted original) of each recording."""
    shell = server.revisit("manage", "shell", "-c", stored_recordings_script(recording_ids))
    found = parse_stored_recordings(shell.stdout)
    return {pk: (stored.client, stored.sha256) for pk, stored in found.items()}


def _upload_state(server: RevisitServer, upload_path: str) -> dict[str, object]:
    upload_id = upload_path.rstrip("/").rsplit("/", 1)[1]
    script = (
        "import json\n"
        "from revisit.recordings.models import Upload\n"
        f"u = Upload.objects.get(pk={upload_id!r})\n"
        "print('upload-state', json.dumps({'offset': u.offset, 'length': u.length, "
        "'completed': u.completed_at is not None, 'recording': str(u.recording_id or '')}))\n"
    )
    shell = server.revisit("manage", "shell", "-c", script)
    line = next(x for x in shell.stdout.splitlines() if x.startswith("upload-state "))
    state: dict[str, object] = json.loads(line.split(" ", 1)[1])
    return state


def _path(url: str | None) -> str:
    assert url is not None
    return urlsplit(url).path


def _last_reply_headers(uploader: object) -> dict[str, str]:
    request = cast(Any, uploader).request  # typed as None until a PATCH was sent
    assert request is not None, "no PATCH was sent"
    headers: dict[str, str] = request.response_headers
    return headers


def _tuspy(server: RevisitServer, token: str) -> tus_client.TusClient:
    return tus_client.TusClient(
        f"{server.url}/api/v1/uploads", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture(scope="module")
def long_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 s of real video and sound at 320x240 (about 6 MB), made with ffmpeg."""
    path = tmp_path_factory.mktemp("media") / "long.mp4"
    # fmt: off
    command = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=90",
        "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000:duration=90",
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "500k", "-g", "30", "-threads", "1",
        "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-movflags", "+faststart", "-shortest",
        str(path),
    ]
    # fmt: on
    subprocess.run(command, check=True, timeout=120)
    return path


def test_it_takes_an_upload_from_tuspy(revisit_server: RevisitServer):
    token = revisit_server.token(THERAPIST)
    me = urllib.request.Request(  # noqa: S310 -- a loopback http URL made here
        f"{revisit_server.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(me, timeout=30) as response:  # noqa: S310
        assert json.loads(response.read())["email"] == THERAPIST
    size = FIXTURE.stat().st_size
    session = TusSession(revisit_server.url, token)
    recordings = []
    for checksums in (False, True):  # tuspy sends Upload-Checksum: sha1 with each chunk
        with FIXTURE.open("rb") as media:
            uploader = _tuspy(revisit_server, token).uploader(
                file_stream=media,
                chunk_size=CHUNK,
                metadata={"client": CLIENT, "title": "Session 5"},
                upload_checksum=checksums,
            )
            uploader.upload()
        final = _last_reply_headers(uploader)
        assert final["upload-offset"] == str(size)
        recordings.append(final["revisit-recording"])
        head = session.request("HEAD", _path(uploader.url))
        assert head.status == 200
        assert head.headers["upload-offset"] == head.headers["upload-length"] == str(size)
    stored = _stored(revisit_server, recordings)
    assert stored == {pk: (CLIENT, _sha256_file(FIXTURE)) for pk in recordings}


def test_it_resumes_a_tuspy_upload_after_the_server_is_killed(
    revisit_server: RevisitServer, long_media: Path
):
    token = revisit_server.token(THERAPIST)
    size = long_media.stat().st_size
    session = TusSession(revisit_server.url, token, timeout=30)
    media = long_media.open("rb")  # tuspy reads the file it is given; closed below
    uploader = _tuspy(revisit_server, token).uploader(
        file_stream=media, chunk_size=CHUNK, metadata={"client": CLIENT, "title": "Long"}
    )
    uploader.set_url(uploader.create_url())
    location = str(uploader.url)
    cut_off: list[BaseException] = []

    def upload() -> None:
        try:
            uploader.upload()
        except Exception as exc:  # the connection dies with the server
            cut_off.append(exc)

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.monotonic() + 120
    while session.offset(_path(location)) < size * 0.4:
        assert time.monotonic() < deadline and thread.is_alive(), "the upload did not progress"
        time.sleep(0.02)
    revisit_server.kill()  # SIGKILL, with the next PATCH in flight
    thread.join(timeout=60)
    media.close()
    assert cut_off, "the upload finished before the server was killed"
    revisit_server.start()
    offset = session.offset(_path(location))
    assert size * 0.4 <= offset < size
    # A new client process: it knows the upload's URL, asks HEAD for the offset and goes on. A
    # PATCH that was in flight at the kill may hold the upload until its lease runs out (60 s).
    with long_media.open("rb") as media:
        resumed = _tuspy(revisit_server, token).uploader(
            file_stream=media, url=location, chunk_size=CHUNK, retries=30, retry_delay=3
        )
        assert resumed.offset == offset
        resumed.upload()
    recording = _last_reply_headers(resumed)["revisit-recording"]
    assert _stored(revisit_server, [recording]) == {recording: (CLIENT, _sha256_file(long_media))}


# --- Known defects: each test states the behaviour that is wanted ---------------------------------


def test_it_accepts_a_resumed_patch_right_after_a_crash(
    revisit_server: RevisitServer, tmp_path: Path
):
    session = TusSession(revisit_server.url, revisit_server.token(THERAPIST), timeout=30)
    source = tmp_path / "session.wav"
    size = write_wav(source, size=8 * MiB, blocks=[os.urandom(MiB)])
    data = source.read_bytes()
    path = session.create(client=CLIENT, title="Crash", length=size)
    assert session.patch(path, offset=0, body=data[:MiB]).status == 204
    in_flight = session.start_patch(path, offset=MiB, length=2 * MiB)
    in_flight.send(data[MiB : 2 * MiB])
    time.sleep(0.5)  # the server is inside the PATCH, waiting for the rest of its body
    revisit_server.kill()
    in_flight.abort()
    revisit_server.start()
    offset = session.offset(path)
    assert offset == MiB
    resumed = session.patch(path, offset=offset, body=data[offset : offset + MiB])
    assert resumed.status == 204, resumed.body


def _kill_during_completion(server: RevisitServer, marker: bytes) -> tuple[str, bytes, str]:
    """Upload a 96 MiB WAV holding `marker`; SIGKILL the server while it completes the upload.

    Returns the upload's path, the bytes sent and the token. The kill lands once completion has
    started writing the decrypted body into its scratch folder to probe it.
    """
    token = server.token(THERAPIST)
    session = TusSession(server.url, token, timeout=60)
    unit = marker + os.urandom(4096 - len(marker))
    samples = unit * (96 * 256)
    data = wav_header(len(samples)) + samples
    path = session.create(client=CLIENT, title="Killed while completing", length=len(data))
    last = len(data) - MiB
    assert session.patch(path, offset=0, body=data[:last]).status == 204
    final = session.start_patch(path, offset=last, length=len(data) - last)
    final.send(data[last:])
    deadline = time.monotonic() + 60
    scratch = str(server.data_dir / "scratch" / "*" / "*")
    while not any(os.path.getsize(p) > 8 * MiB for p in glob.glob(scratch)):
        assert time.monotonic() < deadline, "completion never started"
        time.sleep(0.005)
    server.kill()
    final.abort()
    server.start()
    return path, data, token


def test_it_finishes_an_upload_whose_completion_was_killed(revisit_server: RevisitServer):
    marker = b"REVISIT-COMPLETION-" + secrets.token_hex(8).encode()
    path, data, token = _kill_during_completion(revisit_server, marker)
    resumed = _tuspy(revisit_server, token).uploader(
        file_stream=io.BytesIO(data), url=f"{revisit_server.url}{path}", chunk_size=4 * MiB
    )
    resumed.upload()  # a client resuming after the crash, as it would with any tus client
    state = _upload_state(revisit_server, path)
    assert state["completed"] and state["recording"], state


def test_it_leaves_no_plaintext_after_a_crash_during_completion(revisit_server: RevisitServer):
    marker = b"REVISIT-COMPLETION-" + secrets.token_hex(8).encode()
    _kill_during_completion(revisit_server, marker)
    holding = [
        str(p.relative_to(revisit_server.data_dir))
        for p in revisit_server.data_dir.rglob("*")
        if p.is_file() and marker in p.read_bytes()
    ]
    assert holding == []


# --- The ingest benchmark -------------------------------------------------------------------------


def test_it_measures_ingest_beside_a_plain_copy(tmp_path: Path):
    figures = ingest.run(size_bytes=8 * MiB, workdir=tmp_path)
    for key in ("upload_mbps", "baseline_mbps", "ratio", "upload_seconds", "peak_rss_mb"):
        value = figures[key]
        assert isinstance(value, float) and value > 0, (key, value)
    assert isinstance(figures["peak_rss_growth_mb"], float)
    assert figures["size_bytes"] == 8 * MiB
    assert figures["verified"] is True
    goals = figures["goals_met"]
    assert isinstance(goals, dict)
    assert set(goals) == {"ratio >= 0.5", "peak_rss_growth_mb <= 64"}
    assert list(tmp_path.iterdir()) == []  # the run removed everything it wrote
