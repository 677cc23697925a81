"""Concurrent requests on one upload, and what a partial upload leaves on disk, on a real server.

Each test starts `revisit serve` (granian) on its own data folder and talks to it over loopback
with real sockets and threads: nothing here is simulated.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from revisit.bench.loadgen import (
    Reply,
    TusSession,
    parse_stored_recordings,
    stored_recordings_script,
    wav_header,
    write_wav,
)
from revisit.testing.server import RevisitServer

pytestmark = pytest.mark.slow

THERAPIST = "alice@demo.revisit.test"
CLIENT = "carol@demo.revisit.test"
MiB = 1 << 20
LEASE_SECONDS = 60  # revisit.recordings.uploads.LEASE


def _session(server: RevisitServer) -> TusSession:
    return TusSession(server.url, server.token(THERAPIST), timeout=120)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored(server: RevisitServer, recording_ids: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each recording's original, decrypted by the server's own code."""
    shell = server.revisit("manage", "shell", "-c", stored_recordings_script(recording_ids))
    return {pk: stored.sha256 for pk, stored in parse_stored_recordings(shell.stdout).items()}


def _race(session: TusSession, path: str, *, offset: int, bodies: list[bytes]) -> list[Reply]:
    """PATCH each body at `offset` from its own thread and connection, at the same moment.

    Every request has sent its headers and first MiB before any sends the rest, so the server is
    handling all of them at once.
    """
    ready = threading.Barrier(len(bodies), timeout=60)
    replies: list[Reply | BaseException | None] = [None] * len(bodies)

    def patch(index: int) -> None:
        try:
            body = bodies[index]
            pending = session.start_patch(path, offset=offset, length=len(body))
            going = pending.send(body[:MiB])
            ready.wait()
            if going:
                pending.send(body[MiB:])
            replies[index] = pending.finish()
        except BaseException as exc:
            replies[index] = exc

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done: list[Reply] = []
    for reply in replies:
        if not isinstance(reply, Reply):
            raise AssertionError(f"a racing PATCH failed: {reply!r}")
        done.append(reply)
    return done


def test_it_lets_exactly_one_of_two_racing_patches_write(
    revisit_server: RevisitServer, tmp_path: Path
):
    session = _session(revisit_server)
    source = tmp_path / "session.wav"
    size = write_wav(source, size=24 * MiB, blocks=[os.urandom(MiB)])
    data = source.read_bytes()
    start, racing = MiB, 16 * MiB
    expected: dict[str, str] = {}
    for round_ in range(3):
        path = session.create(client=CLIENT, title=f"Race {round_}", length=size)
        assert session.patch(path, offset=0, body=data[:start]).status == 204
        ours = data[start : start + racing]
        # The second body differs past its middle, so the stored bytes tell who wrote them.
        flipped = bytes(b ^ 0xFF for b in ours[racing // 2 : racing // 2 + 4096])
        theirs = ours[: racing // 2] + flipped + ours[racing // 2 + 4096 :]
        replies = _race(session, path, offset=start, bodies=[ours, theirs])
        statuses = [reply.status for reply in replies]
        assert sorted(statuses) == [204, 409], [r.body[:200] for r in replies]
        winner = [ours, theirs][statuses.index(204)]
        loser = replies[statuses.index(409)]
        assert loser.headers["content-type"] == "application/problem+json"
        assert session.offset(path) == start + racing
        final = session.patch(path, offset=start + racing, body=data[start + racing :])
        assert final.status == 204, final.body
        expected[final.headers["revisit-recording"]] = _sha256(
            data[:start] + winner + data[start + racing :]
        )
    assert _stored(revisit_server, expected) == expected


# --- No plaintext at rest from a partial upload ------------------------------------------------


def _contains(path: Path, marker: bytes) -> bool:
    overlap = len(marker) - 1
    previous = b""
    try:
        with path.open("rb") as file:
            while block := file.read(4 * MiB):
                if marker in previous[-overlap:] + block:
                    return True
                previous = block
    except (FileNotFoundError, IsADirectoryError):
        return False  # removed while we looked: it held nothing any more
    return False


def _scan(roots: Iterable[Path], marker: bytes, *, changed_since: float | None) -> set[Path]:
    """Regular files under `roots` holding `marker` (only those changed since, if given)."""
    hits: set[Path] = set()
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                try:
                    info = path.lstat()
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(info.st_mode):
                    continue
                if changed_since is not None and info.st_mtime < changed_since:
                    continue  # written before the marker existed: it cannot hold it
                if _contains(path, marker):
                    hits.add(path)
    return hits


def test_it_keeps_no_plaintext_of_a_partial_upload(revisit_server: RevisitServer, tmp_path: Path):
    born = time.time() - 2  # file times are coarse; anything older cannot hold the marker
    marker = b"REVISIT-PLAINTEXT-MARKER-" + secrets.token_hex(16).encode()
    unit = marker + os.urandom(4096 - len(marker))
    samples = unit * 256  # the marker in every 4 KiB, so in every sealed chunk and in the tail
    data = wav_header(len(samples)) + samples  # built in memory: the only copy is the upload
    session = _session(revisit_server)
    path = session.create(client=CLIENT, title="Marker", length=len(data))
    assert session.patch(path, offset=0, body=data[:200_000]).status == 204
    piece = data[200_000:350_000]
    checksum = {
        "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(piece).digest()).decode()
    }
    pending = session.start_patch(path, offset=200_000, length=len(piece), headers=checksum)
    pending.send(piece)
    assert pending.finish().status == 204
    bad = session.start_patch(path, offset=350_000, length=len(piece), headers=checksum)
    bad.send(data[350_000:500_000])  # other bytes than the checksum's: staged, then refused
    assert bad.finish().status == 460
    dropped = session.start_patch(path, offset=350_000, length=300_000)
    dropped.send(data[350_000:550_000])  # three sealed chunks written, never committed
    time.sleep(0.5)
    dropped.abort()
    deadline = time.monotonic() + 10  # an empty PATCH goes through once the dropped one ended
    while session.patch(path, offset=350_000, body=b"").status != 204:
        assert time.monotonic() < deadline, "the dropped PATCH still holds the upload"
        time.sleep(0.1)
    assert session.offset(path) == 350_000  # partial, not complete
    data_dir = revisit_server.data_dir
    assert (data_dir / "revisit.sqlite3").is_file()
    assert any((data_dir / "uploads").iterdir())  # the sealed partial body is there to scan
    # The scan finds the marker where it is.
    control = tmp_path / "control"
    control.mkdir()
    (control / "plain").write_bytes(b"x" * (4 * MiB - 5) + marker)
    assert _scan([control], marker, changed_since=born) == {control / "plain"}
    (control / "plain").unlink()
    temp = Path(tempfile.gettempdir())
    roots = [data_dir, temp, Path("/var/tmp"), Path("/dev/shm")]
    assert _scan([data_dir], marker, changed_since=None) == set()
    assert _scan([r for r in roots if r.is_dir()], marker, changed_since=born) == set()


# --- One writer at a time: termination and slow writers while a PATCH holds the upload ----------


def test_it_does_not_terminate_an_upload_while_a_patch_writes(
    revisit_server: RevisitServer, tmp_path: Path
):
    session = _session(revisit_server)
    source = tmp_path / "session.wav"
    size = write_wav(source, size=8 * MiB, blocks=[os.urandom(MiB)])
    data = source.read_bytes()
    path = session.create(client=CLIENT, title="Busy", length=size)
    pending = session.start_patch(path, offset=0, length=2 * MiB)
    pending.send(data[:MiB])
    time.sleep(0.5)  # the server is inside the PATCH, holding the upload, waiting for the rest
    deleted = session.request("DELETE", path)
    pending.send(data[MiB : 2 * MiB])
    patched = pending.finish()
    # Either the DELETE waits its turn (409) and the PATCH stands, or the DELETE wins and the
    # PATCH is told the upload is gone. Both succeeding leaves a PATCH acknowledged on a
    # terminated upload.
    assert (deleted.status, patched.status) in {(409, 204), (204, 410)}, (
        deleted.status,
        patched.status,
    )


def test_it_does_not_terminate_an_upload_while_it_completes(
    revisit_server: RevisitServer, tmp_path: Path
):
    session = _session(revisit_server)
    source = tmp_path / "session.wav"
    size = write_wav(source, size=200 * MiB, blocks=[os.urandom(MiB)])
    path = session.create(client=CLIENT, title="Completing", length=size)
    last = size - MiB
    with source.open("rb") as file:
        first = session.start_patch(path, offset=0, length=last)
        first.send_file(file, offset=0, count=last)
        assert first.finish().status == 204
        final = session.start_patch(path, offset=last, length=size - last)
        final.send_file(file, offset=last, count=size - last)
        time.sleep(0.3)  # completion decrypts, probes and copies 200 MiB: about two seconds
        deleted = session.request("DELETE", path)
        completed = final.finish()
    assert completed.status != 500, completed.body
    # The DELETE waits its turn: refused while completion holds the upload (409), refused as
    # complete once it finished first (404), or, had it come first, ending the upload (204/410).
    assert (deleted.status, completed.status) in {(409, 204), (404, 204), (204, 410)}, (
        deleted.status,
        completed.status,
    )


def test_it_keeps_a_slow_writer_s_lease(revisit_server: RevisitServer, tmp_path: Path):
    session = _session(revisit_server)
    source = tmp_path / "session.wav"
    size = write_wav(source, size=8 * MiB, blocks=[os.urandom(MiB)])
    data = source.read_bytes()
    path = session.create(client=CLIENT, title="Slow", length=size)
    slow = session.start_patch(path, offset=0, length=2 * MiB)
    slow.send(data[:MiB])
    time.sleep(LEASE_SECONDS + 3)  # a slow uplink: the request is alive, the bytes trickle
    second = session.patch(path, offset=0, body=data[: 2 * MiB])
    slow.send(data[MiB : 2 * MiB])
    first = slow.finish()
    assert sorted([first.status, second.status]) == [204, 409], (first.status, second.status)
