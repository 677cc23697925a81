"""Who may see what, against an independent model, through random sequences of changes.

A hypothesis state machine changes the world as people and the system do: users of two practices
(therapist, client, supervisor, admin) change roles, are deactivated and come back; caseloads and
supervision change; clients give and withdraw each consent scope; therapists record, share (every
option, several expiries), revoke, hold back, correct speakers and delete; client versions are
rebuilt; time passes (shares and emergency-access grants expire); admins open and end emergency
access; clients bookmark. Most steps are taken by the person who would normally take them, the
rest by anyone (an attempt that must be refused is a check too).

`authz_oracle.Oracle` says from the written rules what each person may see. Writes made through
the API are checked as they happen (shares made and revoked, corrections, bookmarks). After every
step, a sweep (`authz_probes.Probes.sweep`) asks every endpoint of the probe catalogue at least
once and compares each answer, status and what it shows, with the model: a leak or a wrong denial
fails with the person, the request and both answers. What is asked, each step:

- the 7 recording endpoints (detail, transcript, captions, chapters, speakers, chapters_put,
  search), media and media?download=1 (one rendition each, current or replaced) about the focus
  recording: what the step touched (a recording; a share's recording; a recording of the person,
  or of the emergency-access grant's client, whose rights changed), else one drawn at random;
- the 5 share endpoints (review, progress, bookmark_refused, rating, revoke_refused) about the
  focus share (the touched one, or one of the focus recording's), and bookmark_patch about one of
  its bookmarks while any bookmark exists;
- the 3 lists (recordings, shares, search), with the focus objects in mind, and the 4 unknown-id
  probes (recording, media, share, a malformed id).

Each is asked by one person, chosen from the model (`Probes.askers`): along a group of probes the
choice alternates between someone the rules let through and someone they keep out (people of the
object's practice first), one probe of each group goes to someone of the other practice and one
to the person whose rights the step changed, and people who have not asked yet in the group go
first, so most people of the practice ask something about the focus recording every step. That
is 21 requests a step (22 while a bookmark exists). The earlier check (one probe asked by the
whole practice) is not kept: it asked one endpoint a step, while the sweep asks all 19 kinds,
each by people on both sides of the line, the whole practice spread across them; at one request
a probe, the budget of one such probe buys about a third of the sweep.

Cost: every example starts from one prepared state (the named actors, two recordings whose
renditions point at a pool of sealed objects made once, a share) inside a savepoint rolled back at
its end. API requests go straight into Django's handler (`authz_setup.ApiRunner`), about 4 ms
each on SQLite (search 8-10 ms). An example is `begin` and 3 steps, each followed by a sweep (the
prepared state after `begin` is what every first step starts from, so it is not swept on its
own): 500 examples take about 140 s on a quiet 2-core machine.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from revisit.security.tests import authz_oracle as model
from revisit.security.tests.authz_oracle import Oracle, Person
from revisit.security.tests.authz_people import PeopleSteps, actors, indexes
from revisit.security.tests.authz_probes import Probes
from revisit.security.tests.authz_world import (
    BASE,
    BASE_OPTIONS,
    GENERATIONS,
    NAMES,
    SLOTS,
    Fixtures,
    Made,
    make_recording,
    make_renditions,
    prepare,
)
from revisit.testing.actors import World

pytestmark = pytest.mark.django_db

HOURS = (1, 3, 24, 240, 744)  # how far the clock moves in one step (or to the next expiry)
EXAMPLES = 500
STEPS = 4  # `begin` and 3 steps, each followed by the sweep


@pytest.fixture
def fixtures(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[Fixtures]:
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of expected 404s
    caplog.set_level(logging.ERROR, logger="revisit.access")
    fx = prepare(world, monkeypatch)
    yield fx
    fx.media.close()


class AuthorizationMachine(PeopleSteps, Probes, RuleBasedStateMachine):
    fx: Fixtures

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.fx.clock.offset = timedelta()
        world = self.fx.world
        self.oracle = Oracle(
            people={
                name: Person(
                    practice=self.fx.practice[name],
                    role=str(getattr(world, name).role),
                    mfa=getattr(world, name).is_staff_role,  # staff actors have an authenticator
                )
                for name in NAMES
            },
            caseload={("alice", "carol"), ("alice", "dave"), ("mallory", "eve")},
            supervision={("sam", "alice")},
            consents={client: {"recording", "client_review"} for client, _ in BASE},
        )
        self.slot_of: dict[str, int] = {}
        self.generation: dict[str, int] = {}
        self.renditions: dict[tuple[str, str, str], str] = {}
        self.every_rendition: list[tuple[str, str, str, str]] = []
        self.grants: dict[str, Any] = {}
        self.touched: tuple[str, str | None] | None = None
        self.invariant_calls = 0
        self.rng = random.Random(0)
        for made in self.fx.base:
            self._adopt(made)
        self.oracle.add_share(self.fx.base_share, self.fx.base[0].key, "alice", None, BASE_OPTIONS)

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)
        self.fx.clock.offset = timedelta()
        self.fx.examples += 1

    def _adopt(self, made: Made) -> None:
        self.oracle.recordings[made.key] = model.Rec(made.practice, made.therapist, made.client)
        self.slot_of[made.key] = made.slot
        self.generation[made.key] = 0
        self._add_renditions(made.key, made.renditions)

    def _add_renditions(self, key: str, renditions: dict[tuple[str, str], str]) -> None:
        for (kind, variant), pk in renditions.items():
            self.renditions[(key, kind, variant)] = pk
            self.every_rendition.append((key, kind, variant, pk))

    def _alive(self) -> list[str]:
        return [k for k, r in self.oracle.recordings.items() if not r.deleted]

    # --- set-up -------------------------------------------------------------------------------

    @initialize(seed=st.integers(0, 2**32 - 1))
    def begin(self, seed: int) -> None:
        self.rng = random.Random(seed)  # which objects the probes ask about, and who asks

    # --- recordings ---------------------------------------------------------------------------

    def _recordable(self) -> list[str]:
        """Caseload pairs that may record now (the upload path checks caseload and consent)."""
        people, oracle = self.oracle.people, self.oracle
        pairs = []
        for therapist, client in sorted(oracle.caseload):
            practice = people[therapist].practice
            used = sum(1 for r in oracle.recordings.values() if r.practice == practice)
            if (
                used < SLOTS[practice]
                and people[therapist].role == model.THERAPIST
                and people[therapist].active
                and people[client].role == model.CLIENT
                and oracle.consented(client, "recording")
            ):
                pairs.append(f"{therapist} {client}")
        return pairs

    @precondition(lambda self: self._recordable())
    @rule(index=indexes)
    def record(self, index: int) -> None:
        therapist, client = self._pick(self._recordable(), index).split()
        practice = self.oracle.people[therapist].practice
        used = sum(1 for r in self.oracle.recordings.values() if r.practice == practice)
        made = make_recording(self.fx, therapist, client, used)
        self._adopt(made)
        self.touched = ("recording", made.key)

    @precondition(lambda self: self._alive())
    @rule(index=indexes)
    def hold_back(self, index: int) -> None:
        from revisit.review.reviewing import holdback_add

        key = self._pick(self._alive(), index)
        rec = self.oracle.recordings[key]
        holdback_add(
            recording=self._recording_row(key),
            actor=self.user(rec.therapist),
            start=1.0,
            end=3.0,
            reason="other",
        )
        self.oracle.hold_back(key, +1)
        self.touched = ("recording", key)

    def _held(self) -> list[str]:
        return [k for k in self._alive() if self.oracle.recordings[k].holdbacks]

    @precondition(lambda self: self._held())
    @rule(index=indexes)
    def release_hold_back(self, index: int) -> None:
        from revisit.review.models import HoldBack
        from revisit.review.reviewing import holdback_remove

        key = self._pick(self._held(), index)
        holdback = HoldBack.objects.filter(recording_id=key).order_by("created_at").first()
        assert holdback is not None
        holdback_remove(holdback=holdback, actor=self.user(self.oracle.recordings[key].therapist))
        self.oracle.hold_back(key, -1)
        self.touched = ("recording", key)

    def _awaiting_client_version(self) -> list[str]:
        return [
            k
            for k in self._held()
            if not self.oracle.recordings[k].client_version and self.generation[k] < GENERATIONS
        ]

    @precondition(lambda self: self._awaiting_client_version())
    @rule(index=indexes)
    def rebuild_client_version(self, index: int) -> None:
        """What the worker's client-version job leaves behind (without running ffmpeg)."""
        key = self._pick(self._awaiting_client_version(), index)
        rec = self.oracle.recordings[key]
        objects = self.fx.pool.slots[self.slot_of[key]].client[self.generation[key]]
        self.generation[key] += 1
        made = make_renditions(key, model.CLIENT_VERSION, objects, text=rec.transcripts)
        self._add_renditions(key, made)
        rec.client_version, rec.client_text = True, rec.transcripts
        self.touched = ("recording", key)

    @rule(index=indexes, actor=actors)
    def correct_speakers(self, index: int, actor: str | None) -> None:
        from revisit.recordings.models import Rendition

        key = self._pick(list(self.oracle.recordings), index)
        rec = self.oracle.recordings[key]
        actor = actor or rec.therapist
        edits = self.oracle.edits(actor, key)
        expected = self.refused_or(actor, (200 if rec.transcripts else 422) if edits else 404)
        path = f"/api/v1/recordings/{key}/speakers"
        response = self.call(actor, "post", path, {"swap": True})
        self.expect(actor, response, expected, f"POST {path} swap")
        if expected == 200:
            replaced = Rendition.objects.filter(
                recording_id=key, variant=model.FULL, kind__in=("transcript", "captions")
            )
            self._add_renditions(key, {(r.kind, model.FULL): str(r.pk) for r in replaced})
            if rec.holdbacks:
                self.oracle.hold_back(key, 0)  # the client's version is withdrawn at once
        self.touched = ("recording", key)

    @precondition(lambda self: self._alive())
    @rule(index=indexes, now=st.integers(0, 2))
    def destroy(self, index: int, now: int) -> None:
        """Deleting for good (the slowest step, and one that ends a recording's story): taken
        one time in three it is chosen, so that examples have recordings to act on."""
        from revisit.retention.deletion import recording_destroy
        from revisit.retention.models import DeletionReason

        if now:
            return
        key = self._pick(self._alive(), index)
        rec = self.oracle.recordings[key]
        recording_destroy(
            recording=self._recording_row(key),
            reason=DeletionReason.THERAPIST_DELETED,
            actor=self.user(rec.therapist),
        )
        rec.deleted = True
        self.touched = ("recording", key)

    def _recording_row(self, key: str) -> Any:
        from revisit.recordings.models import Recording

        return Recording.objects.select_related("client", "practice").get(pk=key)

    # --- shares -------------------------------------------------------------------------------

    @rule(
        actor=actors,
        index=indexes,
        named=st.one_of(st.none(), st.sampled_from(NAMES)),
        hours=st.sampled_from((None, 2, 30, 24 * 7, -1, 11 * 365 * 24)),
        options=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    )
    def share(
        self,
        actor: str | None,
        index: int,
        named: str | None,
        hours: int | None,
        options: tuple[bool, bool, bool],
    ) -> None:
        key = self._pick(list(self.oracle.recordings), index)
        rec = self.oracle.recordings[key]
        actor, client = actor or rec.therapist, named or rec.client
        body: dict[str, Any] = {"recording": key, "client": self.fx.ids[client]}
        body.update(allow_video=options[0], allow_transcript=options[1], allow_download=options[2])
        if hours is not None:
            body["expires_at"] = (timezone.now() + timedelta(hours=hours)).isoformat()
        expected = self.oracle.share_outcome(actor, key, client, hours)
        response = self.call(actor, "post", "/api/v1/shares", body)
        self.expect(actor, response, expected, f"POST /api/v1/shares {body}")
        self.touched = ("recording", key)
        if expected == 201:
            share_key = response.json()["id"]
            self.oracle.add_share(share_key, key, actor, hours, options)
            self.touched = ("share", share_key)

    @precondition(lambda self: self.oracle.shares)
    @rule(actor=actors, index=indexes)
    def revoke(self, actor: str | None, index: int) -> None:
        key = self._pick(list(self.oracle.shares), index)
        actor = actor or self.oracle.shares[key].created_by
        expected = self.refused_or(actor, 204 if self.oracle.revokes(actor, key) else 404)
        response = self.call(actor, "delete", f"/api/v1/shares/{key}")
        self.expect(actor, response, expected, f"DELETE /api/v1/shares/{key}")
        if expected == 204:
            self.oracle.shares[key].revoked = True
        self.touched = ("share", key)

    @rule(hours=st.one_of(st.none(), st.sampled_from(HOURS)))
    def time_passes(self, hours: float | None) -> None:
        """The clock moves on, by some hours or (None) to a minute after the next share or grant
        runs out; the sweep then asks about a share or a grant that just ran out."""
        oracle = self.oracle
        shares = {k for k, s in oracle.shares.items() if oracle.share_active(s)}
        grants = {k for k, g in oracle.grants.items() if oracle.grant_active(g)}
        if hours is None:
            ends = [oracle.shares[k].expires_at for k in shares]
            ends += [oracle.grants[k].expires_at for k in grants]
            hours = min(ends) - oracle.now + 1 / 60 if ends else 1
        self.fx.clock.offset += timedelta(hours=hours)
        oracle.now += hours
        shares -= {k for k, s in oracle.shares.items() if oracle.share_active(s)}
        grants -= {k for k, g in oracle.grants.items() if oracle.grant_active(g)}
        if shares:
            self.touched = ("share", min(shares))
        elif grants:
            self.touched = ("grant", min(grants))

    # --- the client's side --------------------------------------------------------------------

    @precondition(lambda self: self.oracle.shares)
    @rule(actor=actors, index=indexes)
    def bookmark(self, actor: str | None, index: int) -> None:
        key = self._pick(list(self.oracle.shares), index)
        actor = actor or self.oracle.shares[key].client
        expected = self.refused_or(actor, 201 if self.oracle.reviews(actor, key) else 404)
        path = f"/api/v1/shares/{key}/bookmarks"
        response = self.call(actor, "post", path, {"at": 2.0, "note": ""})
        self.expect(actor, response, expected, f"POST {path}")
        if expected == 201:
            self.oracle.bookmarks[response.json()["id"]] = (key, actor)
        self.touched = ("share", key)

    @precondition(lambda self: self.oracle.bookmarks)
    @rule(actor=actors, index=indexes)
    def remove_bookmark(self, actor: str | None, index: int) -> None:
        key = self._pick(list(self.oracle.bookmarks), index)
        share_key, owner = self.oracle.bookmarks[key]
        actor = actor or owner
        expected = self.bookmark_status(actor, key, 204)
        path = f"/api/v1/shares/{share_key}/bookmarks/{key}"
        self.expect(actor, self.call(actor, "delete", path), expected, f"DELETE {path}")
        if expected == 204:
            del self.oracle.bookmarks[key]
        self.touched = ("share", share_key)

    # --- after every step ---------------------------------------------------------------------

    @invariant()
    def everyone_sees_exactly_what_the_rules_allow(self) -> None:
        self.invariant_calls += 1
        if self.invariant_calls == 1:  # after `begin`, which changes nothing: the prepared state
            return
        touched, self.touched = self.touched, None
        for probe, name in self.sweep(touched):
            self.ask(name, probe)


def test_it_grants_exactly_what_the_rules_allow(fixtures: Fixtures):
    class Machine(AuthorizationMachine):
        fx = fixtures

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,  # nothing written into the checkout
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert fixtures.examples >= EXAMPLES
