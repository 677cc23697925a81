"""The state every example of the authorization machine starts from, and how it is made.

The named actors (revisit.testing.actors), a personal token each, a pool of sealed renditions,
two processed recordings (alice's of carol, mallory's of eve) with every rendition, the consents
they needed, and one share of carol's recording with her. `prepare` makes it once per test; each
example runs in a savepoint on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from revisit.accounts.services import token_create
from revisit.recordings.consent import consent_give
from revisit.recordings.models import (
    ConsentMethod,
    ConsentScope,
    Recording,
    RecordingSource,
    RecordingStatus,
    Rendition,
)
from revisit.review.services import share_create
from revisit.security.tests import authz_oracle as model
from revisit.security.tests.authz_setup import (
    KINDS,
    TEXT_KINDS,
    ApiRunner,
    Clock,
    MediaRunner,
    SealedPool,
)
from revisit.testing.actors import World

NAMES = ("alice", "bob", "carol", "dave", "sam", "ada", "mallory", "eve")
CLIENTS = ("carol", "dave", "eve")
SLOTS = {"main": 3, "other": 2}  # recordings an example may have, per practice
GENERATIONS = 3  # client versions one recording may be rebuilt with in one example
BASE = (("carol", "alice"), ("eve", "mallory"))  # (client, therapist): consents and a recording
BASE_OPTIONS = (True, True, False)  # share_create's defaults: video, transcript, no download


@dataclass
class Made:
    """A recording row made from a pool slot, and its renditions' ids."""

    key: str
    therapist: str
    client: str
    practice: str
    slot: int
    renditions: dict[tuple[str, str], str]  # (kind, variant) -> rendition id


@dataclass
class Fixtures:
    """What the machine works with; made once per test by `prepare`."""

    world: World
    ids: dict[str, str]
    practice: dict[str, str]  # name -> "main" or "other"
    api: ApiRunner
    bearer: dict[str, dict[str, str]]
    pool: SealedPool
    clock: Clock
    media: MediaRunner
    base: list[Made] = field(default_factory=list)
    base_share: str = ""
    examples: int = 0  # how many examples ran (each ends by rolling back to this state)

    def slot(self, practice: str, used: int) -> int:
        return used if practice == "main" else SLOTS["main"] + used


def make_renditions(
    key: str, variant: str, objects: dict[str, Any], *, text: bool
) -> dict[tuple[str, str], str]:
    kinds = [k for k in KINDS if text or k not in TEXT_KINDS]
    rows = Rendition.objects.bulk_create(
        Rendition(recording_id=key, kind=kind, variant=variant, sealed=objects[kind])
        for kind in kinds
    )
    return {(row.kind, variant): str(row.pk) for row in rows}


def make_recording(fx: Fixtures, therapist: str, client: str, used: int) -> Made:
    """A processed recording (what a finished upload and its job leave), from a pool slot."""
    practice = fx.practice[therapist]
    slot = fx.slot(practice, used)
    pool = fx.pool.slots[slot]
    now = timezone.now()
    recording = Recording.objects.create(
        practice_id=pool.practice_id,
        therapist_id=fx.ids[therapist],
        client_id=fx.ids[client],
        title="Session",
        source=RecordingSource.UPLOAD,
        status=RecordingStatus.READY,
        progress=1.0,
        duration=60.0,
        original=pool.original,
        shareable_at=now,
        ready_at=now,
    )
    key = str(recording.pk)
    renditions = make_renditions(key, model.FULL, pool.full, text=True)
    return Made(key, therapist, client, practice, slot, renditions)


def prepare(world: World, monkeypatch: pytest.MonkeyPatch) -> Fixtures:
    clock = Clock(timezone.now)
    monkeypatch.setattr(timezone, "now", clock.now)
    people = {name: getattr(world, name) for name in NAMES}
    tokens = {n: token_create(user=u, expires_in_days=3650).plaintext for n, u in people.items()}
    bearer = {name: {"Authorization": f"Bearer {t}"} for name, t in tokens.items()}
    main, other = world.practice.pk, world.other_practice.pk
    media = MediaRunner(monkeypatch)
    fx = Fixtures(
        world=world,
        ids={name: str(u.pk) for name, u in people.items()},
        practice={n: "main" if u.practice_id == main else "other" for n, u in people.items()},
        api=ApiRunner(bearer),
        bearer=bearer,
        pool=SealedPool([main] * SLOTS["main"] + [other] * SLOTS["other"], generations=GENERATIONS),
        clock=clock,
        media=media,
    )
    # Where every example starts: carol and eve agreed to be recorded and to review, each has
    # one recording, and carol's is shared with her (the practice's default: 30 days).
    for client, therapist in BASE:
        for scope in (ConsentScope.RECORDING, ConsentScope.CLIENT_REVIEW):
            consent_give(
                client=people[client],
                scope=scope,
                actor=people[therapist],
                method=ConsentMethod.VERBAL,
            )
        fx.base.append(make_recording(fx, therapist, client, used=0))
    first = Recording.objects.get(pk=fx.base[0].key)
    share = share_create(recording=first, actor=world.alice)
    fx.base_share = str(share.pk)
    return fx
