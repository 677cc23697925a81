"""Steps of the authorization machine about people: accounts, roles, caseloads, supervision,
consent and emergency access. Mixed into the machine, which holds the model and the helpers."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from revisit.accounts.models import CaseloadEntry, Supervision, User
from revisit.accounts.services import AccountsError, caseload_add, supervision_add
from revisit.recordings.consent import consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope
from revisit.security.tests import authz_oracle as model
from revisit.security.tests.authz_oracle import Oracle
from revisit.security.tests.authz_world import CLIENTS, NAMES, Fixtures

# None: the person who would normally take the step; a name: anyone else trying.
actors = st.one_of(st.none(), st.sampled_from(NAMES))
indexes = st.integers(0, 7)


class PeopleSteps:
    oracle: Oracle
    fx: Fixtures
    grants: dict[str, Any]
    touched: tuple[str, str | None] | None

    def user(self, name: str) -> User:
        return User.objects.get(pk=self.fx.ids[name])

    def _pick(self, keys: list[str], index: int) -> str:
        return sorted(keys)[index % len(keys)]

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
            self.touched = ("person", supervisor)
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
            self.touched = ("person", supervisor)

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
        self.touched = ("person", client)

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
        self.touched = ("grant", key)

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
        self.touched = ("grant", key)
