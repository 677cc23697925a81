from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from revisit.recordings.consent import consent_give
from revisit.recordings.models import (
    ConsentMethod,
    ConsentScope,
    Recording,
    RecordingSource,
    RecordingStatus,
    Rendition,
    RenditionKind,
)
from revisit.testing.actors import World
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind


@dataclass
class Ready:
    recording: Recording
    video: Rendition
    audio: Rendition
    captions: Rendition
    video_bytes: bytes


def make_ready_recording(world: World, *, size: int = 300_000) -> Ready:
    """A processed recording of alice's client carol, with small sealed renditions."""
    for scope in (ConsentScope.RECORDING, ConsentScope.CLIENT_REVIEW):
        consent_give(
            client=world.carol, scope=scope, actor=world.alice, method=ConsentMethod.VERBAL
        )
    original = vault.vault_seal_bytes(
        practice_id=world.practice.pk, kind=ObjectKind.ORIGINAL, data=b"o" * 10
    )
    recording = Recording.objects.create(
        practice=world.practice,
        therapist=world.alice,
        client=world.carol,
        title="Session 3",
        source=RecordingSource.UPLOAD,
        status=RecordingStatus.READY,
        progress=1.0,
        duration=60.0,
        original=original,
        shareable_at=timezone.now(),
        ready_at=timezone.now(),
    )
    video_bytes = os.urandom(size)

    def rendition(kind: RenditionKind, data: bytes) -> Rendition:
        sealed = vault.vault_seal_bytes(
            practice_id=world.practice.pk, kind=ObjectKind.RENDITION, data=data
        )
        return Rendition.objects.create(recording=recording, kind=kind, sealed=sealed)

    return Ready(
        recording=recording,
        video=rendition(RenditionKind.VIDEO, video_bytes),
        audio=rendition(RenditionKind.AUDIO, os.urandom(1000)),
        captions=rendition(RenditionKind.CAPTIONS, b"WEBVTT\n\n00:00.000 --> 00:01.000\nHello\n"),
        video_bytes=video_bytes,
    )


@pytest.fixture
def ready(world: World) -> Ready:
    return make_ready_recording(world)


def media_get(path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Any:
    """Call the media ASGI app in-process (it does its database work in a worker thread)."""
    from revisit.edge import media
    from revisit.testing.asgi import RawResponse

    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "http_version": "1.1",
        "scheme": "http",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(media.app(scope, receive, send))
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return RawResponse(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body)
