"""The audit signing key: one Ed25519 key in a file of its own, never in the database.

Checkpoints of the audit log are signed with it, so someone who can write to the database but
cannot read this file cannot rewrite the log and re-sign it. The file holds an unencrypted PKCS#8
PEM private key (``openssl pkey -in FILE -pubout`` shows its public half), mode 0600, at the path
named by ``REVISIT_AUDIT_KEY_FILE`` (default: ``keys/audit-signing.key`` in the data folder).

Nothing here imports Django: the file handling mirrors :mod:`revisit.lib.keys`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from revisit.audit import chain
from revisit.lib.keys import KeyringError

SETTING: Final = "REVISIT_AUDIT_KEY_FILE"
_LABEL: Final = b"revisit-audit-checkpoint/v1\n"
_MAX_FILE_BYTES: Final = 16 * 1024


class AuditKeyError(KeyringError):
    """The audit signing key cannot be used. Messages name the file and the setting to fix."""


class AuditKeyMissingError(AuditKeyError):
    pass


class AuditKeyPermissionError(AuditKeyError):
    pass


class AuditKeyCorruptError(AuditKeyError):
    pass


class AuditKeyMismatchError(AuditKeyError):
    """The configured key is not the one that signed the existing checkpoints."""


def _fail(error: type[AuditKeyError], path: Path, problem: str, fix: str) -> AuditKeyError:
    return error(f"audit signing key {path}: {problem}; {fix} ({SETTING})")


def key_id_of(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, in hex: what checkpoints record as their key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()


def checkpoint_message(*, seq: int, hash: str, at: datetime, prev_seq: int) -> bytes:
    """What a checkpoint signs: the entry it covers, that entry's hash, when, and the checkpoint
    before it (so removing a checkpoint from the middle breaks the next one)."""
    fields = {
        "seq": seq,
        "hash": hash,
        "at": at.isoformat(timespec="microseconds"),
        "prev_seq": prev_seq,
    }
    return _LABEL + chain.canonical(fields)


def signature_valid(public: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        return False
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def create_key_file(path: Path) -> bool:
    """Write a fresh key to ``path`` (mode 0600) unless a file is already there.

    Returns True if this call created it. When two processes create at once, the first one wins.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise _fail(
            AuditKeyError, path, f"its folder cannot be created ({e.strerror})", "check the setting"
        ) from None
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        raise _fail(
            AuditKeyError, path, f"cannot be written ({e.strerror})", "check the setting"
        ) from None
    created = False
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)
        created = True
    except FileExistsError:
        pass
    except OSError as e:
        raise _fail(
            AuditKeyError, path, f"cannot be written ({e.strerror})", "check the setting"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return created


def load_key_file(path: Path) -> SigningKey:
    """Read the key, refusing a file that group or others may read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise _fail(
            AuditKeyMissingError,
            path,
            "does not exist",
            "restore it from backup, or point the setting at the key that signed this log",
        ) from None
    except OSError as e:
        raise _fail(
            AuditKeyError, path, f"cannot be opened ({e.strerror})", "check the setting"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _fail(AuditKeyError, path, "is not a regular file", "check the setting")
        if info.st_mode & 0o077:
            mode = oct(stat.S_IMODE(info.st_mode))
            raise _fail(
                AuditKeyPermissionError,
                path,
                f"has mode {mode}, open to group or others",
                f"run `chmod 600 {path}`",
            )
        with os.fdopen(fd, "rb", closefd=False) as file:
            raw = file.read(_MAX_FILE_BYTES + 1)
    except OSError as e:
        raise _fail(
            AuditKeyError, path, f"cannot be read ({e.strerror})", "check the setting"
        ) from None
    finally:
        os.close(fd)
    try:
        if len(raw) > _MAX_FILE_BYTES:
            raise ValueError("too large")
        private = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        private = None
    if not isinstance(private, Ed25519PrivateKey):
        raise _fail(
            AuditKeyCorruptError,
            path,
            "is not an unencrypted Ed25519 private key in PEM form",
            "restore it from backup",
        )
    return SigningKey(private)
