"""The consent ledger: the client's "Your consents" and the therapist's view of a client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from revisit.audit.events import Event
from revisit.recordings.consent import consent_give, consent_revoke
from revisit.recordings.models import Consent, ConsentMethod, ConsentScope
from revisit.retention.tests.conftest import make_recording, make_share
from revisit.review.models import Share
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def page(client: Client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.status_code
    return response.content.decode()


def test_it_shows_the_client_every_scope_and_links_it_from_home(world: World):
    carol = portal_client(world.carol)
    assert "/consents/" in page(carol, "/")
    html = page(carol, "/consents/")
    for scope in ConsentScope:
        assert f'id="scope-{scope.value}"' in html
        assert scope.label in html
    assert html.count("I agree") == len(ConsentScope)
    assert not INLINE_SCRIPT.search(html) and " style=" not in html and "onclick" not in html


def test_it_lets_the_client_give_a_consent_with_a_click(world: World):
    response = portal_client(world.carol).post("/consents/research/give/")
    assert response.status_code == 302
    consent = Consent.objects.get(client=world.carol, scope=ConsentScope.RESEARCH)
    assert consent.method == ConsentMethod.PORTAL and consent.recorded_by_id == world.carol.pk
    assert_audited(Event.CONSENT_GIVEN, actor=world.carol, subject=consent)


def test_it_says_plainly_what_withdrawing_does_before_doing_it(world: World):
    recording = make_recording(world, world.carol)
    share = make_share(world, recording, reviewed=False)
    carol = portal_client(world.carol)
    html = page(carol, "/consents/client_review/withdraw/")
    assert "Every recording shared with you closes at once" in html
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    share.refresh_from_db()
    assert share.revoked_at is None  # looking at the page changes nothing

    response = carol.post("/consents/client_review/withdraw/", follow=True)
    assert "1 shared recording(s) closed at once" in response.content.decode()
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert_audited(Event.CONSENT_REVOKED, actor=world.carol)


def test_it_shows_the_full_history_with_who_how_and_when(world: World):
    consent_give(
        client=world.carol,
        scope=ConsentScope.SUPERVISION,
        actor=world.alice,
        method=ConsentMethod.WRITTEN,
    )
    consent_revoke(client=world.carol, scope=ConsentScope.SUPERVISION, actor=world.carol)
    consent_give(
        client=world.carol,
        scope=ConsentScope.SUPERVISION,
        actor=world.carol,
        method=ConsentMethod.PORTAL,
    )
    mine = page(portal_client(world.carol), "/consents/")
    section = mine.split('id="scope-supervision"')[1].split("</section>")[0]
    assert "Signed a form, attested by the therapist" in section and "Alice" in section
    assert "Agreed in the portal" in section and "by You" in section
    assert "Still given" in section

    theirs = page(portal_client(world.alice), f"/clients/{world.carol.pk}/consents/")
    section = theirs.split('id="scope-supervision"')[1].split("</section>")[0]
    assert "by The client" in section and "You</td>" in section  # alice recorded the first


def test_it_lets_the_therapist_attest_a_consent(world: World):
    url = f"/clients/{world.carol.pk}/consents/"
    alice = portal_client(world.alice)
    assert "/consents/" in page(alice, "/clients/")  # linked from the caseload
    body = {"scope": "transcription", "method": "written_attested", "confirm": "on"}
    assert alice.post(url, body).status_code == 302
    consent = Consent.objects.get(client=world.carol, scope=ConsentScope.TRANSCRIPTION)
    assert consent.method == ConsentMethod.WRITTEN and consent.recorded_by_id == world.alice.pk
    assert_audited(Event.CONSENT_GIVEN, actor=world.alice, subject=consent)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"scope": "research", "method": "verbal_attested"}, "Tick the box"),
        ({"scope": "everything", "method": "verbal_attested", "confirm": "on"}, "valid choice"),
        ({"scope": "research", "method": "portal", "confirm": "on"}, "valid choice"),
        ({}, "required"),
    ],
)
def test_it_refuses_a_bad_attestation_with_a_message(world: World, body, error):
    response = portal_client(world.alice).post(f"/clients/{world.carol.pk}/consents/", body)
    assert response.status_code == 400 and error in response.content.decode()
    assert not Consent.objects.filter(client=world.carol).exists()


def test_it_lets_the_therapist_record_a_withdrawal_after_confirming(world: World):
    consent_give(
        client=world.carol,
        scope=ConsentScope.RESEARCH,
        actor=world.carol,
        method=ConsentMethod.PORTAL,
    )
    url = f"/clients/{world.carol.pk}/consents/research/withdraw/"
    alice = portal_client(world.alice)
    assert "the client" in page(alice, url)
    assert alice.post(url).status_code == 302
    consent = Consent.objects.get(client=world.carol, scope=ConsentScope.RESEARCH)
    assert consent.revoked_by_id == world.alice.pk


@pytest.mark.parametrize("who", ["bob", "mallory", "sam", "ada", "dave"])
def test_it_hides_a_client_outside_the_callers_caseload(world: World, who: str):
    consent_give(
        client=world.carol,
        scope=ConsentScope.RESEARCH,
        actor=world.carol,
        method=ConsentMethod.PORTAL,
    )
    caller = portal_client(getattr(world, who))
    base = f"/clients/{world.carol.pk}/consents/"
    assert caller.get(base).status_code == 404
    body = {"scope": "transcription", "method": "verbal_attested", "confirm": "on"}
    assert caller.post(base, body).status_code == 404
    assert caller.post(base + "research/withdraw/").status_code == 404
    assert Consent.objects.filter(client=world.carol, revoked_at=None).count() == 1


def test_a_client_cannot_reach_another_clients_consents(world: World):
    consent_give(
        client=world.dave,
        scope=ConsentScope.RESEARCH,
        actor=world.dave,
        method=ConsentMethod.PORTAL,
    )
    carol = portal_client(world.carol)
    dave_url = f"/clients/{world.dave.pk}/consents/research/withdraw/"
    assert carol.post(dave_url).status_code == 404
    # A client id smuggled into the body is ignored: carol can only ever act on herself.
    smuggled = {"client": str(world.dave.pk)}
    assert carol.post("/consents/research/withdraw/", smuggled).status_code == 302
    assert Consent.objects.get(client=world.dave, scope=ConsentScope.RESEARCH).revoked_at is None


@pytest.mark.parametrize("scope", ["everything", "RESEARCH", "research%00", "../admin"])
def test_it_answers_an_unknown_scope_with_404(world: World, scope: str):
    carol = portal_client(world.carol)
    assert carol.post(f"/consents/{scope}/give/").status_code == 404
    assert carol.get(f"/consents/{scope}/withdraw/").status_code == 404
    assert not Consent.objects.exists()


def test_it_needs_a_post_with_a_csrf_token_to_change_anything(world: World):
    carol = Client(enforce_csrf_checks=True)
    carol.force_login(world.carol, backend="allauth.account.auth_backends.AuthenticationBackend")
    assert carol.get("/consents/research/give/").status_code == 405
    assert carol.post("/consents/research/give/").status_code == 403
    assert not Consent.objects.exists()


def test_it_sends_visitors_who_are_not_signed_in_to_sign_in(world: World):
    response = Client().get("/consents/")
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Share.objects.exists()
