"""A production configuration (https, no debug, keys outside the data) passes every check and
sends the headers a public installation needs. Each test runs Django in a separate process with
that environment, as an operator would."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from revisit.lib.keys import LocalKeyFileProvider
from revisit.testing.server import clean_env

PUBLIC_URL = "https://revisit.example.org"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Data folder, key file elsewhere (mode 0600), a random secret, the public https URL."""
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    LocalKeyFileProvider(keys / "keyring.json", create=True)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    settings = {
        "REVISIT_PUBLIC_URL": PUBLIC_URL,
        "REVISIT_SECRET_KEY": secrets.token_urlsafe(50),
        "REVISIT_KEY_FILE": str(keys / "keyring.json"),
        "DJANGO_SETTINGS_MODULE": "revisit.settings",
    }
    return clean_env(data, **{**settings, **extra})


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_it_passes_the_deployment_checks_without_a_warning(tmp_path: Path):
    command = ["-m", "django", "check", "--deploy", "--fail-level", "WARNING"]
    result = run(command, production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    # security.W021 (HSTS preload) is silenced on purpose; see SILENCED_SYSTEM_CHECKS.
    assert "System check identified no issues (1 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"REVISIT_DEBUG": "1"}, ["revisit.E008", "security.W018"]),
        ({"REVISIT_SECRET_KEY": "not-for-production-" + "x" * 40}, ["revisit.E009"]),
    ],
)
def test_it_fails_the_deployment_checks_on_a_mistake(
    tmp_path: Path, extra: dict[str, str], expected: list[str]
):
    result = run(["-m", "django", "check", "--deploy"], production_env(tmp_path, **extra))
    assert result.returncode == 1
    for check_id in expected:
        assert check_id in result.stderr


@pytest.fixture(scope="module")
def answer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = production_env(tmp_path_factory.mktemp("production"))
    result = run(["-m", "revisit.security.tests.production_probe"], env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_it_sends_the_security_headers_in_production(answer: dict[str, Any]):
    headers = answer["headers"]
    assert answer["status"] == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'nonce-" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "microphone=()" in headers["Permissions-Policy"]


def test_it_sets_host_only_secure_cookies_in_production(answer: dict[str, Any]):
    assert answer["session_cookie"] == "__Host-revisit-session"
    csrf = answer["cookies"]["__Host-revisit-csrf"]
    # A __Host- cookie must be Secure, for the whole site, and not for other hosts (RFC 6265bis).
    assert csrf["secure"] is True or csrf["secure"] == "True"
    assert csrf["path"] == "/" and csrf["domain"] == ""
    assert csrf["samesite"] == "Lax"


def test_it_redirects_plain_http_to_https_in_production(answer: dict[str, Any]):
    assert answer["plain_status"] == 301
    assert answer["plain_location"] == f"{PUBLIC_URL}/accounts/login/"
