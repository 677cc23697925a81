"""Refused requests leave one WARNING line of ids on `revisit.access` (ASVS V16.3.2).

The media handler notes every 401, 403 and 404 it answers; the API notes every 404 (absent and
out of reach answer alike). The line names who asked and what, by id only: never a token, a
name, an e-mail address, a title, a query string, or a path segment that is not an id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client

from revisit.accounts.models import User
from revisit.accounts.services import token_create
from revisit.edge import media
from revisit.review.services import share_create
from revisit.review.tests.conftest import Ready
from revisit.testing.actors import World, portal_client
from revisit.testing.asgi import RawResponse, call

pytestmark = pytest.mark.django_db(transaction=True)  # the media handler reads in a thread


class _Lines:
    """The refusal lines logged so far (read afresh each time)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def __iter__(self) -> Iterator[str]:
        return iter(
            r.getMessage()
            for r in self.caplog.records
            if r.name == "revisit.access" and r.levelno == logging.WARNING
        )

    def __len__(self) -> int:
        return len(list(iter(self)))


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> _Lines:
    caplog.set_level(logging.WARNING, logger="revisit.access")
    return _Lines(caplog)


def _private(world: World, ready: Ready, *extra: str) -> list[str]:
    people = [world.carol, world.dave, world.mallory, world.alice]
    return [
        ready.recording.title,
        "rvt_",
        "?",
        *(p.email for p in people),
        *(p.display_name for p in people),
        *extra,
    ]


def _media(url: str, headers: dict[str, str]) -> RawResponse:
    def handle(scope: dict[str, Any], receive: Any, send: Any) -> None:
        asyncio.run(media.app(scope, receive, send))

    return call(handle, "GET", url, headers=headers)


def _only_line(lines: _Lines) -> str:
    found = list(lines)
    assert len(found) == 1, found
    return found[0]


def _assert_clean(line: str, private: list[str]) -> None:
    for text in private:
        assert text not in line, f"{text!r} in {line!r}"


# media


def test_it_logs_a_media_request_for_someone_elses_rendition(
    world: World, ready: Ready, lines: _Lines
):
    token = token_create(user=world.mallory).plaintext
    url = f"/media/{ready.video.pk}?download=1&t={token}"
    response = _media(url, {"Authorization": f"Bearer {token}"})
    assert response.status == 404
    line = _only_line(lines)
    assert line.startswith("refused:")
    assert f"user={world.mallory.pk}" in line and f"rendition={ready.video.pk}" in line
    assert "status=404" in line
    _assert_clean(line, _private(world, ready, token, "download"))


def test_it_logs_a_session_that_may_not_see_it(world: World, ready: Ready, lines: _Lines):
    browser = portal_client(world.dave)
    browser.get("/")
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    response = _media(
        f"/media/{ready.audio.pk}", {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
    )
    assert response.status == 404
    line = _only_line(lines)
    assert f"user={world.dave.pk}" in line and f"rendition={ready.audio.pk}" in line
    _assert_clean(line, _private(world, ready, cookie))


@pytest.mark.parametrize(
    "authorization", [None, "Bearer rvt_not-a-real-token-at-all", "Basic Y2Fyb2w6cGFzcw=="]
)
def test_it_logs_an_unauthenticated_media_request(
    world: World, ready: Ready, lines: _Lines, authorization: str | None
):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _media(f"/media/{ready.video.pk}", headers)
    assert response.status == 401
    line = _only_line(lines)
    assert f"user=- rendition={ready.video.pk} status=401" in line
    _assert_clean(line, _private(world, ready, "not-a-real-token", "Y2Fyb2w6cGFzcw"))


@pytest.mark.parametrize("name", ["carol-session-3", "Session%203", "..%2F..%2Fetc", "x" * 300])
def test_it_logs_no_part_of_a_path_that_is_not_an_id(
    world: World, ready: Ready, lines: _Lines, name: str
):
    token = token_create(user=world.carol).plaintext
    response = _media(f"/media/{name}", {"Authorization": f"Bearer {token}"})
    assert response.status == 404
    line = _only_line(lines)
    assert f"user={world.carol.pk} rendition=- status=404" in line
    _assert_clean(line, _private(world, ready, name, token))


def test_it_logs_staff_without_a_second_factor(world: World, ready: Ready, lines: _Lines):
    token = token_create(user=world.alice).plaintext
    Authenticator.objects.filter(user=world.alice).delete()
    response = _media(f"/media/{ready.video.pk}", {"Authorization": f"Bearer {token}"})
    assert response.status in (401, 403)
    line = _only_line(lines)
    assert f"rendition={ready.video.pk}" in line and f"status={response.status}" in line
    _assert_clean(line, _private(world, ready, token))


def test_it_logs_nothing_when_media_is_served(world: World, ready: Ready, lines: _Lines):
    share_create(recording=ready.recording, actor=world.alice)
    for person in (world.alice, world.carol):
        token = token_create(user=person).plaintext
        response = _media(f"/media/{ready.video.pk}", {"Authorization": f"Bearer {token}"})
        assert response.status == 200
    assert len(lines) == 0


# API


def _api(user: User) -> tuple[Client, str]:
    token = token_create(user=user).plaintext
    return Client(headers={"Authorization": f"Bearer {token}"}), token


def test_it_logs_an_api_request_for_a_recording_out_of_reach(
    world: World, ready: Ready, lines: _Lines
):
    client, token = _api(world.mallory)
    response = client.get(f"/api/v1/recordings/{ready.recording.pk}/transcript?q=carol")
    assert response.status_code == 404
    line = _only_line(lines)
    assert f"user={world.mallory.pk}" in line
    assert f"path=/api/v1/recordings/{ready.recording.pk}/transcript status=404" in line
    _assert_clean(line, _private(world, ready, token, "q=", "carol"))


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("get", "/api/v1/shares/{share}/review"),
        ("delete", "/api/v1/shares/{share}"),
        ("post", "/api/v1/shares/{share}/progress"),
    ],
)
def test_it_logs_api_requests_for_a_share_out_of_reach(
    world: World, ready: Ready, lines: _Lines, method: str, template: str
):
    share = share_create(recording=ready.recording, actor=world.alice)
    client, token = _api(world.dave)
    path = template.format(share=share.pk)
    response = getattr(client, method)(
        path, data={"position": 1.0}, content_type="application/json"
    )
    assert response.status_code == 404
    line = _only_line(lines)
    assert f"refused: user={world.dave.pk} path={path} status=404" == line
    _assert_clean(line, _private(world, ready, token))


def test_it_logs_no_part_of_an_api_path_that_is_not_an_id(
    world: World, ready: Ready, lines: _Lines
):
    client, _ = _api(world.carol)
    response = client.get("/api/v1/recordings/Carol-Session-3")
    assert response.status_code == 404
    line = _only_line(lines)
    assert line == f"refused: user={world.carol.pk} path=/api/v1/recordings/- status=404"


def test_it_logs_nothing_when_the_api_answers(world: World, ready: Ready, lines: _Lines):
    client, _ = _api(world.alice)
    assert client.get(f"/api/v1/recordings/{ready.recording.pk}").status_code == 200
    assert len(lines) == 0
