"""Each configuration check fails on the mistake it guards against, and passes otherwise."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from django.conf import settings
from django.core.checks import CheckMessage, run_checks
from django.test import override_settings

from revisit.lib.keys import LocalKeyFileProvider
from revisit.security import checks

STRONG_KEY = "q7Vn2xK9pL4mR8sT1wY6zB3cD5fG0hJ-aE_uIoPkLmNbVcXzQwErTyUiOpAsDfGhJkL"


def ids(messages: list[CheckMessage]) -> list[str]:
    return sorted(str(m.id) for m in messages)


def private_key_file(folder: Path) -> Path:
    path = folder / "keyring.json"
    LocalKeyFileProvider(path, create=True)
    return path


def test_it_passes_on_the_configuration_the_tests_run_with():
    assert [m for m in run_checks(tags=[checks.TAG]) if m.is_serious()] == []


# --- Sealed storage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/objects", "file://relative/objects", "plain:///srv/objects", "", "s3://"],
)
def test_it_refuses_a_storage_url_it_does_not_know(url: str):
    with override_settings(STORAGE_URL=url, STORAGE_OPTIONS={}):
        messages = checks.check_storage()
    assert ids(messages) == ["revisit.E001"]
    assert "REVISIT_STORAGE_URL" in messages[0].msg


def test_it_names_the_missing_s3_settings():
    with override_settings(STORAGE_URL="s3://bucket", STORAGE_OPTIONS={"endpoint_url": "x"}):
        messages = checks.check_storage()
    assert ids(messages) == ["revisit.E001"]
    assert "REVISIT_S3_ACCESS_KEY" in str(messages[0].hint)


def test_it_refuses_a_folder_it_cannot_create(tmp_path: Path):
    occupied = tmp_path / "a-file"
    occupied.write_bytes(b"")
    with override_settings(STORAGE_URL=f"file://{occupied}/objects"):
        messages = checks.check_storage()
    assert ids(messages) == ["revisit.E001"]
    assert "REVISIT_STORAGE_URL" in messages[0].msg


def test_it_accepts_a_writable_folder_and_working_keys(tmp_path: Path):
    with override_settings(STORAGE_URL=f"file://{tmp_path}/objects"):
        assert checks.check_storage() == []
    assert checks.sealing_problem() == ""


def test_it_reports_sealing_that_cannot_use_the_key_file(tmp_path: Path):
    broken = tmp_path / "keyring.json"
    broken.write_text("{not a keyring")
    broken.chmod(0o600)
    with override_settings(KEY_FILE=broken):
        problem = checks.sealing_problem()
        messages = checks.check_storage()
    assert "not a valid keyring" in problem
    assert ids(messages) == ["revisit.E002"]


# --- Key file ----------------------------------------------------------------------------------


def test_it_accepts_a_private_key_file_of_this_user(tmp_path: Path):
    path = private_key_file(tmp_path)
    assert checks.key_file_problems(path) == []
    with override_settings(KEY_FILE=path):
        assert checks.check_key_file() == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o666])
def test_it_refuses_a_key_file_others_can_read(tmp_path: Path, mode: int):
    path = private_key_file(tmp_path)
    path.chmod(mode)
    with override_settings(KEY_FILE=path):
        messages = checks.check_key_file()
    assert ids(messages) == ["revisit.E003"]
    assert "chmod 600" in messages[0].msg and "REVISIT_KEY_FILE" in messages[0].msg


def test_it_refuses_a_key_file_of_another_user(tmp_path: Path):
    path = private_key_file(tmp_path)
    problems = checks.key_file_problems(path, uid=os.geteuid() + 1)
    assert len(problems) == 1 and "belongs to user" in problems[0]


@pytest.mark.parametrize("kind", ["missing", "folder", "link"])
def test_it_refuses_a_key_file_that_is_not_a_plain_file(tmp_path: Path, kind: str):
    path = tmp_path / "keyring.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "link":
        (tmp_path / "real").mkdir()
        path.symlink_to(private_key_file(tmp_path / "real"))
    with override_settings(KEY_FILE=path):
        assert ids(checks.check_key_file()) == ["revisit.E003"]


def test_it_refuses_a_key_file_among_the_static_files(tmp_path: Path):
    static_root = tmp_path / "static"
    static_root.mkdir()
    path = private_key_file(static_root)
    with override_settings(KEY_FILE=path, STATIC_ROOT=static_root):
        messages = checks.check_key_file()
    assert ids(messages) == ["revisit.E004"]


def test_it_refuses_private_folders_that_are_served(tmp_path: Path):
    with override_settings(SCRATCH_DIR=Path(settings.STATICFILES_DIRS[0]) / "scratch"):
        messages = checks.check_private_folders()
    assert ids(messages) == ["revisit.E005"]
    assert "REVISIT_SCRATCH_DIR" in messages[0].msg
    assert checks.check_private_folders() == []


def test_it_wants_the_production_key_file_outside_the_code_and_the_data(tmp_path: Path):
    inside_code = Path(settings.PROJECT_DIR) / "var" / "keys" / "keyring.json"
    with override_settings(KEY_FILE=inside_code, DATA_DIR=tmp_path):
        assert ids(checks.check_key_file_location()) == ["revisit.E006"]
    with override_settings(KEY_FILE=tmp_path / "keys" / "keyring.json", DATA_DIR=tmp_path):
        assert ids(checks.check_key_file_location()) == ["revisit.W001"]
    elsewhere = tmp_path / "elsewhere"
    with override_settings(KEY_FILE=tmp_path / "keyring.json", DATA_DIR=elsewhere):
        assert checks.check_key_file_location() == []


# --- Sign-in -----------------------------------------------------------------------------------


def test_it_passes_when_staff_must_use_mfa():
    assert checks.check_mfa() == []


@pytest.mark.parametrize(
    "change",
    [
        {"MFA_REQUIRED_ROLES": ("therapist", "supervisor")},
        {"MFA_REQUIRED_ROLES": ()},
        {"MFA_SUPPORTED_TYPES": ["recovery_codes"]},
    ],
)
def test_it_refuses_a_configuration_that_lets_staff_skip_mfa(change: dict[str, object]):
    with override_settings(**change):
        messages = checks.check_mfa()
    assert ids(messages) == ["revisit.E007"]


def test_it_refuses_to_run_without_the_mfa_middleware():
    without = [m for m in settings.MIDDLEWARE if not m.endswith("MfaRequiredMiddleware")]
    with override_settings(MIDDLEWARE=without):
        messages = checks.check_mfa()
    assert ids(messages) == ["revisit.E007"]
    assert "MfaRequiredMiddleware" in messages[0].msg


def test_it_refuses_sign_in_rules_that_exempt_a_staff_role(monkeypatch: pytest.MonkeyPatch):
    from revisit.accounts import services

    monkeypatch.setattr(services, "user_requires_mfa", lambda user: user.role != "admin")
    assert ids(checks.check_mfa()) == ["revisit.E007"]


# --- Public installations ----------------------------------------------------------------------

PUBLIC = {
    "HTTPS": True,
    "DEBUG": False,
    "SECRET_KEY": STRONG_KEY,
    "SESSION_COOKIE_NAME": "__Host-revisit-session",
    "CSRF_COOKIE_NAME": "__Host-revisit-csrf",
}


def test_it_passes_a_sound_public_configuration():
    with override_settings(**PUBLIC):
        assert checks.check_public() == []


def test_it_does_not_ask_a_local_installation_for_public_settings():
    with override_settings(**{**PUBLIC, "HTTPS": False, "DEBUG": True, "SECRET_KEY": "x" * 32}):
        assert checks.check_public() == []


def test_it_refuses_debug_pages_on_a_public_installation():
    with override_settings(**{**PUBLIC, "DEBUG": True}):
        messages = checks.check_public()
    assert ids(messages) == ["revisit.E008"]
    assert "REVISIT_DEBUG" in messages[0].msg


@pytest.mark.parametrize(
    "key",
    [
        "short-but-random-9f8e7d6c5b4a",  # too short
        "ab" * 40,  # long, but two characters
        "test-only-secret-key-not-for-production-0123456789abcdef",  # the test suite's key
        "lint-only-secret-key-0123456789abcdefghijkl-0123456789",  # scripts/lint's key
        "CHANGEME-" + STRONG_KEY,
    ],
)
def test_it_refuses_a_weak_or_published_secret_key(key: str):
    with override_settings(**{**PUBLIC, "SECRET_KEY": key}):
        messages = checks.check_public()
    assert messages and set(ids(messages)) == {"revisit.E009"}
    assert all("REVISIT_SECRET_KEY" in m.msg for m in messages)


def test_it_accepts_a_generated_secret_key():
    for _ in range(20):
        assert checks.secret_key_problems(secrets.token_urlsafe(50)) == []


def test_it_wants_host_only_cookies_on_a_public_installation():
    with override_settings(**{**PUBLIC, "SESSION_COOKIE_NAME": "revisit-session"}):
        messages = checks.check_public()
    assert ids(messages) == ["revisit.E010"]


# --- Permissions-Policy ------------------------------------------------------------------------


def test_it_passes_the_policy_in_settings():
    assert checks.check_permissions_policy() == []


@pytest.mark.parametrize("feature", ["camera", "microphone", "display-capture"])
def test_it_refuses_capture_allowed_on_every_page(feature: str):
    policy = {**settings.PERMISSIONS_POLICY, feature: ["self"]}
    with override_settings(PERMISSIONS_POLICY=policy):
        messages = checks.check_permissions_policy()
    assert ids(messages) == ["revisit.E012"]
    assert feature in messages[0].msg


def test_it_refuses_capture_left_out_of_the_policy():
    policy = {k: v for k, v in settings.PERMISSIONS_POLICY.items() if k != "microphone"}
    with override_settings(PERMISSIONS_POLICY=policy):
        assert ids(checks.check_permissions_policy()) == ["revisit.E012"]


@pytest.mark.parametrize(
    "policy",
    [
        {"Camera": []},
        {"camera=(self), geolocation": []},
        {"camera": ["self), geolocation=(*"]},
        {"camera": ["https://example.org/path"]},
        {"camera": ["javascript:alert(1)"]},
        {"camera": ["self\r\nSet-Cookie: x=1"]},
    ],
)
def test_it_refuses_a_policy_that_is_not_a_valid_header(policy: dict[str, list[str]]):
    by_path = {"/recordings/new/": policy}
    with override_settings(PERMISSIONS_POLICY_BY_PATH=by_path):
        messages = checks.check_permissions_policy()
    assert ids(messages) == ["revisit.E011"]
    assert "PERMISSIONS_POLICY_BY_PATH" in messages[0].msg
