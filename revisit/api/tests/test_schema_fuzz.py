"""Every API operation, fuzzed from its own OpenAPI schema: never a server error, and every
documented answer matches the schema (body and content type).

schemathesis reads /api/v1/openapi.json and generates requests for each operation, both valid
ones (positive) and ones the schema forbids (negative). They go in-process to Django's WSGI
handler, in the test's thread and transaction, so they meet real data: a processed recording with
every rendition, shared with its client, with a bookmark. Half of the cases name those objects in
their paths (instead of random strings), so they reach past the 404 into the handlers. Each case
is sent as the recording's therapist (a personal token), as its client, and with no credentials.

Error answers (401, 403, 404, 409, 422) are not in the schema yet, so schemathesis cannot hold
them to one (its status-code check would fail every one); they are checked here for RFC 9457
problem JSON instead.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from revisit.accounts.services import token_create
from revisit.recordings.models import Rendition
from revisit.review.models import Bookmark
from revisit.review.reviewing import bookmark_add
from revisit.review.services import share_create
from revisit.review.tests.conftest import make_ready_recording
from revisit.testing.actors import World
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind

pytestmark = pytest.mark.django_db

CASES = 250  # per caller and generation mode: 1500 requests, about twenty seconds
# No server error; a documented answer matches its schema and content type. (schemathesis's
# negative-data check is left out: the tokens sent here replace the headers it corrupts, and
# pydantic reads `offset=0.0` as 0, so it reports requests that are in fact valid.)
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@dataclass
class Objects:
    ids: dict[str, str]  # path parameter -> the id of a real object
    callers: dict[str, dict[str, str]]  # who -> headers


@pytest.fixture
def in_process() -> Iterator[None]:
    """Keep one database connection for the whole test, as Django's test client does: its
    request signals would otherwise close it mid-transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def objects(world: World, caplog: pytest.LogCaptureFixture) -> Objects:
    from revisit.security.tests.authz_setup import rendition_bytes

    caplog.set_level(logging.ERROR, logger="django.request")  # hundreds of expected 404s
    ready = make_ready_recording(world)
    data = rendition_bytes()
    for kind in ("transcript", "chapters", "search", "poster", "waveform"):
        sealed = vault.vault_seal_bytes(
            practice_id=world.practice.pk, kind=ObjectKind.RENDITION, data=data[kind]
        )
        Rendition.objects.create(recording=ready.recording, kind=kind, sealed=sealed)
    share = share_create(recording=ready.recording, actor=world.alice, allow_download=True)
    bookmark: Bookmark = bookmark_add(share=share, actor=world.carol, at=2.0, note="here")
    tokens = {who: token_create(user=getattr(world, who)).plaintext for who in ("alice", "carol")}
    return Objects(
        ids={
            "recording_id": str(ready.recording.pk),
            "share_id": str(share.pk),
            "bookmark_id": str(bookmark.pk),
        },
        callers={
            "carol": {"Authorization": f"Bearer {tokens['carol']}"},
            "alice": {"Authorization": f"Bearer {tokens['alice']}"},
            "nobody": {},
        },
    )


def fuzz(
    schema: Any, mode: GenerationMode, headers: dict[str, str], ids: dict[str, str]
) -> Counter[str]:
    answers: Counter[str] = Counter()

    @given(case=schema.as_strategy(generation_mode=mode), real=st.booleans())
    @settings(
        max_examples=CASES,
        deadline=None,
        database=None,  # nothing written into the checkout
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, real: bool) -> None:
        if real and case.path_parameters:
            case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        if response.status_code >= 400:
            content_type = response.headers.get("content-type", [""])[0]
            assert content_type.startswith("application/problem+json"), (
                f"{case.operation.label}: {response.status_code} answered as {content_type!r}"
            )
            body = response.json()
            assert body["status"] == response.status_code and body["title"], body
        answers[f"{case.operation.label} {response.status_code}"] += 1

    run()
    return answers


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_it_answers_every_operation_within_its_schema(
    objects: Objects, in_process: None, mode: GenerationMode
):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    answers: Counter[str] = Counter()
    for headers in objects.callers.values():
        answers += fuzz(schema, mode, headers, objects.ids)
    operations = {label.rsplit(" ", 1)[0] for label in answers}
    assert len(operations) >= 15, sorted(operations)  # nearly every operation was reached
    if mode is GenerationMode.POSITIVE:
        successes = {label for label in answers if label.endswith((" 200", " 201", " 204"))}
        assert len(successes) >= 10, sorted(answers)  # and many got past authorization
