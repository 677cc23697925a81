"""The tus 1.0.0 server: the protocol's happy paths, then every bad input as a table."""

from __future__ import annotations

import base64
import errno
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from revisit.audit.events import Event
from revisit.recordings import uploads
from revisit.recordings.models import Recording, RecordingStatus, Upload
from revisit.recordings.tests.conftest import Tus, b64, path_of, sha256, tone_wav
from revisit.testing.actors import World, assert_audited
from revisit.vault import services as vault

pytestmark = pytest.mark.django_db


def _original(recording: Recording):
    assert recording.original is not None
    return recording.original


def test_it_answers_options_with_its_capabilities(alice_tus: Tus):
    response = alice_tus.request("OPTIONS", "/api/v1/uploads")
    assert response.status == 204
    assert response.headers["tus-version"] == "1.0.0"
    extensions = set(response.headers["tus-extension"].split(","))
    assert {
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "checksum",
        "termination",
        "expiration",
    } <= extensions
    assert int(response.headers["tus-max-size"]) > 0
    assert set(response.headers["tus-checksum-algorithm"].split(",")) == {"sha1", "sha256"}


def test_it_uploads_in_chunks_and_creates_a_recording(
    consented: World, alice_tus: Tus, media_bytes: bytes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        final = alice_tus.upload(client=consented.carol.email, data=media_bytes)
    recording = Recording.objects.get(pk=final.headers["revisit-recording"])
    assert recording.client == consented.carol and recording.therapist == consented.alice
    assert recording.status == RecordingStatus.PROCESSING and recording.title == "Session 4"
    assert recording.media_info["has_video"] is True and (recording.duration or 0) > 10
    # The original decrypts to exactly the bytes sent.
    assert sha256(vault.vault_reader(_original(recording)).read_all()) == sha256(media_bytes)
    assert len(callbacks) >= 1  # processing is queued when the transaction commits
    assert_audited(Event.UPLOAD_COMPLETED, actor=consented.alice)
    assert_audited(Event.RECORDING_CREATED, actor=consented.alice, subject=recording)
    assert not uploads.body_path(Upload.objects.get().pk).exists()


def test_it_resumes_from_the_servers_offset(consented: World, alice_tus: Tus, media_bytes: bytes):
    created = alice_tus.create(client=str(consented.carol.pk), length=len(media_bytes))
    location = created.headers["location"]
    alice_tus.patch(location, 0, media_bytes[:100_000])
    head = alice_tus.request("HEAD", path_of(location))
    assert head.status == 200 and head.headers["upload-offset"] == "100000"
    assert head.headers["upload-length"] == str(len(media_bytes))
    assert head.headers["cache-control"] == "no-store"
    assert "upload-metadata" in head.headers
    final = alice_tus.patch(location, 100_000, media_bytes[100_000:])
    assert final.status == 204 and final.headers["upload-offset"] == str(len(media_bytes))


def test_it_supports_creation_with_upload(consented: World, alice_tus: Tus, media_bytes: bytes):
    headers = {
        "Upload-Length": str(len(media_bytes)),
        "Upload-Metadata": f"client {b64(consented.carol.email)}",
        "Content-Type": "application/offset+octet-stream",
    }
    response = alice_tus.request(
        "POST", "/api/v1/uploads", headers, body=[media_bytes[:40_000], media_bytes[40_000:]]
    )
    assert response.status == 201
    assert response.headers["upload-offset"] == str(len(media_bytes))
    assert "revisit-recording" in response.headers


def test_it_supports_deferred_length_for_live_recording(
    consented: World, alice_tus: Tus, media_bytes: bytes
):
    created = alice_tus.create(client=consented.carol.email, length=None)
    location = created.headers["location"]
    head = alice_tus.request("HEAD", path_of(location))
    assert head.headers["upload-defer-length"] == "1"
    offset = 0
    for piece in (media_bytes[:70_000], media_bytes[70_000:500_000]):
        response = alice_tus.patch(location, offset, piece)
        assert response.status == 204
        offset += len(piece)
    last = alice_tus.patch(
        location, offset, media_bytes[offset:], {"Upload-Length": str(len(media_bytes))}
    )
    assert last.status == 204 and "revisit-recording" in last.headers


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_it_accepts_a_matching_checksum(
    consented: World, alice_tus: Tus, media_bytes: bytes, algorithm: str
):
    created = alice_tus.create(client=consented.carol.email, length=len(media_bytes))
    piece = media_bytes[:50_000]
    digest = base64.b64encode(hashlib.new(algorithm, piece).digest()).decode()
    response = alice_tus.patch(
        created.headers["location"], 0, piece, {"Upload-Checksum": f"{algorithm} {digest}"}
    )
    assert response.status == 204 and response.headers["upload-offset"] == "50000"


def test_it_discards_a_chunk_whose_checksum_does_not_match(
    consented: World, alice_tus: Tus, media_bytes: bytes
):
    created = alice_tus.create(client=consented.carol.email, length=len(media_bytes))
    location = created.headers["location"]
    alice_tus.patch(location, 0, media_bytes[:10_000])
    good = media_bytes[10_000:200_000]
    damaged = bytearray(good)
    damaged[150_000] ^= 0xFF  # bytes damaged in transit, in the second 64 KiB chunk and later
    digest = base64.b64encode(hashlib.sha256(good).digest()).decode()
    response = alice_tus.patch(
        location, 10_000, bytes(damaged), {"Upload-Checksum": f"sha256 {digest}"}
    )
    assert response.status == 460
    assert alice_tus.request("HEAD", path_of(location)).headers["upload-offset"] == "10000"
    # The right bytes at the same offset are accepted afterwards, and the result is exact.
    retry = alice_tus.patch(location, 10_000, good, {"Upload-Checksum": f"sha256 {digest}"})
    assert retry.status == 204
    assert alice_tus.patch(location, 200_000, media_bytes[200_000:]).status == 204
    recording = Recording.objects.get()
    assert sha256(vault.vault_reader(_original(recording)).read_all()) == sha256(media_bytes)


def test_it_terminates_an_upload(consented: World, alice_tus: Tus, media_bytes: bytes):
    created = alice_tus.create(client=consented.carol.email, length=len(media_bytes))
    location = created.headers["location"]
    alice_tus.patch(location, 0, media_bytes[:70_000])
    upload = Upload.objects.get()
    assert alice_tus.request("DELETE", path_of(location)).status == 204
    assert not uploads.body_path(upload.pk).exists()
    upload.key.refresh_from_db()
    assert upload.key.shredded_at is not None
    assert alice_tus.request("HEAD", path_of(location)).status == 410
    assert alice_tus.patch(location, 70_000, media_bytes[70_000:80_000]).status == 410
    assert_audited(Event.UPLOAD_TERMINATED, actor=consented.alice)


def test_it_expires_uploads_and_sweeps_them(consented: World, alice_tus: Tus, media_bytes: bytes):
    created = alice_tus.create(client=consented.carol.email, length=len(media_bytes))
    assert "upload-expires" in created.headers
    location = created.headers["location"]
    alice_tus.patch(location, 0, media_bytes[:1000])
    Upload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert alice_tus.patch(location, 1000, media_bytes[1000:2000]).status == 410
    assert uploads.uploads_sweep_expired() == 1
    assert not uploads.body_path(Upload.objects.get().pk).exists()


def test_it_rejects_non_media_and_cleans_up(consented: World, alice_tus: Tus):
    data = b"%PDF-1.4 this is not a recording\n" * 2000
    created = alice_tus.create(client=consented.carol.email, length=len(data))
    response = alice_tus.patch(created.headers["location"], 0, data)
    assert response.status == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "audio or video" in response.json()["detail"] or "recording" in response.json()["detail"]
    upload = Upload.objects.get()
    assert upload.terminated_at is not None and upload.recording is None
    assert not uploads.body_path(upload.pk).exists()
    assert Recording.objects.count() == 0
    assert_audited(Event.UPLOAD_REJECTED, actor=consented.alice)


def test_it_accepts_audio_without_video(consented: World, alice_tus: Tus, tmp_path: Path):
    data = tone_wav(tmp_path / "tone.wav")
    final = alice_tus.upload(client=consented.carol.email, data=data)
    recording = Recording.objects.get(pk=final.headers["revisit-recording"])
    assert recording.media_info["has_video"] is False


# --- Bad input: each row is one refusal the protocol or Revisit defines -------------------------


def _make(alice_tus: Tus, world: World, length: int = 5000) -> str:
    return alice_tus.create(client=world.carol.email, length=length).headers["location"]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong Tus-Resumable", 412),
        ("missing Tus-Resumable", 412),
        ("no client in metadata", 400),
        ("malformed metadata", 400),
        ("both lengths", 400),
        ("no length at all", 400),
        ("negative length", 400),
        ("length over the limit", 413),
        ("client not in caseload", 404),
        ("client of another practice", 404),
    ],
)
def test_it_refuses_bad_creation_requests(
    consented: World, alice_tus: Tus, settings, case: str, status: int
):
    settings.UPLOAD_MAX_BYTES = 10_000_000
    meta = f"client {b64(consented.carol.email)}"
    headers = {
        "wrong Tus-Resumable": {
            "Tus-Resumable": "0.2.2",
            "Upload-Length": "10",
            "Upload-Metadata": meta,
        },
        "missing Tus-Resumable": {
            "Tus-Resumable": "",
            "Upload-Length": "10",
            "Upload-Metadata": meta,
        },
        "no client in metadata": {"Upload-Length": "10", "Upload-Metadata": f"title {b64('x')}"},
        "malformed metadata": {"Upload-Length": "10", "Upload-Metadata": "client ***notbase64***"},
        "both lengths": {
            "Upload-Length": "10",
            "Upload-Defer-Length": "1",
            "Upload-Metadata": meta,
        },
        "no length at all": {"Upload-Metadata": meta},
        "negative length": {"Upload-Length": "-5", "Upload-Metadata": meta},
        "length over the limit": {"Upload-Length": "10000001", "Upload-Metadata": meta},
        "client not in caseload": {
            "Upload-Length": "10",
            "Upload-Metadata": f"client {b64('nobody@example.org')}",
        },
        "client of another practice": {
            "Upload-Length": "10",
            "Upload-Metadata": f"client {b64(consented.eve.email)}",
        },
    }[case]
    response = alice_tus.request("POST", "/api/v1/uploads", headers)
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["tus-resumable"] == "1.0.0"
    assert Upload.objects.count() == 0


def test_it_needs_recording_consent(world: World):
    response = Tus(world.alice).create(client=world.carol.email, length=100)
    assert response.status == 403
    assert "consented to recording" in response.json()["detail"]
    assert Upload.objects.count() == 0


def test_it_refuses_a_quota_overrun(consented: World, alice_tus: Tus, settings):
    settings.UPLOAD_QUOTA_BYTES = 1000
    response = alice_tus.create(client=consented.carol.email, length=5000)
    assert response.status == 413 and "quota" in response.json()["detail"]


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("offset behind", 409),
        ("offset ahead", 409),
        ("missing offset", 400),
        ("garbage offset", 400),
        ("wrong content type", 415),
        ("unknown checksum algorithm", 400),
        ("malformed checksum", 400),
        ("body past the end", 413),
        ("changing a known length", 400),
    ],
)
def test_it_refuses_bad_patches_without_moving_the_offset(
    consented: World, alice_tus: Tus, case: str, status: int
):
    location = _make(alice_tus, consented)
    assert alice_tus.patch(location, 0, b"x" * 1000).status == 204
    ok = {"Upload-Offset": "1000", "Content-Type": "application/offset+octet-stream"}
    headers, body = {
        "offset behind": ({**ok, "Upload-Offset": "500"}, b"y" * 10),
        "offset ahead": ({**ok, "Upload-Offset": "2000"}, b"y" * 10),
        "missing offset": ({"Content-Type": "application/offset+octet-stream"}, b"y"),
        "garbage offset": ({**ok, "Upload-Offset": "ten"}, b"y"),
        "wrong content type": ({**ok, "Content-Type": "text/plain"}, b"y"),
        "unknown checksum algorithm": ({**ok, "Upload-Checksum": "md5 AAAA"}, b"y"),
        "malformed checksum": ({**ok, "Upload-Checksum": "sha1"}, b"y"),
        "body past the end": (ok, b"y" * 4001),
        "changing a known length": ({**ok, "Upload-Length": "9999"}, b"y"),
    }[case]
    response = alice_tus.request("PATCH", path_of(location), headers, body=body)
    assert response.status == status, response.body
    assert response.headers["content-type"] == "application/problem+json"
    assert alice_tus.request("HEAD", path_of(location)).headers["upload-offset"] == "1000"


def test_it_refuses_a_patch_on_a_finished_upload(
    consented: World, alice_tus: Tus, media_bytes: bytes
):
    created = alice_tus.create(client=consented.carol.email, length=len(media_bytes))
    alice_tus.patch(created.headers["location"], 0, media_bytes)
    response = alice_tus.patch(created.headers["location"], len(media_bytes), b"more")
    assert response.status in (404, 409, 413)


def test_it_checks_ownership(consented: World, alice_tus: Tus):
    location = _make(alice_tus, consented)
    for intruder in (consented.bob, consented.mallory, consented.carol):
        other = Tus(intruder)
        assert other.request("HEAD", path_of(location)).status == 404
        assert other.patch(location, 0, b"x").status == 404
        assert other.request("DELETE", path_of(location)).status == 404
    assert alice_tus.request("HEAD", path_of(location)).status == 200


@pytest.mark.parametrize("header", [None, "Bearer rvt_nope", "Basic abc"])
def test_it_refuses_unauthenticated_requests(consented: World, header: str | None):
    from revisit.edge import uploads as edge
    from revisit.testing.asgi import call

    headers = {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    if header:
        headers["Authorization"] = header
    response = call(edge.handle, "POST", "/api/v1/uploads", headers=headers)
    assert response.status == 401
    assert Upload.objects.count() == 0


def test_it_does_not_let_clients_upload(consented: World):
    response = Tus(consented.carol).create(client=consented.carol.email, length=100)
    assert response.status == 403


def test_it_answers_507_when_the_disk_is_full_and_keeps_the_offset(
    consented: World, alice_tus: Tus, monkeypatch
):
    # A real full disk cannot be arranged safely here, so the write fails as the kernel would.
    location = _make(alice_tus, consented)
    assert alice_tus.patch(location, 0, b"a" * 1000).status == 204
    from revisit.lib import sealed_upload

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sealed_upload, "upload_append", no_space)
    response = alice_tus.patch(location, 1000, b"b" * 1000)
    assert response.status == 507
    monkeypatch.undo()
    assert alice_tus.request("HEAD", path_of(location)).headers["upload-offset"] == "1000"
    assert alice_tus.patch(location, 1000, b"b" * 1000).status == 204


def test_it_keeps_the_offset_when_the_client_disconnects(consented: World, alice_tus: Tus):
    location = _make(alice_tus, consented)
    alice_tus.patch(location, 0, b"a" * 1000)
    gone = alice_tus.patch(location, 1000, [b"b" * 500, b"c" * 500], disconnect=True)
    assert gone.status == 0  # nobody left to answer
    assert alice_tus.request("HEAD", path_of(location)).headers["upload-offset"] == "1000"


def test_it_refuses_a_second_writer_while_one_holds_the_upload(consented: World, alice_tus: Tus):
    location = _make(alice_tus, consented)
    Upload.objects.update(lease_until=timezone.now() + timedelta(seconds=30))
    response = alice_tus.patch(location, 0, b"x" * 10)
    assert response.status == 409 and "Another request" in response.json()["detail"]
