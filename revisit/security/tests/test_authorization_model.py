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
step a probe (`authz_probes`) asks one endpoint about one object, as everyone of the object's
practice and one person of the other (as everyone, for lists and unknown ids), and compares each
answer, status and what it shows, with the model: a leak or a wrong denial fails with the person,
the request and both answers. The object is usually the one the step changed, otherwise any
recording, rendition, share, bookmark, list or unknown id; the endpoint is drawn first, so that
each is asked about as often.

Cost: every example starts from one prepared state (the named actors, two recordings whose
renditions point at a pool of sealed objects made once, a share) inside a savepoint rolled back at
its end. Asking every endpoint about every object as everyone after every step would take some 400
requests (1-2 s) per step; a probe takes at most eight. Run with injected faults (expiry ignored,
supervision consent ignored, a client given the full version's media, revoked shares listed,
share options ignored), 300 examples caught each of them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
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

from revisit.accounts.models import CaseloadEntry, Supervision, User
from revisit.accounts.services import AccountsError, caseload_add, supervision_add, token_create
from revisit.recordings.consent import consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope
from revisit.review.services import share_create
from revisit.security.tests import authz_oracle as model
from revisit.security.tests.authz_oracle import Oracle, Person
from revisit.security.tests.authz_probes import Probe, Probes
from revisit.security.tests.authz_setup import KINDS, TEXT_KINDS, Clock, MediaRunner, SealedPool
from revisit.testing.actors import World

pytestmark = pytest.mark.django_db

NAMES = ("alice", "bob", "carol", "dave", "sam", "ada", "mallory", "eve")
CLIENTS = ("carol", "dave", "eve")
SLOTS = {"main": 3, "other": 2}  # recordings an example may have, per practice
GENERATIONS = 3  # client versions one recording may be rebuilt with in one example
HOURS = (1, 3, 24, 240, 744)  # how far the clock moves in one step
BASE = (("carol", "alice"), ("eve", "mallory"))  # (client, therapist): consents and a recording
TOUCHED_SHARE = 0.6  # how often a step's probe is about what the step changed
EXAMPLES = 500
STEPS = 6

# None: the person who would normally take the step; a name: anyone else trying.
actors = st.one_of(st.none(), st.sampled_from(NAMES))
indexes = st.integers(0, 7)


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
    world: World
    ids: dict[str, str]
    practice: dict[str, str]  # name -> "main" or "other"
    clients: dict[str, Client]
    bearer: dict[str, dict[str, str]]
    pool: SealedPool
    clock: Clock
    media: MediaRunner
    base: list[Made] = field(default_factory=list)
    base_share: str = ""

    def slot(self, practice: str, used: int) -> int:
        return used if practice == "main" else SLOTS["main"] + used


def make_renditions(
    key: str, variant: str, objects: dict[str, Any], *, text: bool
) -> dict[tuple[str, str], str]:
    from revisit.recordings.models import Rendition

    kinds = [k for k in KINDS if text or k not in TEXT_KINDS]
    rows = Rendition.objects.bulk_create(
        Rendition(recording_id=key, kind=kind, variant=variant, sealed=objects[kind])
        for kind in kinds
    )
    return {(row.kind, variant): str(row.pk) for row in rows}


def make_recording(fx: Fixtures, therapist: str, client: str, used: int) -> Made:
    """A processed recording (what a finished upload and its job leave), from a pool slot."""
    from revisit.recordings.models import Recording, RecordingSource, RecordingStatus

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


@pytest.fixture
def fixtures(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[Fixtures]:
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of expected 404s
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
        clients={name: Client(headers=h) for name, h in bearer.items()},
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
    recording = fx.base[0].key
    from revisit.recordings.models import Recording

    share = share_create(recording=Recording.objects.get(pk=recording), actor=world.alice)
    fx.base_share = str(share.pk)
    yield fx
    media.close()


class AuthorizationMachine(Probes, RuleBasedStateMachine):
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
        self.stepped = False
        self.rng = random.Random(0)
        for made in self.fx.base:
            self._adopt(made)
        self.oracle.add_share(self.fx.base_share, self.fx.base[0].key, "alice", None, BASE_OPTIONS)

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)
        self.fx.clock.offset = timedelta()

    def user(self, name: str) -> User:
        return User.objects.get(pk=self.fx.ids[name])

    def _adopt(self, made: Made) -> None:
        self.oracle.recordings[made.key] = model.Rec(made.practice, made.therapist, made.client)
        self.slot_of[made.key] = made.slot
        self.generation[made.key] = 0
        self._add_renditions(made.key, made.renditions)

    def _add_renditions(self, key: str, renditions: dict[tuple[str, str], str]) -> None:
        for (kind, variant), pk in renditions.items():
            self.renditions[(key, kind, variant)] = pk
            self.every_rendition.append((key, kind, variant, pk))

    def _pick(self, keys: list[str], index: int) -> str:
        return sorted(keys)[index % len(keys)]

    def _alive(self) -> list[str]:
        return [k for k, r in self.oracle.recordings.items() if not r.deleted]

    # --- set-up -------------------------------------------------------------------------------

    @initialize(seed=st.integers(0, 2**32 - 1))
    def begin(self, seed: int) -> None:
        self.rng = random.Random(seed)  # which objects the probes ask about
        self.stepped = False

    # --- people -------------------------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), active=st.booleans())
    def set_active(self, name: str, active: bool) -> None:
        User.objects.filter(pk=self.fx.ids[name]).update(is_active=active)
        self.oracle.people[name].active = active
        self.touched = ("person", name)

    @rule(name=st.sampled_from(NAMES), role=st.sampled_from(model.ROLES))
    def change_role(self, name: str, role: str) -> None:
        User.objects.filter(pk=self.fx.ids[name]).update(role=role)
        self.oracle.people[name].role = role
        self.touched = ("person", name)

    @rule(therapist=st.sampled_from(NAMES), client=st.sampled_from(NAMES), add=st.booleans())
    def change_caseload(self, therapist: str, client: str, add: bool) -> None:
        pair = (therapist, client)
        if not add:
            CaseloadEntry.objects.filter(
                therapist=self.user(therapist), client=self.user(client)
            ).delete()
            self.oracle.caseload.discard(pair)
            return
        people = self.oracle.people
        allowed = (
            people[therapist].role == model.THERAPIST
            and people[client].role == model.CLIENT
            and people[therapist].practice == people[client].practice
        )
        try:
            caseload_add(therapist=self.user(therapist), client=self.user(client))
        except AccountsError:
            assert not allowed, f"caseload_add refused {pair}"
        else:
            assert allowed, f"caseload_add accepted {pair}"
            self.oracle.caseload.add(pair)

    @rule(supervisor=st.sampled_from(NAMES), therapist=st.sampled_from(NAMES), add=st.booleans())
    def change_supervision(self, supervisor: str, therapist: str, add: bool) -> None:
        pair = (supervisor, therapist)
        if not add:
            Supervision.objects.filter(
                supervisor=self.user(supervisor), therapist=self.user(therapist)
            ).delete()
            self.oracle.supervision.discard(pair)
            return
        people = self.oracle.people
        allowed = (
            people[supervisor].role == model.SUPERVISOR
            and people[therapist].role == model.THERAPIST
            and people[supervisor].practice == people[therapist].practice
        )
        try:
            supervision_add(supervisor=self.user(supervisor), therapist=self.user(therapist))
        except AccountsError:
            assert not allowed, f"supervision_add refused {pair}"
        else:
            assert allowed, f"supervision_add accepted {pair}"
            self.oracle.supervision.add(pair)

    # --- consent ------------------------------------------------------------------------------

    @rule(
        client=st.one_of(st.sampled_from(CLIENTS), st.sampled_from(NAMES)),
        scope=st.sampled_from(model.SCOPES),
        actor=actors,
        giving=st.booleans(),
    )
    def change_consent(self, client: str, scope: str, actor: str | None, giving: bool) -> None:
        from revisit.recordings.consent import ConsentError, consent_revoke

        actor = actor or client  # in the portal, by the client
        allowed = self.oracle.consent_outcome(client, actor, giving=giving)
        method = ConsentMethod.PORTAL if actor == client else ConsentMethod.VERBAL
        try:
            if giving:
                consent_give(
                    client=self.user(client),
                    scope=ConsentScope(scope),
                    actor=self.user(actor),
                    method=method,
                )
            else:
                consent_revoke(
                    client=self.user(client), scope=ConsentScope(scope), actor=self.user(actor)
                )
        except ConsentError:
            assert not allowed, f"{actor} was refused changing {client}'s {scope} consent"
            return
        assert allowed, f"{actor} changed {client}'s {scope} consent"
        if giving:
            self.oracle.consents.setdefault(client, set()).add(scope)
        else:
            self.oracle.withdraw(client, scope)
        self.touched = ("lists", None)

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

    @rule(hours=st.sampled_from(HOURS))
    def time_passes(self, hours: int) -> None:
        self.fx.clock.offset += timedelta(hours=hours)
        self.oracle.now += hours
        self.touched = ("lists", None)

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

    # --- emergency access ---------------------------------------------------------------------

    @rule(
        admin=actors,
        client=st.one_of(st.sampled_from(CLIENTS), st.sampled_from(NAMES)),
        minutes=st.sampled_from((30, 240)),
    )
    def open_emergency_access(self, admin: str | None, client: str, minutes: int) -> None:
        from revisit.breakglass.services import BreakGlassError, grant_create

        admin = admin or "ada"  # the practice admin
        allowed = self.oracle.grant_outcome(admin, client)
        try:
            grant = grant_create(
                admin=self.user(admin),
                client_id=self.fx.ids[client],
                reason="The client is in crisis; the on-call clinician needs the last session.",
                minutes=minutes,
                mfa_confirmed_at=timezone.now(),
            )
        except BreakGlassError:
            assert not allowed, f"{admin} was refused emergency access to {client}"
            return
        assert allowed, f"{admin} was given emergency access to {client}"
        key = str(grant.pk)
        self.grants[key] = grant
        practice = self.oracle.people[admin].practice
        expires = self.oracle.now + minutes / 60
        self.oracle.grants[key] = model.Grant(admin, client, practice, expires)
        self.touched = ("lists", None)

    @precondition(lambda self: self.oracle.grants)
    @rule(actor=actors, index=indexes)
    def end_emergency_access(self, actor: str | None, index: int) -> None:
        from revisit.breakglass.services import BreakGlassError, grant_end

        key = self._pick(list(self.oracle.grants), index)
        grant = self.oracle.grants[key]
        actor = actor or grant.admin
        person = self.oracle.people[actor]
        allowed = person.role == model.ADMIN and person.practice == grant.practice
        try:
            grant_end(grant=self.grants[key], actor=self.user(actor))
        except BreakGlassError:
            assert not allowed, f"{actor} was refused ending grant {key}"
            return
        assert allowed, f"{actor} ended grant {key}"
        grant.ended = True

    # --- after every step ---------------------------------------------------------------------

    @invariant()
    def everyone_sees_exactly_what_the_rules_allow(self) -> None:
        if not self.stepped:  # the state every example starts from: the first steps check it
            self.stepped = True
            return
        touched, self.touched = self.touched, None
        if touched is not None and self.rng.random() < TOUCHED_SHARE:
            kind, key = touched
            if kind == "recording" and key is not None:
                probes = self.about_recording(key)
            elif kind == "share" and key is not None:
                probes = self.about_share(key)
            else:  # a person, a consent, a grant or the time changed: ask for the lists
                probes = [Probe("recordings_list"), Probe("shares_list")]
        else:
            probes = self.candidates()
        endpoint = self.rng.choice(sorted({p.endpoint for p in probes}))
        probe = self.rng.choice([p for p in probes if p.endpoint == endpoint])
        for name in self.askers(probe):
            self.ask(name, probe)

    def askers(self, probe: Probe) -> list[str]:
        """Everyone, for lists and unknown ids; for an object, everyone of its practice and one
        person of the other (who can never reach it: one of them checks that at each step)."""
        practice = self.practice_of(probe)
        if practice is None:
            return list(NAMES)
        ours = [n for n in NAMES if self.fx.practice[n] == practice]
        theirs = [n for n in NAMES if self.fx.practice[n] != practice]
        return [*ours, self.rng.choice(theirs)]

    def practice_of(self, probe: Probe) -> str | None:
        target, oracle = probe.target, self.oracle
        if probe.endpoint in ("media", "media_download"):
            target = target[0]
        if target in oracle.recordings:
            return oracle.recordings[target].practice
        if target in oracle.shares:
            return oracle.shares[target].practice
        if target in oracle.bookmarks:
            return oracle.shares[oracle.bookmarks[target][0]].practice
        return None


BASE_OPTIONS = (True, True, False)  # share_create's defaults: video, transcript, no download


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
