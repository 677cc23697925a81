"""The raw ASGI handlers (media streaming, tus uploads) skip Django's middleware, so they set
their own headers: every answer is never cached, and media is never content-sniffed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from revisit.accounts.services import token_create
from revisit.edge import uploads
from revisit.review.tests.conftest import make_ready_recording
from revisit.security.tests.authz_setup import MediaRunner
from revisit.testing.actors import World
from revisit.testing.asgi import call

pytestmark = pytest.mark.django_db

UNKNOWN = "0b9e3c1e-52a4-4a5e-9a43-7d1c2f0e8a11"


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> Iterator[MediaRunner]:
    runner = MediaRunner(monkeypatch)
    yield runner
    runner.close()


def test_it_streams_media_uncached_and_unsniffed(world: World, media: MediaRunner):
    ready = make_ready_recording(world)
    auth = {"Authorization": f"Bearer {token_create(user=world.alice).plaintext}"}
    response = media.get(f"/media/{ready.video.pk}", auth)
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store, private"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("authorized", [True, False])
def test_it_refuses_media_uncached(world: World, media: MediaRunner, authorized: bool):
    auth = {"Authorization": f"Bearer {token_create(user=world.carol).plaintext}"}
    response = media.get(f"/media/{UNKNOWN}", auth if authorized else {})
    assert response.status == (404 if authorized else 401)
    assert response.headers["cache-control"] == "no-store, private"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("OPTIONS", "/api/v1/uploads", 204),
        ("POST", "/api/v1/uploads", 401),
        ("HEAD", f"/api/v1/uploads/{UNKNOWN}", 401),
    ],
)
def test_it_answers_uploads_uncached(world: World, method: str, path: str, status: int):
    response = call(uploads.handle, method, path, headers={"Tus-Resumable": "1.0.0"})
    assert response.status == status
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
