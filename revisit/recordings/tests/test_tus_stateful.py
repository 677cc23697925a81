"""The tus server against a model of it: random sequences of requests, checked after every step.

A hypothesis state machine creates uploads (known and deferred length, with or without a first
body), sends PATCHes at the right offset, at wrong ones, duplicates, interrupted bodies, good and
bad checksums, asks HEAD, terminates, expires and sweeps. The model says what each answer must be
and how many bytes the server has accepted; the invariants compare it with the database, with
HEAD, and with the decrypted original of every finished upload.

Sources are prefixes of the committed sample session (100-400 kB): the moov box sits in the first
62 kB, so every prefix still probes as media and a completed upload becomes a recording.

Budget: 25 examples of up to 30 steps, at most 3 uploads each (about 20-40 s on two cores).
"""

from __future__ import annotations

import base64
import enum
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from revisit.recordings import uploads
from revisit.recordings.models import Recording, Upload
from revisit.recordings.tests.conftest import FIXTURE, Tus, path_of, sha256
from revisit.testing.actors import World
from revisit.testing.asgi import RawResponse
from revisit.vault import services as vault

pytestmark = pytest.mark.django_db

MEDIA = FIXTURE.read_bytes()
MIN_SOURCE, MAX_SOURCE = 100_000, 400_000
MAX_CHUNK = 160_000  # two or three sealed 64 KiB chunks per request at most
MAX_UPLOADS = 3
BLOCK = 40_000  # request bodies arrive in blocks of this size
REFUSED_AFTER_COMPLETION = frozenset({404, 409, 413})


class State(enum.Enum):
    ACTIVE = "active"
    COMPLETE = "complete"
    TERMINATED = "terminated"
    EXPIRED = "expired"  # past its expiry, not yet swept
    SWEPT = "swept"  # terminated by the sweep


GONE = {State.TERMINATED, State.EXPIRED, State.SWEPT}


@dataclass
class Model:
    """What the server must hold for one upload."""

    location: str
    source: bytes
    deferred: bool  # the server does not know the length yet
    accepted: int = 0
    state: State = State.ACTIVE
    recording: str | None = None
    last_chunk: tuple[int, int] | None = None  # (offset, size) of the last accepted PATCH

    @property
    def path(self) -> str:
        return path_of(self.location)

    @property
    def pk(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[1]

    @property
    def remaining(self) -> int:
        return len(self.source) - self.accepted

    def next_bytes(self, size: int) -> bytes:
        return self.source[self.accepted : self.accepted + size]


def _digest(algorithm: str, data: bytes) -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def _patch_headers(
    offset: int, body: bytes, *, content_length: bool, extra: dict[str, str] | None = None
) -> dict[str, str]:
    headers = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
    if content_length:
        headers["Content-Length"] = str(len(body))
    headers.update(extra or {})
    return headers


class TusMachine(RuleBasedStateMachine):
    """Set `tus` (a client for the therapist) and `client` (her consenting client) first."""

    tus: Tus
    client: str
    uploads = Bundle("uploads")

    def __init__(self) -> None:
        super().__init__()
        self.models: list[Model] = []

    @initialize()
    def forget_earlier_examples(self) -> None:
        # Examples share the test's transaction: leave no expired upload for `sweep` to count.
        uploads.uploads_sweep_expired()

    # --- requests ---------------------------------------------------------------------------

    def _request(
        self, method: str, model: Model, headers: dict[str, str], body: Any = b"", **kw: Any
    ) -> RawResponse:
        if isinstance(body, bytes):  # arrive in pieces, as from a socket
            body = [body[i : i + BLOCK] for i in range(0, len(body), BLOCK)] or [b""]
        return self.tus.request(method, model.path, headers, body=body, **kw)

    def _accept(self, model: Model, size: int, response: RawResponse, status: int = 204) -> None:
        """The request with `size` bytes at the model's offset must have been accepted."""
        assert response.status == status, response.body
        model.last_chunk = (model.accepted, size)
        model.accepted += size
        assert response.headers["upload-offset"] == str(model.accepted)
        assert response.headers["tus-resumable"] == "1.0.0"
        if not model.deferred and model.accepted == len(model.source):
            model.state = State.COMPLETE
            model.recording = response.headers["revisit-recording"]
        else:
            assert "revisit-recording" not in response.headers

    def _refused_as(
        self,
        model: Model,
        response: RawResponse,
        active_status: int,
        after_completion: frozenset[int] = REFUSED_AFTER_COMPLETION,
    ) -> None:
        """A request that must change nothing: its status depends on the upload's state."""
        if model.state in GONE:
            assert response.status == 410, response.body
        elif model.state is State.COMPLETE:
            assert response.status in after_completion, response.body
        else:
            assert response.status == active_status, response.body
        if response.status:
            assert response.headers["content-type"] == "application/problem+json"

    @precondition(lambda self: len(self.models) < MAX_UPLOADS)
    @rule(
        target=uploads,
        size=st.integers(MIN_SOURCE, MAX_SOURCE),
        deferred=st.booleans(),
        first=st.none() | st.integers(0, MAX_CHUNK),
    )
    def create(self, size: int, deferred: bool, first: int | None) -> Model:
        source = MEDIA[:size]
        headers = {
            "Upload-Metadata": (
                f"client {base64.b64encode(self.client.encode()).decode()},"
                f"title {base64.b64encode(b'Session').decode()}"
            )
        }
        headers["Upload-Defer-Length" if deferred else "Upload-Length"] = (
            "1" if deferred else str(size)
        )
        body = b""
        if first is not None:  # creation-with-upload
            body = source[:first]
            headers["Content-Type"] = "application/offset+octet-stream"
            headers["Content-Length"] = str(len(body))
        response = self.tus.request("POST", "/api/v1/uploads", headers, body=body)
        assert response.status == 201, response.body
        assert "upload-expires" in response.headers
        model = Model(location=response.headers["location"], source=source, deferred=deferred)
        if first is not None:
            self._accept(model, len(body), response, 201)
        self.models.append(model)
        return model

    @rule(
        model=uploads,
        size=st.integers(0, MAX_CHUNK),
        declare=st.booleans(),
        checksum=st.sampled_from([None, "sha1", "sha256"]),
        content_length=st.booleans(),
    )
    def patch_next(
        self, model: Model, size: int, declare: bool, checksum: str | None, content_length: bool
    ) -> None:
        """The next bytes at the right offset, with or without a (good) checksum."""
        body = model.next_bytes(size)
        extra: dict[str, str] = {}
        if declare:
            extra["Upload-Length"] = str(len(model.source))
        if checksum:
            extra["Upload-Checksum"] = _digest(checksum, body)
        headers = _patch_headers(model.accepted, body, content_length=content_length, extra=extra)
        response = self._request("PATCH", model, headers, body)
        if model.state is not State.ACTIVE:
            self._refused_as(model, response, 0)
            return
        if declare:
            model.deferred = False
        self._accept(model, len(body), response)

    @rule(model=uploads, checksum=st.sampled_from([None, "sha256"]))
    def patch_the_rest(self, model: Model, checksum: str | None) -> None:
        """All the remaining bytes in one PATCH, declaring the length if it was deferred."""
        self.patch_next(
            model,
            size=model.remaining,
            declare=model.deferred,
            checksum=checksum,
            content_length=True,
        )

    @rule(
        model=uploads,
        delta=st.integers(-MAX_CHUNK, MAX_CHUNK).filter(bool),
        size=st.integers(1, MAX_CHUNK),
    )
    def patch_at_a_wrong_offset(self, model: Model, delta: int, size: int) -> None:
        """Bytes from the source at an offset behind (a duplicate) or ahead (out of order)."""
        offset = model.accepted + delta
        if offset < 0:
            offset = model.accepted + abs(delta)
        body = model.source[offset : offset + size] or b"\x00"
        headers = _patch_headers(offset, body, content_length=True)
        self._refused_as(model, self._request("PATCH", model, headers, body), 409)

    @rule(model=uploads)
    def patch_the_last_chunk_again(self, model: Model) -> None:
        """A client that lost the answer to its last PATCH sends it again."""
        if model.last_chunk is None:
            return
        offset, size = model.last_chunk
        body = model.source[offset : offset + size]
        headers = _patch_headers(offset, body, content_length=True)
        response = self._request("PATCH", model, headers, body)
        if size == 0 and model.state is State.ACTIVE:
            # An empty duplicate at the current offset is simply another empty PATCH.
            self._accept(model, 0, response)
            return
        self._refused_as(model, response, 409)

    @rule(
        model=uploads,
        size=st.integers(1, MAX_CHUNK),
        algorithm=st.sampled_from(["sha1", "sha256"]),
        flip=st.integers(0, MAX_CHUNK),
    )
    def patch_with_a_bad_checksum(self, model: Model, size: int, algorithm: str, flip: int) -> None:
        """Bytes damaged in transit: the checksum was taken before the damage."""
        good = model.next_bytes(size) or b"\x00" * size
        damaged = bytearray(good)
        damaged[flip % len(damaged)] ^= 0x5A
        headers = _patch_headers(
            model.accepted,
            good,
            content_length=True,
            extra={"Upload-Checksum": _digest(algorithm, good)},
        )
        response = self._request("PATCH", model, headers, bytes(damaged))
        self._refused_as(model, response, 460)

    @rule(model=uploads, size=st.integers(1, MAX_CHUNK), sent=st.integers(0, MAX_CHUNK))
    def patch_interrupted(self, model: Model, size: int, sent: int) -> None:
        """The client goes away part-way through the body: nothing is committed."""
        body = model.next_bytes(size) or b"\x00" * size
        part = body[: min(sent, len(body) - 1)]
        blocks = [part[i : i + BLOCK] for i in range(0, len(part), BLOCK)] or [b""]
        headers = _patch_headers(model.accepted, body, content_length=True)
        response = self._request("PATCH", model, headers, blocks, disconnect=True)
        self._refused_as(model, response, 0)

    @rule(model=uploads, extra=st.integers(1, 70_000), content_length=st.booleans())
    def patch_past_the_end(self, model: Model, extra: int, content_length: bool) -> None:
        """More bytes than the declared length: refused whole (413)."""
        if model.deferred:
            return  # a deferred upload has no end to pass yet
        body = model.next_bytes(model.remaining) + b"\x00" * extra
        headers = _patch_headers(model.accepted, body, content_length=content_length)
        self._refused_as(model, self._request("PATCH", model, headers, body), 413)

    @rule(model=uploads, delta=st.integers(1, MAX_SOURCE), size=st.integers(0, MAX_CHUNK))
    def patch_declaring_a_bad_length(self, model: Model, delta: int, size: int) -> None:
        """A length that changes a known one, or falls below the bytes already received (400)."""
        if model.deferred:
            if model.accepted == 0:
                return  # every length is possible still
            length = max(0, model.accepted - delta)
        else:
            grow = delta % 2 == 1
            length = len(model.source) + delta if grow else max(0, len(model.source) - delta)
        body = model.next_bytes(size)
        headers = _patch_headers(
            model.accepted, body, content_length=True, extra={"Upload-Length": str(length)}
        )
        response = self._request("PATCH", model, headers, body)
        self._refused_as(model, response, 400, REFUSED_AFTER_COMPLETION | {400})

    @rule(model=uploads)
    def head(self, model: Model) -> None:
        response = self._request("HEAD", model, {})
        if model.state in GONE:
            assert response.status == 410
            return
        assert response.status == 200
        assert response.headers["upload-offset"] == str(model.accepted)
        assert response.headers["cache-control"] == "no-store"
        if model.deferred:
            assert response.headers["upload-defer-length"] == "1"
            assert "upload-length" not in response.headers
        else:
            assert response.headers["upload-length"] == str(len(model.source))

    @rule(model=uploads)
    def terminate(self, model: Model) -> None:
        response = self._request("DELETE", model, {})
        if model.state is State.ACTIVE:
            assert response.status == 204, response.body
            model.state = State.TERMINATED
        elif model.state is State.COMPLETE:
            assert response.status == 404, response.body
        else:
            assert response.status == 410, response.body

    @rule(model=uploads)
    def expire(self, model: Model) -> None:
        Upload.objects.filter(pk=model.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        if model.state is State.ACTIVE:
            model.state = State.EXPIRED

    @rule()
    def sweep(self) -> None:
        expired = [m for m in self.models if m.state is State.EXPIRED]
        assert uploads.uploads_sweep_expired() == len(expired)
        for model in expired:
            model.state = State.SWEPT

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def offsets_match_the_model(self) -> None:
        for model in self.models:
            row = Upload.objects.get(pk=model.pk)
            assert row.offset == model.accepted, (row.offset, model.accepted, model.state)
            assert row.lease_until is None  # no request is running, so nobody holds it
            if model.state is State.ACTIVE:
                assert row.length == (None if model.deferred else len(model.source))
                assert uploads.body_path(row.pk).exists()
                assert row.completed_at is None and row.terminated_at is None

    @invariant()
    def finished_uploads_decrypt_to_their_source(self) -> None:
        for model in self.models:
            if model.state is not State.COMPLETE:
                continue
            row = Upload.objects.select_related("recording__original").get(pk=model.pk)
            assert row.completed_at is not None and row.recording is not None
            assert str(row.recording.pk) == model.recording
            original = row.recording.original
            assert original is not None
            assert sha256(vault.vault_reader(original).read_all()) == sha256(model.source)
            assert not uploads.body_path(row.pk).exists()

    @invariant()
    def gone_uploads_answer_410(self) -> None:
        for model in self.models:
            if model.state not in GONE:
                continue
            assert self._request("HEAD", model, {}).status == 410
            if model.state in {State.TERMINATED, State.SWEPT}:
                row = Upload.objects.select_related("key").get(pk=model.pk)
                assert row.terminated_at is not None and row.recording is None
                assert row.key.shredded_at is not None
                assert not uploads.body_path(row.pk).exists()


def test_it_keeps_offsets_and_content_through_any_sequence_of_requests(
    consented: World, alice_tus: Tus
):
    class Machine(TusMachine):
        tus = alice_tus
        client = consented.carol.email

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=40,
            stateful_step_count=40,
            deadline=None,  # completion runs ffprobe; its time varies on a shared machine
            database=None,  # nothing written into the checkout
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    # Recordings made by the machine are real: they carry the media the probe found.
    assert all(r.duration for r in Recording.objects.all())
