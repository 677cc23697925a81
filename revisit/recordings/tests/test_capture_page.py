from __future__ import annotations

import re

import pytest

from revisit.audit.events import Event
from revisit.recordings.consent import consent_current, consent_give
from revisit.recordings.models import ConsentMethod, ConsentScope
from revisit.testing.actors import World, assert_audited, portal_client

pytestmark = pytest.mark.django_db

PAGE = "/recordings/new/"
ATTEST = "/recordings/new/consent/"


def _page(world: World, **params: str) -> str:
    response = portal_client(world.alice).get(PAGE, params)
    assert response.status_code == 200
    return response.content.decode()


def test_it_renders_for_a_therapist(world: World):
    page = _page(world)
    assert "Upload a file" in page and "Record now" in page
    assert 'type="file"' in page and "<progress" in page
    assert 'name="csrf-token"' in page
    assert 'data-upload-endpoint="/api/v1/uploads"' in page


@pytest.mark.parametrize("who", ["carol", "sam", "ada", "eve"])
def test_it_does_not_exist_for_other_roles(world: World, who: str):
    assert portal_client(getattr(world, who)).get(PAGE).status_code == 404


def test_it_shows_a_therapist_elsewhere_only_her_own_caseload(world: World):
    # mallory is a therapist too, in another practice: the page exists for her, with eve only
    response = portal_client(world.mallory).get(PAGE)
    assert response.status_code == 200
    options = re.findall(r'<option value="([^"]+)"', response.content.decode())
    assert options == [str(world.eve.pk)]


def test_it_lists_only_the_therapists_own_clients(world: World):
    page = _page(world)
    options = re.findall(r'<option value="([^"]+)"', page)
    assert sorted(options) == sorted([str(world.carol.pk), str(world.dave.pk)])
    assert str(world.eve.pk) not in page and "Eve" not in page


def test_it_asks_for_consent_when_none_is_on_record(world: World):
    page = _page(world, client=str(world.carol.pk))
    assert "Recording consent is needed first" in page
    assert "Carol agreed verbally to this recording today" in page
    # the upload and record controls wait until consent is on record
    assert re.search(r"<section[^>]*data-methods hidden", page)


def test_it_shows_the_uploader_once_consent_is_on_record(world: World):
    consent_give(
        client=world.carol,
        scope=ConsentScope.RECORDING,
        actor=world.alice,
        method=ConsentMethod.VERBAL,
    )
    page = _page(world, client=str(world.carol.pk))
    assert re.search(r"<section[^>]*data-methods>", page)
    assert f'data-consent-panel="{world.carol.pk}"' not in page
    assert f'data-consent-panel="{world.dave.pk}"' in page  # dave still has none


def test_it_records_an_attested_verbal_consent(world: World):
    browser = portal_client(world.alice)
    response = browser.post(ATTEST, {"client": str(world.carol.pk), "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?client={world.carol.pk}"
    consent = consent_current(client=world.carol, scope=ConsentScope.RECORDING)
    assert consent is not None
    assert consent.method == ConsentMethod.VERBAL and consent.recorded_by_id == world.alice.pk
    assert_audited(Event.CONSENT_GIVEN, actor=world.alice, subject=consent)
    assert "is on record" in browser.get(response["Location"]).content.decode()


def test_it_requires_the_confirmation_checkbox(world: World):
    response = portal_client(world.alice).post(ATTEST, {"client": str(world.carol.pk)})
    assert response.status_code == 400
    assert "Tick the box to confirm" in response.content.decode()
    assert consent_current(client=world.carol, scope=ConsentScope.RECORDING) is None


@pytest.mark.parametrize("who", ["eve", "bob"])
def test_it_refuses_consent_for_a_client_outside_the_caseload(world: World, who: str):
    client_id = str(world.eve.pk if who == "eve" else world.carol.pk)
    actor = world.alice if who == "eve" else world.bob
    response = portal_client(actor).post(ATTEST, {"client": client_id, "confirm": "on"})
    assert response.status_code == 404
    assert consent_current(client=world.eve, scope=ConsentScope.RECORDING) is None
    assert consent_current(client=world.carol, scope=ConsentScope.RECORDING) is None


def test_it_refuses_consent_attestation_from_other_roles(world: World):
    response = portal_client(world.carol).post(
        ATTEST, {"client": str(world.carol.pk), "confirm": "on"}
    )
    assert response.status_code == 404
    assert consent_current(client=world.carol, scope=ConsentScope.RECORDING) is None


def test_it_sends_a_strict_content_security_policy(world: World):
    response = portal_client(world.alice).get(PAGE)
    policy = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'nonce-" in script_src


def test_it_has_no_inline_script_or_style(world: World):
    response = portal_client(world.alice).get(PAGE)
    page = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert nonce is not None
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S)
    assert len(scripts) >= 4  # the shared script and the page's three
    for attributes, body in scripts:
        assert body.strip() == "", "inline script"
        assert re.search(r'\bsrc="/static/js/[^"]+\.js"', attributes)
        assert f'nonce="{nonce.group(1)}"' in attributes
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page), "inline event handler"
    assert "/static/css/capture.css" in page


def test_it_links_the_page_in_a_therapists_navigation(world: World):
    assert f'href="{PAGE}"' in portal_client(world.alice).get("/clients/").content.decode()
    assert f'href="{PAGE}"' not in portal_client(world.carol).get("/").content.decode()
