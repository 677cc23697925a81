"""Configuration checks (`manage check`, and at start-up of `revisit serve` and `revisit up`).

Each message names the environment variable (or the setting in revisit/settings.py) to fix.
Errors stop `revisit serve` and `revisit up`; warnings are printed. Tagged "revisit"; the ones
that only matter on a public installation are deployment checks (`check --deploy`, or any start
with an https:// REVISIT_PUBLIC_URL).
"""

from __future__ import annotations

import io
import os
import stat
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

TAG = "revisit"

# Words that mark a placeholder or a key copied from a test set-up or a document.
_PLACEHOLDER_WORDS = ("secret-key", "secret_key", "not-for-production", "changeme", "insecure")
MIN_SECRET_LENGTH = 50
MIN_SECRET_DISTINCT = 20


def _within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def served_folders() -> list[Path]:
    """Folders whose files a web server or Django may hand out: static files and templates."""
    folders = [Path(settings.STATIC_ROOT), *(Path(p) for p in settings.STATICFILES_DIRS)]
    for engine in settings.TEMPLATES:
        dirs = engine.get("DIRS", [])
        if isinstance(dirs, (list, tuple)):
            folders += [Path(p) for p in dirs]
    return folders


# --- Sealed storage ----------------------------------------------------------------------------


@register(TAG)
def check_storage(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """The store URL names a known kind of store, and sealing works with the configured keys."""
    from revisit.lib.blobstore import BlobStoreError, blobstore_from_url

    options = settings.STORAGE_OPTIONS
    try:
        store = blobstore_from_url(
            settings.STORAGE_URL,
            endpoint_url=options.get("endpoint_url"),
            access_key=options.get("access_key"),
            secret_key=options.get("secret_key"),
            region=options.get("region", "us-east-1"),
        )
    except BlobStoreError as exc:
        hint = "Set REVISIT_STORAGE_URL to file:///absolute/folder or s3://bucket"
        if settings.STORAGE_URL.startswith("s3://"):
            hint += " with REVISIT_S3_ENDPOINT, REVISIT_S3_ACCESS_KEY and REVISIT_S3_SECRET_KEY"
        return [Error(f"REVISIT_STORAGE_URL cannot be used: {exc}.", hint=hint, id="revisit.E001")]
    errors: list[CheckMessage] = []
    if store.local:  # a folder: cheap to try now (a remote store is tried at start-up)
        try:
            store.check()
        except BlobStoreError as exc:
            errors.append(Error(f"REVISIT_STORAGE_URL: {exc}.", id="revisit.E001"))
    problem = "" if key_file_problems(Path(settings.KEY_FILE)) else sealing_problem()
    if problem:
        errors.append(
            Error(f"Sealed storage does not work: {problem}.", hint=None, id="revisit.E002")
        )
    return errors


def sealing_problem() -> str:
    """Seal a marker with a fresh data key wrapped by the configured key file, then open it;
    an empty string when the stored form hides the marker and opens to it again."""
    from revisit.lib import sealed
    from revisit.lib.keys import KeyringError, LocalKeyFileProvider
    from revisit.lib.sealed_writer import SealedWriter

    marker = os.urandom(16).hex().encode() * 8
    object_id = uuid.uuid4()
    try:
        keyring = LocalKeyFileProvider(Path(settings.KEY_FILE), create=False)
        dek = sealed.new_dek()
        wrapped = keyring.wrap(dek, object_id=object_id)
        unwrapped = keyring.unwrap(wrapped, object_id=object_id)
    except KeyringError as exc:
        return str(exc)
    stored = io.BytesIO()
    writer = SealedWriter(stored, dek=dek, object_id=object_id, length=len(marker))
    writer.write(marker)
    writer.close()
    data = stored.getvalue()
    if marker in data or marker[:16] in data:
        return "the stored form contains the plaintext"
    reader = sealed.SealedReader(
        lambda offset, length: data[offset : offset + length],
        len(data),
        dek=unwrapped,
        object_id=object_id,
    )
    if reader.read_all() != marker:
        return "a sealed object does not open to what was sealed"
    return ""


# --- Key file ------------------------------------------------------------------------------------


def key_file_problems(path: Path, *, uid: int | None = None) -> list[str]:
    """What is wrong with the key file's type, mode and owner (empty when nothing is)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return [f"the key file {path} does not exist"]
    except OSError as exc:
        return [f"the key file {path} cannot be examined ({exc.strerror})"]
    if not stat.S_ISREG(info.st_mode):
        return [f"the key file {path} is not a regular file (links are refused)"]
    problems = []
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        problems.append(f"the key file {path} has mode {mode:o}; run `chmod 600 {path}`")
    owner = os.geteuid() if uid is None else uid
    if info.st_uid != owner:
        problems.append(
            f"the key file {path} belongs to user {info.st_uid}, not to user {owner} that runs "
            "Revisit; give it to that user (`chown`)"
        )
    return problems


@register(TAG)
def check_key_file(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    path = Path(settings.KEY_FILE)
    messages: list[CheckMessage] = [
        Error(f"REVISIT_KEY_FILE: {problem}.", id="revisit.E003")
        for problem in key_file_problems(path)
    ]
    for folder in served_folders():
        if _within(path, folder):
            messages.append(
                Error(
                    f"REVISIT_KEY_FILE ({path}) is inside {folder}, whose files are served.",
                    hint="Move the key file to a private folder outside the static files.",
                    id="revisit.E004",
                )
            )
    return messages


@register(TAG)
def check_private_folders(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Folders that hold data (and, briefly, decrypted media) must not be served."""
    folders = {
        "REVISIT_DATA_DIR": Path(settings.DATA_DIR),
        "REVISIT_SCRATCH_DIR": Path(settings.SCRATCH_DIR),
        "REVISIT_UPLOAD_DIR": Path(settings.UPLOAD_DIR),
    }
    return [
        Error(
            f"{name} ({path}) is inside {served}, whose files are served.",
            hint=f"Point {name} at a private folder outside the static files and templates.",
            id="revisit.E005",
        )
        for name, path in folders.items()
        for served in served_folders()
        if _within(path, served) or _within(served, path)
    ]


@register(TAG, deploy=True)
def check_key_file_location(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """In production the key file lives apart from the code and from the data it protects."""
    path = Path(settings.KEY_FILE)
    messages: list[CheckMessage] = []
    if _within(path, Path(settings.PROJECT_DIR)):
        messages.append(
            Error(
                f"REVISIT_KEY_FILE ({path}) is inside the application folder "
                f"{settings.PROJECT_DIR}, where it can end up in a copy, an image or a commit.",
                hint="Point REVISIT_KEY_FILE at a private file outside the application folder.",
                id="revisit.E006",
            )
        )
    if _within(path, Path(settings.DATA_DIR)):
        messages.append(
            Warning(
                f"REVISIT_KEY_FILE ({path}) is inside the data folder, so a backup of the data "
                "carries the key that opens it.",
                hint="Point REVISIT_KEY_FILE outside REVISIT_DATA_DIR and its backups.",
                id="revisit.W001",
            )
        )
    return messages


# --- Sign-in -----------------------------------------------------------------------------------


@register(TAG)
def check_mfa(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Therapists, supervisors and admins cannot use the portal or the API without MFA."""
    from revisit.accounts.models import STAFF_ROLES, User
    from revisit.accounts.services import user_requires_mfa

    problems = []
    required = set(getattr(settings, "MFA_REQUIRED_ROLES", ()))
    missing = sorted(str(role) for role in STAFF_ROLES if role not in required)
    if missing:
        problems.append(f"MFA_REQUIRED_ROLES leaves out {', '.join(missing)}")
    exempt = sorted(str(role) for role in STAFF_ROLES if not user_requires_mfa(User(role=role)))
    if exempt:
        problems.append(f"the sign-in rules do not ask {', '.join(exempt)} for MFA")
    if "revisit.accounts.middleware.MfaRequiredMiddleware" not in settings.MIDDLEWARE:
        problems.append("MfaRequiredMiddleware is not in MIDDLEWARE")
    if "allauth.mfa" not in settings.INSTALLED_APPS:
        problems.append("allauth.mfa is not in INSTALLED_APPS")
    if not {"totp", "webauthn"} & set(settings.MFA_SUPPORTED_TYPES):
        problems.append("MFA_SUPPORTED_TYPES offers neither totp nor webauthn")
    return [
        Error(
            f"Two-factor authentication is not enforced for staff: {problem}.",
            hint="Restore the MFA settings in revisit/settings.py; staff handle session content.",
            id="revisit.E007",
        )
        for problem in problems
    ]


# --- Public installations ----------------------------------------------------------------------


@register(TAG)
def check_public(app_configs: Sequence[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """With an https:// public URL: no debug pages, a strong secret, __Host- cookies."""
    if not settings.HTTPS:
        return []
    messages: list[CheckMessage] = []
    if settings.DEBUG:
        messages.append(
            Error(
                "REVISIT_DEBUG is on while REVISIT_PUBLIC_URL is public (https://): error pages "
                "would show settings and session content.",
                hint="Unset REVISIT_DEBUG (or set it to 0).",
                id="revisit.E008",
            )
        )
    messages += [
        Error(f"REVISIT_SECRET_KEY {problem}.", hint=NEW_KEY_HINT, id="revisit.E009")
        for problem in secret_key_problems(settings.SECRET_KEY)
    ]
    for name, value in (
        ("SESSION_COOKIE_NAME", settings.SESSION_COOKIE_NAME),
        ("CSRF_COOKIE_NAME", settings.CSRF_COOKIE_NAME),
    ):
        if not value.startswith("__Host-"):
            messages.append(
                Error(
                    f"{name} ({value}) lacks the __Host- prefix on an https:// installation.",
                    hint="Keep the __Host- cookie names that revisit/settings.py sets for https.",
                    id="revisit.E010",
                )
            )
    return messages


NEW_KEY_HINT = (
    "Generate one with `python -c 'import secrets; print(secrets.token_urlsafe(50))'` and pass it "
    "in REVISIT_SECRET_KEY or a file named by REVISIT_SECRET_KEY_FILE."
)


def secret_key_problems(key: str) -> list[str]:
    problems = []
    if len(key) < MIN_SECRET_LENGTH:
        problems.append(f"is {len(key)} characters long; use at least {MIN_SECRET_LENGTH}")
    if len(set(key)) < MIN_SECRET_DISTINCT:
        problems.append(
            f"uses {len(set(key))} different characters; a random key uses far more "
            f"(at least {MIN_SECRET_DISTINCT})"
        )
    lowered = key.lower()
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        problems.append("looks like a placeholder or an example, not a random key")
    return problems


# --- Permissions-Policy ------------------------------------------------------------------------

CAPTURE_FEATURES = ("camera", "microphone", "display-capture")


@register(TAG)
def check_permissions_policy(
    app_configs: Sequence[Any] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    from revisit.security.policy import PolicyError, policy_header

    base = settings.PERMISSIONS_POLICY
    by_path = settings.PERMISSIONS_POLICY_BY_PATH
    messages: list[CheckMessage] = []
    for name, policy in [("PERMISSIONS_POLICY", base)] + [
        (f"PERMISSIONS_POLICY_BY_PATH[{prefix!r}]", p) for prefix, p in by_path.items()
    ]:
        try:
            policy_header(policy)
        except PolicyError as exc:
            messages.append(Error(f"{name}: {exc}.", id="revisit.E011"))
    open_features = _allowed(base, CAPTURE_FEATURES)
    if open_features:
        messages.append(
            Error(
                f"PERMISSIONS_POLICY allows {', '.join(open_features)} on every page.",
                hint="Deny them in PERMISSIONS_POLICY; allow them in PERMISSIONS_POLICY_BY_PATH "
                "for the recording pages only.",
                id="revisit.E012",
            )
        )
    return messages


def _allowed(policy: Any, features: Iterable[str]) -> list[str]:
    return [f for f in features if f not in policy or list(policy[f])]
