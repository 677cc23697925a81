"""`revisit serve` and `revisit up` refuse a configuration that fails a check, naming the fix."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from revisit.security.startup import startup_checks
from revisit.testing.server import REVISIT, clean_env


def test_it_lets_a_sound_configuration_start():
    out = io.StringIO()
    assert startup_checks(out=out) == []
    assert out.getvalue() == ""


def test_it_stops_on_an_error_and_names_the_variable():
    with override_settings(HTTPS=True, DEBUG=True), pytest.raises(ImproperlyConfigured) as info:
        startup_checks(out=io.StringIO())
    assert "REVISIT_DEBUG" in str(info.value)


def test_it_prints_warnings_and_starts(tmp_path: Path):
    from revisit.lib.keys import LocalKeyFileProvider

    key_file = tmp_path / "keys" / "keyring.json"
    LocalKeyFileProvider(key_file, create=True)
    out = io.StringIO()
    with override_settings(
        HTTPS=True,
        SECRET_KEY="q7Vn2xK9pL4mR8sT1wY6zB3cD5fG0hJ-aE_uIoPkLmNbVcXzQwErTyUiOpAsDfGhJkL",
        SESSION_COOKIE_NAME="__Host-s",
        CSRF_COOKIE_NAME="__Host-c",
        KEY_FILE=key_file,
        DATA_DIR=tmp_path,
    ):
        warnings = startup_checks(out=out)
    assert any("revisit.W001" in w for w in warnings)
    assert "REVISIT_KEY_FILE" in out.getvalue()


def test_it_stops_when_the_store_cannot_be_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from revisit.lib.blobstore import BlobStoreUnavailableError
    from revisit.vault import services

    class Unreachable:
        local = False

        def check(self) -> None:
            raise BlobStoreUnavailableError("S3 endpoint http://10.0.0.1: connection refused")

    monkeypatch.setattr(services, "blobstore", lambda: Unreachable())
    with pytest.raises(ImproperlyConfigured) as info:
        startup_checks(out=io.StringIO())
    assert "REVISIT_STORAGE_URL" in str(info.value) and "connection refused" in str(info.value)


def test_it_refuses_to_serve_a_public_debug_installation(tmp_path: Path):
    """The real command: it stops before the web server starts, exit status 2, one clear line."""
    env = clean_env(
        tmp_path / "data", REVISIT_PUBLIC_URL="https://revisit.example.org", REVISIT_DEBUG="1"
    )
    result = subprocess.run(
        [*REVISIT, "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "cannot start" in result.stderr and "REVISIT_DEBUG" in result.stderr
    assert "Traceback" not in result.stderr
