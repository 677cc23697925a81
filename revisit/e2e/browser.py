"""Driving Debian Chromium: how it is started, signing in, and what went wrong on a page.

Never `playwright install`: the browser is the Debian package at /usr/bin/chromium. Its fake
camera and microphone (a test pattern and a beep) stand in for a real session's devices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, Request, Response

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
FAKE_MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
VIEWPORT = {"width": 1280, "height": 800}


def launch(playwright: Playwright, *, fake_media: bool = False) -> Browser:
    args = [*ARGS, *(FAKE_MEDIA if fake_media else [])]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


def totp_code(secret: str) -> str:
    """The authenticator's current six digits for a base32 secret (allauth's own arithmetic)."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return str(format_hotp_value(hotp_value(secret, counter)))


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    totp_secret: str = ""


def demo_credentials(demo_output: str, email: str) -> Credentials:
    """What `revisit demo` printed once for one account: its password and authenticator secret."""
    password = re.search(rf"{re.escape(email)}\s+password (\S+)", demo_output)
    if password is None:
        raise LookupError(f"the demo output names no password for {email}")
    rest = demo_output[password.end() :].split("\n", 2)
    secret = re.search(r"^\s+authenticator secret (\S+)", rest[1] if len(rest) > 1 else "")
    return Credentials(email, password.group(1), secret.group(1) if secret else "")


def sign_in(page: Page, who: Credentials) -> None:
    """Password, then (for staff) the authenticator code, as a person would type them."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", who.email)
    page.fill("input[name=password]", who.password)
    page.click("main button[type=submit]")
    if who.totp_secret:
        page.wait_for_url("**/2fa/authenticate/")
        page.fill("input[name=code]", totp_code(who.totp_secret))
        page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/" not in url)


@dataclass
class Watched:
    """A page and what went wrong on it: script errors, server errors, and its media requests."""

    page: Page
    errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", self._request)
        self.page.on("response", self._response)

    def _request(self, request: Request) -> None:
        if "/media/" in request.url:
            self.media.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    def assert_clean(self) -> None:
        assert self.errors == [], f"script errors on the page: {self.errors}"
        assert self.server_errors == [], f"server errors: {self.server_errors}"
