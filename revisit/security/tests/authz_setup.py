"""What the authorization machine runs on, made once per test and reused by every example.

- `SealedPool`: small sealed renditions (every kind, a full set and a few client versions per
  recording slot), sealed once. An example creates recording and rendition rows that point at
  them, so no example runs ffmpeg, the speech model or even the sealing code. Shredding inside an
  example only changes rows, which the example's savepoint rolls back; blobs are removed after a
  commit only, and examples never commit.
- `Clock`: `django.utils.timezone.now`, moved forward by the machine to expire shares and grants.
- `ApiRunner`: sends API requests straight into Django's request handler (every middleware and
  view, as a server would), without the test client's extras around each request.
- `MediaRunner`: calls the raw media ASGI handler with its database work done in the test's own
  thread, so it sees the example's uncommitted rows (the handler normally hops to a thread pool,
  whose connections could not).
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.http import HttpResponse

from revisit.testing.asgi import RawResponse

KINDS = ("video", "audio", "poster", "waveform", "transcript", "captions", "chapters", "search")
TEXT_KINDS = ("transcript", "captions", "chapters", "search")
SEARCH_WORD = "lighthouse"  # said in the pool's transcript; a search for it always has a hit


def transcript_json() -> bytes:
    from revisit.lib.stt import Segment, Transcript, Word

    lines = [
        (0.0, "We walked out to the lighthouse together last week.", "client"),
        (5.0, "What was it like to be back there?", "therapist"),
        (10.0, "Calmer than I expected, the sea was quiet.", "client"),
    ]
    segments = []
    for start, text, speaker in lines:
        words = tuple(
            Word(start=start + i * 0.3, end=start + i * 0.3 + 0.25, text=w, probability=0.9)
            for i, w in enumerate(text.split())
        )
        segments.append(
            Segment(start=start, end=words[-1].end, text=text, words=words, speaker=speaker)
        )
    return Transcript(language="en", duration=60.0, segments=tuple(segments)).to_json().encode()


def rendition_bytes() -> dict[str, bytes]:
    from revisit.lib.search_index import SearchIndex
    from revisit.lib.stt import Transcript, to_webvtt
    from revisit.recordings.speech import sentence_embedder

    transcript = transcript_json()
    parsed = Transcript.from_json(transcript.decode())
    return {
        "video": os.urandom(700),
        "audio": os.urandom(500),
        "poster": os.urandom(300),
        "waveform": json.dumps({"peaks_per_second": 10, "peaks": [0.1, 0.5, 0.2]}).encode(),
        "transcript": transcript,
        "captions": to_webvtt(parsed).encode(),
        "chapters": json.dumps([{"start": 0.0, "end": 60.0, "title": "The lighthouse"}]).encode(),
        "search": SearchIndex.from_transcript(parsed, sentence_embedder()).to_bytes(),
    }


@dataclass
class Slot:
    """Sealed objects for one recording of an example: its original, its full set of renditions
    and `generations` client versions (each rebuild after a hold-back uses a fresh one)."""

    practice_id: UUID
    original: Any
    full: dict[str, Any]
    client: list[dict[str, Any]] = field(default_factory=list)


class SealedPool:
    def __init__(self, practice_ids: list[UUID], *, generations: int) -> None:
        from revisit.vault import services as vault
        from revisit.vault.models import ObjectKind

        data = rendition_bytes()

        def seal(practice_id: UUID, kind: str) -> Any:
            return vault.vault_seal_bytes(
                practice_id=practice_id, kind=ObjectKind.RENDITION, data=data[kind]
            )

        self.slots = [
            Slot(
                practice_id=pid,
                original=vault.vault_seal_bytes(
                    practice_id=pid, kind=ObjectKind.ORIGINAL, data=b"original" * 8
                ),
                full={kind: seal(pid, kind) for kind in KINDS},
                client=[{kind: seal(pid, kind) for kind in KINDS} for _ in range(generations)],
            )
            for pid in practice_ids
        ]
        self.generations = generations


class Clock:
    """A `timezone.now` that the machine can move forward (and reset for every example)."""

    def __init__(self, real: Callable[[], datetime]) -> None:
        self.real = real
        self.offset = timedelta()

    def now(self) -> datetime:
        return self.real() + self.offset


class _TestThread:
    """An executor whose work runs in the thread that waits in `run` (the test's thread), while
    coroutines run on an event loop in a thread of their own (kept for the whole test)."""

    def __init__(self) -> None:
        self.work: queue.Queue[Any] = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="media-event-loop", daemon=True
        )
        self.thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.work.put((fn, args, future))
        return future

    def run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        done = object()
        outcome = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        outcome.add_done_callback(lambda _: self.work.put(done))
        while (item := self.work.get()) is not done:
            fn, args, future = item
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)
        outcome.result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class ApiAnswer:
    """An API response: its status and, when asked for, its JSON body."""

    status_code: int
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class ApiRunner:
    """API requests as one person (their bearer token) through Django's handler.

    The test client wraps every request in work this test never reads (signals sent and
    connected, cookies kept, templates and the request recorded on the response), about a tenth
    of what an API request costs here; the requests themselves are built the same way
    (`RequestFactory`, CSRF checks off as the test client has them). An error in a view answers
    500 (the API's middleware turns it into problem JSON, for the test client too), which no
    expectation allows; its traceback is in the captured log.
    """

    def __init__(self, bearer: dict[str, dict[str, str]]) -> None:
        from django.core.handlers.base import BaseHandler
        from django.test import RequestFactory

        self.handler = BaseHandler()
        self.handler.load_middleware()
        self.factories = {name: RequestFactory(headers=h) for name, h in bearer.items()}

    def call(self, name: str, method: str, path: str, body: Any, params: Any) -> ApiAnswer:
        factory = self.factories[name]
        if method == "get":
            request = factory.get(path, params)
        else:
            request = getattr(factory, method)(path, body, content_type="application/json")
        # What the test client sets on every request (Django's own flag, not in the stubs).
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        response = self.handler.get_response(request)
        assert isinstance(response, HttpResponse), f"{path}: the API answered with a stream"
        return ApiAnswer(response.status_code, response.content)


class MediaRunner:
    """GET /media/... through `revisit.edge.media.app`, database work in the test's thread."""

    def __init__(self, monkeypatch: Any) -> None:
        from revisit.edge import media, threads

        self.executor = _TestThread()
        self.app = media.app
        monkeypatch.setattr(threads, "MEDIA", self.executor)
        # Inside the example's transaction, closing "obsolete" connections would break it.
        monkeypatch.setattr(media, "close_old_connections", lambda: None, raising=False)

    def close(self) -> None:
        self.executor.close()

    def get(self, path: str, headers: dict[str, str], query: str = "") -> RawResponse:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 443),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        self.executor.run(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        decoded = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
        return RawResponse(start["status"], decoded, body)
