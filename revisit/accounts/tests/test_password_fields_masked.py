"""Every password field is masked, tells password managers what it holds, and takes pastes.

ASVS V6.2.6 (`type="password"`) and V6.2.7 (paste and password managers work: an `autocomplete`
hint on each field, and nothing on the page or in the scripts it loads that handles paste).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import mail
from django.core.cache import cache
from django.test import Client

from revisit.accounts.services import invitation_create
from revisit.testing.actors import World, portal_client

pytestmark = pytest.mark.django_db

CURRENT, NEW = "current-password", "new-password"
PASTE_HANDLERS = ("onpaste", "oncopy", "oncut", "ondrop", "onbeforepaste")


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str]] = []
        self.scripts: list[str] = []
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.attributes.update(found)
        if tag == "input":
            self.inputs.append(found)
        elif tag == "script" and found.get("src"):
            self.scripts.append(found["src"])


def _sign_in_page(world: World) -> str:
    return Client().get("/accounts/login/").content.decode()


def _invitation_page(world: World) -> str:
    issued = invitation_create(inviter=world.alice, email="newclient@example.org")
    browser = Client()
    browser.get(issued.path)
    return browser.get("/invite/accept/").content.decode()


def _change_page(world: World) -> str:
    return portal_client(world.carol).get("/accounts/password/change/").content.decode()


def _reset_from_key_page(world: World) -> str:
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": world.carol.email})
    link = re.search(
        r"http://testserver(/accounts/password/reset/key/\S+)", str(mail.outbox[-1].body)
    )
    assert link is not None, "no reset link was sent"
    page = browser.get(link.group(1), follow=True)
    assert page.status_code == 200 and "set-password" in page.redirect_chain[-1][0]
    return page.content.decode()


PAGES: dict[str, tuple[Callable[[World], str], dict[str, str]]] = {
    "sign-in": (_sign_in_page, {"password": CURRENT}),
    "invitation": (_invitation_page, {"password1": NEW, "password2": NEW}),
    "change": (_change_page, {"oldpassword": CURRENT, "password1": NEW, "password2": NEW}),
    "reset-from-key": (_reset_from_key_page, {"password1": NEW, "password2": NEW}),
}


@pytest.fixture(autouse=True)
def _clear_throttles():
    cache.clear()


def _parse(world: World, name: str) -> _Inputs:
    render, _ = PAGES[name]
    parser = _Inputs()
    parser.feed(render(world))
    return parser


def _is_password_field(field: dict[str, str]) -> bool:
    return field.get("type") == "password" or "password" in field.get("name", "")


@pytest.mark.parametrize("name", PAGES)
def test_it_masks_every_password_field_and_names_what_it_holds(world: World, name: str):
    page = _parse(world, name)
    fields = {f.get("name", ""): f for f in page.inputs if _is_password_field(f)}
    _, expected = PAGES[name]
    assert set(fields) == set(expected)
    for field_name, hint in expected.items():
        assert fields[field_name].get("type") == "password", field_name
        assert fields[field_name].get("autocomplete") == hint, field_name


@pytest.mark.parametrize("name", PAGES)
def test_it_lets_people_paste_into_password_fields(world: World, name: str):
    page = _parse(world, name)
    assert not page.attributes & set(PASTE_HANDLERS)
    assert page.scripts, "the page loads no script at all: this test would check nothing"
    for src in page.scripts:
        assert src.startswith(settings.STATIC_URL), src
        found = finders.find(src.removeprefix(settings.STATIC_URL))
        assert isinstance(found, str), f"cannot find {src}"
        code = Path(found).read_text(encoding="utf-8")
        assert not re.search(r"paste|clipboard", code, re.IGNORECASE), src
