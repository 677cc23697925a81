from __future__ import annotations

import base64
import hashlib
import subprocess
from pathlib import Path

import pytest

from revisit.accounts.models import User
from revisit.accounts.services import token_create
from revisit.edge import uploads as edge
from revisit.recordings.consent import consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope
from revisit.testing.actors import World
from revisit.testing.asgi import RawResponse, call

FIXTURE = Path(__file__).resolve().parents[2] / "testing" / "fixtures" / "annomi-0-stereo.mp4"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Tus:
    """A small tus client speaking to the raw handler in-process, as one user."""

    def __init__(self, user: User) -> None:
        self.auth = {"Authorization": f"Bearer {token_create(user=user).plaintext}"}

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, body=b"", **kw
    ) -> RawResponse:
        merged = {"Tus-Resumable": "1.0.0", **self.auth, **(headers or {})}
        return call(edge.handle, method, url, headers=merged, body=body, **kw)

    def create(
        self,
        *,
        client: str,
        length: int | None,
        title: str = "Session 4",
        extra: dict[str, str] | None = None,
    ) -> RawResponse:
        headers = {"Upload-Metadata": f"client {b64(client)},title {b64(title)}"}
        if length is None:
            headers["Upload-Defer-Length"] = "1"
        else:
            headers["Upload-Length"] = str(length)
        headers.update(extra or {})
        return self.request("POST", "/api/v1/uploads", headers)

    def patch(
        self,
        location: str,
        offset: int,
        data: bytes | list[bytes],
        headers: dict[str, str] | None = None,
        **kw,
    ) -> RawResponse:
        merged = {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}
        merged.update(headers or {})
        return self.request("PATCH", path_of(location), merged, body=data, **kw)

    def upload(self, *, client: str, data: bytes, chunk: int = 256 * 1024) -> RawResponse:
        created = self.create(client=client, length=len(data))
        assert created.status == 201, created.body
        location = created.headers["location"]
        response = created
        for offset in range(0, len(data), chunk):
            response = self.patch(location, offset, data[offset : offset + chunk])
            assert response.status == 204, response.body
        return response


def path_of(location: str) -> str:
    return "/" + location.split("/", 3)[3]


@pytest.fixture
def media_bytes() -> bytes:
    return FIXTURE.read_bytes()


@pytest.fixture
def consented(world: World) -> World:
    for client in (world.carol, world.dave):
        consent_give(
            client=client,
            scope=ConsentScope.RECORDING,
            actor=world.alice,
            method=ConsentMethod.VERBAL,
        )
    return world


@pytest.fixture
def alice_tus(consented: World) -> Tus:
    return Tus(consented.alice)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tone_wav(path: Path, seconds: float = 2.0) -> bytes:
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-ac",
            "1",
            "-ar",
            "16000",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()
