"""Consent on record: who agreed to what, when and how; revocable; checked before each use."""

from __future__ import annotations

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


def consent_revoke(*, client: User, scope: ConsentScope, actor: User) -> bool:
    """End the current grant, if any. Returns whether something was revoked."""
    if not _may_record_for(actor, client):
        raise ConsentError("You cannot change consent for this client.")
    with transaction.atomic():
        current = Consent.objects.select_for_update().filter(
            client=client, scope=scope, revoked_at=None
        )
        consent = current.first()
        if consent is None:
            return False
        consent.revoked_at = timezone.now()
        consent.revoked_by = actor
        consent.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            event=Event.CONSENT_REVOKED,
            actor=actor,
            practice=client.practice_id,
            subject=consent,
            detail={"client": str(client.pk), "scope": str(scope)},
        )
    return True


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
