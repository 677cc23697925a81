"""Consent on record: who agreed to what, when and how; revocable; checked before each use."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from revisit.accounts.models import Role, User
from revisit.accounts.selectors import is_in_caseload
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.models import Consent, ConsentMethod, ConsentScope


class ConsentError(Exception):
    """A consent change that is not allowed; the message says why."""


class ConsentMissingError(Exception):
    """An action needs a consent scope the client has not given (or has revoked)."""

    def __init__(self, scope: ConsentScope) -> None:
        self.scope = scope
        super().__init__(
            f"The client has not consented to {scope.label.lower()}. Record their consent "
            "(in the portal, or attest their verbal agreement) before continuing."
        )


def _may_record_for(actor: User, client: User) -> bool:
    if actor.pk == client.pk:
        return True
    return actor.role == Role.THERAPIST and is_in_caseload(therapist=actor, client=client)


def consent_give(
    *, client: User, scope: ConsentScope, actor: User, method: ConsentMethod
) -> Consent:
    """Record a grant. The client clicks for themselves (portal); a therapist attests for them."""
    if client.role != Role.CLIENT:
        raise ConsentError("Consent is given by clients.")
    if not _may_record_for(actor, client):
        raise ConsentError("You cannot record consent for this client.")
    if actor.pk == client.pk and method != ConsentMethod.PORTAL:
        raise ConsentError("In the portal, consent is given by clicking.")
    if actor.pk != client.pk and method == ConsentMethod.PORTAL:
        raise ConsentError("Only the client can give consent in the portal.")
    with transaction.atomic():
        current = consent_current(client=client, scope=scope)
        if current is not None:
            return current
        consent = Consent.objects.create(
            practice_id=client.practice_id,
            client=client,
            scope=scope,
            method=method,
            recorded_by=actor,
        )
        audit_record(
            event=Event.CONSENT_GIVEN,
            actor=actor,
            practice=client.practice_id,
            subject=consent,
            detail={"client": str(client.pk), "scope": str(scope), "method": str(method)},
        )
    return consent


@dataclass
class RevokeOutcome:
    """What withdrawing a consent did, at once and in the same transaction."""

    revoked: bool
    shares_ended: int = 0  # client_review: shares of the client's recordings that closed
    transcripts_deleted: int = 0  # transcription: recordings whose transcripts were shredded
    held: int = 0  # transcription: recordings under a legal hold, shredded once it is lifted

    def __bool__(self) -> bool:
        return self.revoked


def consent_revoke(*, client: User, scope: ConsentScope, actor: User) -> RevokeOutcome:
    """End the current grant, if any, and apply what that means in the same transaction:

    - client_review: every active share of the client's recordings ends (revoked, audited);
    - transcription: the client's transcripts, captions, chapters and search indexes (full and
      client versions, every recording) are crypto-shredded, leaving deletion records; the
      pipeline checks this consent before it transcribes, so nothing new is made;
    - research: nothing to undo here; research exports read the consent when they run;
    - supervision and recording: access and uploads check the consent on every request.
    """
    if not _may_record_for(actor, client):
        raise ConsentError("You cannot change consent for this client.")
    with transaction.atomic():
        current = list(
            Consent.objects.select_for_update().filter(client=client, scope=scope, revoked_at=None)
        )
        if not current:
            return RevokeOutcome(revoked=False)
        now = timezone.now()
        for consent in current:
            consent.revoked_at = now
            consent.revoked_by = actor
            consent.save(update_fields=["revoked_at", "revoked_by"])
            audit_record(
                event=Event.CONSENT_REVOKED,
                actor=actor,
                practice=client.practice_id,
                subject=consent,
                detail={"client": str(client.pk), "scope": str(scope)},
            )
        return _apply_revocation(client=client, scope=scope, actor=actor)


def _apply_revocation(*, client: User, scope: ConsentScope, actor: User) -> RevokeOutcome:
    outcome = RevokeOutcome(revoked=True)
    if scope == ConsentScope.CLIENT_REVIEW:
        from revisit.review.services import shares_end_for_client

        outcome.shares_ended = shares_end_for_client(
            client=client, actor=actor, reason="consent_revoked"
        )
    elif scope == ConsentScope.TRANSCRIPTION:
        from revisit.retention.deletion import client_transcripts_shred
        from revisit.retention.models import DeletionReason

        shredded = client_transcripts_shred(
            client=client, actor=actor, reason=DeletionReason.CONSENT_REVOKED
        )
        outcome.transcripts_deleted = shredded.recordings
        outcome.held = len(shredded.held)
    return outcome


def consent_current(*, client: User, scope: ConsentScope) -> Consent | None:
    return (
        Consent.objects.filter(client=client, scope=scope, revoked_at=None)
        .order_by("-given_at")
        .first()
    )


def consent_require(*, client: User, scope: ConsentScope) -> Consent:
    consent = consent_current(client=client, scope=scope)
    if consent is None:
        raise ConsentMissingError(scope)
    return consent


@dataclass(frozen=True)
class ScopeHistory:
    """One scope of one client's consent ledger: the grant that stands, and every grant so far
    (newest first), each with who recorded it, how, and who withdrew it."""

    scope: ConsentScope
    current: Consent | None
    grants: tuple[Consent, ...]


def consent_ledger(*, client: User) -> list[ScopeHistory]:
    """The client's full consent history, one entry per scope in a fixed order."""
    rows = (
        Consent.objects.filter(client=client)
        .select_related("recorded_by", "revoked_by")
        .order_by("-given_at")
    )
    by_scope: dict[str, list[Consent]] = {}
    for row in rows:
        by_scope.setdefault(row.scope, []).append(row)
    ledger = []
    for scope in ConsentScope:
        grants = tuple(by_scope.get(scope.value, []))
        current = next((g for g in grants if g.revoked_at is None), None)
        ledger.append(ScopeHistory(scope=scope, current=current, grants=grants))
    return ledger
