"""Initializing a data folder before Django starts: folder, secret key and key file.

Every `revisit` command calls `init_data_dir` first, so each works on a fresh, empty folder.
Nothing here imports Django settings (they cannot load until the secret exists).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class DataDirError(Exception):
    """The data folder cannot be used; the message says which setting to fix."""


def data_dir_from_env() -> Path:
    return Path(os.environ.get("REVISIT_DATA_DIR") or "var").resolve()


def _write_private(path: Path, content: bytes) -> None:
    """Create a file readable by this user only, atomically, never replacing an existing one."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process created it first: theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def init_data_dir(data_dir: Path) -> Path:
    """Create the folder (mode 0700), a secret key and a key file where none is configured."""
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(
            f"REVISIT_DATA_DIR ({data_dir}) cannot be created: {exc.strerror}"
        ) from None
    if not os.access(data_dir, os.R_OK | os.W_OK | os.X_OK):
        raise DataDirError(
            f"REVISIT_DATA_DIR ({data_dir}) is not readable and writable by this user"
        )
    if not (os.environ.get("REVISIT_SECRET_KEY") or os.environ.get("REVISIT_SECRET_KEY_FILE")):
        secret_file = data_dir / "secret_key"
        if not secret_file.exists():
            _write_private(secret_file, secrets.token_urlsafe(50).encode())
    key_file = Path(os.environ.get("REVISIT_KEY_FILE") or data_dir / "keys" / "keyring.json")
    if not os.environ.get("REVISIT_KEY_FILE"):
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    from revisit.lib.keys import LocalKeyFileProvider

    # With REVISIT_KEY_FILE set, the file must already exist: a missing production key is an
    # error to report, never a reason to make a new key that cannot open existing content.
    LocalKeyFileProvider(key_file, create=not os.environ.get("REVISIT_KEY_FILE"))
    return data_dir
