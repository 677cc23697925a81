"""Each role's menu leads to the pages that role can use, and to nothing it cannot."""

from __future__ import annotations

import pytest

from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db

EXPECTED = {
    "alice": {"Home", "Clients", "Recordings", "New recording", "Security"},
    "carol": {"Home", "Your consents", "Security"},
    "ada": {"Home", "People", "Retention", "Emergency access", "Security"},
    "sam": {"Home", "Security"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_it_offers_each_role_its_own_pages(world: World, who: str):
    browser = portal_client(getattr(world, who))
    page = browser.get("/", follow=True)
    links = dict(page.context["nav_links"])
    assert set(links) == EXPECTED[who]
    for label, href in links.items():
        assert browser.get(href, follow=True).status_code == 200, (who, label, href)
