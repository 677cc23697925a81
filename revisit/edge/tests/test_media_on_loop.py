"""The media handler's event-loop path: the same grants as the worker-thread path, nothing more.

These tests switch `MEDIA_QUERIES_ON_LOOP` on (the test process has it off, since another
connection cannot see a test's open transaction) and use committed data. They check that the
loop path agrees with Django's connection query for query, serves only what needs nothing
written, cannot write, leaves every refusal and first range to the worker thread, sees a revoke
or a shred on the very next request, and falls back when its connection fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from revisit.accounts.models import ApiToken
from revisit.accounts.services import token_create, token_parse
from revisit.audit.events import Event
from revisit.audit.models import AuditEvent
from revisit.edge import loopdb, media, readers
from revisit.edge.grant import Caller, fast_grant, token_caller
from revisit.review.models import PlaybackSession, Share
from revisit.review.services import share_create, share_revoke
from revisit.review.tests.conftest import Ready, make_ready_recording, media_get
from revisit.testing.actors import World
from revisit.vault import services as vault

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the loop path runs on SQLite only (see loopdb)"
    ),
]


@pytest.fixture(autouse=True)
def on_loop(settings: Any) -> Iterator[None]:
    settings.MEDIA_QUERIES_ON_LOOP = True
    readers.forget_all()
    yield
    loopdb.close()
    readers.forget_all()


@pytest.fixture
def ready(world: World) -> Ready:
    return make_ready_recording(world)


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every request the handler sends to its worker thread."""
    calls: list[str] = []
    original = media.authorize

    def counting(scope: dict[str, Any], rendition_id: str) -> Any:
        calls.append(rendition_id)
        return original(scope, rendition_id)

    monkeypatch.setattr(media, "authorize", counting)
    return calls


def _bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(user=user).plaintext}"}


def _get(ready: Ready, auth: dict[str, str], first: int = 0, last: int = 999) -> Any:
    return media_get(f"/media/{ready.video.pk}", {**auth, "Range": f"bytes={first}-{last}"})


def test_it_answers_exactly_as_djangos_connection_does(world: World, ready: Ready):
    share_create(recording=ready.recording, actor=world.alice)
    now = timezone.now()
    for user in world.everyone():
        claim = token_parse(raw=token_create(user=user).plaintext)
        assert claim is not None
        on_loop = token_caller(claim=claim, now=now, fetch=loopdb.fetchone)
        assert on_loop == token_caller(claim=claim, now=now)
        caller = Caller(user_id=user.pk, role=user.role, practice_id=user.practice_id)
        for rendition in (ready.video, ready.audio, ready.captions):
            args: dict[str, Any] = {
                "caller": caller,
                "rendition_id": rendition.pk,
                "now": now,
                "viewing_gap": media.VIEWING_GAP,
                "touch_every": media.TOUCH_EVERY,
            }
            by_django = fast_grant(**args)
            by_loop = fast_grant(**args, fetch=loopdb.fetchone)
            assert by_loop == by_django, (user.email, rendition.kind)
            if by_loop is not None and by_django is not None:
                assert by_loop.sealed_key == by_django.sealed_key
    granted = {
        (u.email, r.kind)
        for u in world.everyone()
        for r in (ready.video, ready.audio)
        if fast_grant(
            caller=Caller(user_id=u.pk, role=u.role, practice_id=u.practice_id),
            rendition_id=r.pk,
            now=now,
            viewing_gap=media.VIEWING_GAP,
            touch_every=media.TOUCH_EVERY,
            fetch=loopdb.fetchone,
        )
    }
    # Not a vacuous agreement: the therapist and the shared client both get the fast grant.
    assert {(world.alice.email, "video"), (world.carol.email, "video")} <= granted


def test_it_cannot_write(world: World):
    token_create(user=world.alice)
    table = connection.ops.quote_name(ApiToken._meta.db_table)
    with pytest.raises(loopdb.LoopDatabaseError):
        loopdb.fetchone(f"DELETE FROM {table}", [])
    with pytest.raises(loopdb.LoopDatabaseError):
        loopdb.fetchone("CREATE TABLE intruder (x)", [])
    assert "intruder" not in connection.introspection.table_names()
    assert ApiToken.objects.count() == 1


def test_it_serves_later_ranges_on_the_loop_and_the_first_in_a_thread(
    world: World, ready: Ready, threaded: list[str]
):
    auth = _bearer(world.alice)
    first = _get(ready, auth)
    assert first.status == 206 and first.body == ready.video_bytes[:1000]
    assert len(threaded) == 1  # a new viewing is written (and audited) in the worker thread
    for first_byte in (0, 65530, 150_000, 299_000):
        reply = _get(ready, auth, first_byte, first_byte + 999)
        assert reply.status == 206
        assert reply.body == ready.video_bytes[first_byte : first_byte + 1000]
    assert len(threaded) == 1  # every later range was answered on the loop


def test_it_keeps_the_opened_reader(
    world: World, ready: Ready, threaded: list[str], monkeypatch: pytest.MonkeyPatch
):
    auth = _bearer(world.alice)
    assert _get(ready, auth).status == 206
    opened: list[Any] = []
    real = vault.vault_reader

    def counting(obj: Any) -> Any:
        opened.append(obj.pk)
        return real(obj)

    monkeypatch.setattr(vault, "vault_reader", counting)
    for _ in range(3):
        assert _get(ready, auth).status == 206
    assert opened == []


def test_it_sees_a_revoke_on_the_next_request(world: World, ready: Ready, threaded: list[str]):
    share = share_create(recording=ready.recording, actor=world.alice)
    auth = _bearer(world.carol)
    assert _get(ready, auth).status == 206
    assert _get(ready, auth).status == 206
    assert len(threaded) == 1
    share_revoke(share=Share.objects.get(pk=share.pk), actor=world.alice)
    assert _get(ready, auth).status == 404
    assert len(threaded) == 2  # the refusal came from the worker thread, with its log line


def test_it_never_serves_a_shredded_object_from_a_kept_reader(
    world: World, ready: Ready, threaded: list[str]
):
    auth = _bearer(world.alice)
    assert _get(ready, auth).status == 206
    assert _get(ready, auth).status == 206  # the reader is now kept
    vault.vault_shred(ready.video.sealed, reason="test")
    reply = _get(ready, auth)
    assert reply.status == 503
    assert reply.body != ready.video_bytes[:1000]
    assert len(threaded) == 2


def test_it_leaves_a_new_viewing_and_a_due_touch_to_the_thread(
    world: World, ready: Ready, threaded: list[str]
):
    auth = _bearer(world.alice)
    assert _get(ready, auth).status == 206
    assert _get(ready, auth).status == 206
    assert len(threaded) == 1
    started = AuditEvent.objects.filter(event=Event.PLAYBACK_STARTED).count()
    # A viewing that went quiet longer than the gap: the next range starts (and audits) a new one.
    PlaybackSession.objects.update(last_seen_at=timezone.now() - media.VIEWING_GAP * 2)
    assert _get(ready, auth).status == 206
    assert len(threaded) == 2
    assert AuditEvent.objects.filter(event=Event.PLAYBACK_STARTED).count() == started + 1
    # A current viewing whose last-seen time is due for an update.
    PlaybackSession.objects.update(last_seen_at=timezone.now() - media.TOUCH_EVERY * 2)
    assert _get(ready, auth).status == 206
    assert len(threaded) == 3
    newest = PlaybackSession.objects.order_by("-last_seen_at").first()
    assert newest is not None and timezone.now() - newest.last_seen_at < media.TOUCH_EVERY
    assert _get(ready, auth).status == 206
    assert len(threaded) == 3


def test_it_leaves_a_due_token_touch_to_the_thread(world: World, ready: Ready, threaded: list[str]):
    auth = _bearer(world.alice)
    assert _get(ready, auth).status == 206
    assert _get(ready, auth).status == 206
    assert len(threaded) == 1
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(hours=1))
    assert _get(ready, auth).status == 206
    assert len(threaded) == 2
    touched = ApiToken.objects.get().last_used_at
    assert touched is not None and timezone.now() - touched < timedelta(minutes=1)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer rvt_nonsense",
        "Bearer rvt_0123456789ab_forged-secret-forged-secret-forged",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
        "Bearer " + "A" * 5000,
    ],
)
def test_it_leaves_bad_credentials_to_the_thread(
    world: World, ready: Ready, threaded: list[str], header: str
):
    reply = _get(ready, {"Authorization": header})
    assert reply.status == 401
    assert len(threaded) == 1


def test_it_falls_back_when_its_connection_fails(
    world: World, ready: Ready, threaded: list[str], monkeypatch: pytest.MonkeyPatch
):
    auth = _bearer(world.alice)
    assert _get(ready, auth).status == 206

    def broken(sql: str, params: Any) -> Any:
        raise loopdb.LoopDatabaseError("OperationalError")

    monkeypatch.setattr(loopdb, "fetchone", broken)
    reply = _get(ready, auth, 10, 19)
    assert reply.status == 206 and reply.body == ready.video_bytes[10:20]
    assert len(threaded) == 2


def test_it_is_off_unless_configured(
    world: World, ready: Ready, settings: Any, threaded: list[str]
):
    settings.MEDIA_QUERIES_ON_LOOP = False
    auth = _bearer(world.alice)
    for _ in range(3):
        assert _get(ready, auth).status == 206
    assert len(threaded) == 3
