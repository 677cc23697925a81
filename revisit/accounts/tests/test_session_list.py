from __future__ import annotations

import pytest
from django.test import Client

from revisit.accounts.signins import device_summary, network_of
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)


def signed_in(world_user, user_agent: str, ip: str) -> Client:
    browser = portal_client(world_user)
    assert browser.get("/security/", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip).status_code == 200
    return browser


def test_it_lists_only_ones_own_sessions(world: World):
    desk = signed_in(world.carol, FIREFOX_WINDOWS, "203.0.113.57")
    signed_in(world.carol, SAFARI_IPHONE, "198.51.100.23")
    signed_in(world.dave, EDGE_MAC, "192.0.2.99")

    page = desk.get("/security/sessions/").content.decode()

    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert "Edge on macOS" not in page and "192.0.2." not in page
    assert page.count("(this session)") == 1
    assert page.index("Firefox on Windows") < page.index("(this session)")
    assert page.index("(this session)") < page.index("Safari on iPhone")


def test_it_shows_only_the_network_not_the_address(world: World):
    browser = signed_in(world.carol, FIREFOX_WINDOWS, "203.0.113.57")
    page = browser.get("/security/sessions/").content.decode()
    assert "203.0.113.0/24" in page
    assert "203.0.113.57" not in page


def test_it_asks_visitors_to_sign_in(world: World):
    response = Client().get("/security/sessions/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (EDGE_MAC, "Edge on macOS"),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("python-requests/2.32", "Unknown browser"),
        ("", "Unknown browser"),
        ("<script>alert(1)</script>" * 20, "Unknown browser"),
    ],
)
def test_it_summarises_a_browser_coarsely(agent: str, summary: str):
    assert device_summary(agent) == summary


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.57", "203.0.113.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::", "Unknown network"),
        ("not an address", "Unknown network"),
    ],
)
def test_it_truncates_addresses_to_their_network(ip: str, network: str):
    assert network_of(ip) == network
