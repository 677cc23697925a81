"""A media download is named by Revisit, from the rendition's kind alone (ASVS V5.4.1).

`?download=1` (where the share allows downloads) answers `attachment` with a neutral file name:
no title, no client name, nothing taken from the request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from revisit.accounts.services import token_create
from revisit.edge import media
from revisit.recordings.models import Rendition, RenditionKind
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World
from revisit.testing.asgi import RawResponse, call

pytestmark = pytest.mark.django_db(transaction=True)  # the media handler reads in a thread

NAMES = {
    RenditionKind.VIDEO: 'attachment; filename="revisit-video.mp4"',
    RenditionKind.AUDIO: 'attachment; filename="revisit-audio.m4a"',
    RenditionKind.CAPTIONS: 'attachment; filename="revisit-captions.vtt"',
}


@pytest.fixture(params=["fast", "full"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways the handler grants: the one-query path, and the full rules it falls back to."""
    if request.param == "full":
        monkeypatch.setattr(media, "fast_grant", lambda **_: None)
    return str(request.param)


def _get(world: World, rendition: Rendition, query: str, who: str = "carol") -> RawResponse:
    token = token_create(user=getattr(world, who)).plaintext

    def handle(scope: dict[str, Any], receive: Any, send: Any) -> None:
        asyncio.run(media.app(scope, receive, send))

    url = f"/media/{rendition.pk}" + (f"?{query}" if query else "")
    return call(handle, "GET", url, headers={"Authorization": f"Bearer {token}"})


def _shared(world: World, ready: Ready, *, allow_download: bool) -> None:
    share_create(recording=ready.recording, actor=world.alice, allow_download=allow_download)


@pytest.mark.parametrize("kind", list(NAMES))
def test_it_names_a_download_by_its_kind(world: World, ready: Ready, path: str, kind: str):
    _shared(world, ready, allow_download=True)
    rendition = ready.recording.renditions.get(kind=kind)
    response = _get(world, rendition, "download=1")
    assert response.status == 200
    assert response.headers["content-disposition"] == NAMES[RenditionKind(kind)]


@pytest.mark.parametrize(
    "query",
    [
        "download=1&filename=carol-session.mp4",
        "filename=..%2F..%2Fetc%2Fpasswd&download=1",
        "download=1&download=0",
        "download=1&x=%0d%0aSet-Cookie:%20a=b",
    ],
)
def test_it_takes_nothing_for_the_name_from_the_request(
    world: World, ready: Ready, path: str, query: str
):
    _shared(world, ready, allow_download=True)
    response = _get(world, ready.video, query)
    disposition = response.headers["content-disposition"]
    assert disposition == NAMES[RenditionKind.VIDEO]
    for private in (ready.recording.title, world.carol.display_name, world.carol.email, "carol"):
        assert private.lower() not in disposition.lower()


@pytest.mark.parametrize("query", ["", "download=0", "download=yes", "Download=1"])
def test_it_plays_inline_unless_a_download_is_asked_for(
    world: World, ready: Ready, path: str, query: str
):
    _shared(world, ready, allow_download=True)
    assert _get(world, ready.video, query).headers["content-disposition"] == "inline"


def test_it_plays_inline_when_the_share_allows_no_download(world: World, ready: Ready, path: str):
    _shared(world, ready, allow_download=False)
    assert _get(world, ready.video, "download=1").headers["content-disposition"] == "inline"


def test_it_names_the_therapists_download_the_same_way(world: World, ready: Ready, path: str):
    response = _get(world, ready.audio, "download=1", who="alice")
    assert response.headers["content-disposition"] == NAMES[RenditionKind.AUDIO]
