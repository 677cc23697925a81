"""Key-encryption keys (KEKs): they wrap each object's data key for its key record.

A key record is ``(object id, KEK id, wrapped DEK)`` and lives in the database, never in the blob
(see "Key records and KEKs" in ``docs/storage-format.md``). A :class:`KekProvider` wraps and
unwraps; :class:`LocalKeyFileProvider` keeps its KEKs in a JSON keyring named by
``REVISIT_KEY_FILE``. A cloud KMS or Vault provider only has to offer the same methods.

Rotation, as the database glue runs it::

    new_id = provider.add_key()                      # becomes active
    for record in records_not_under(new_id):         # resumable: done records are skipped
        if (wrapped := rewrap(provider, record.wrapped, object_id=record.object_id)):
            record.save_wrapped(wrapped)
    provider.retire(old_id)                          # only once no record names it
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from revisit.lib import sealed

SETTING: Final = "REVISIT_KEY_FILE"
KEK_LEN: Final = 32
_FORMAT: Final = "revisit-keyring"
_VERSION: Final = 1
_WRAP_VERSION: Final = b"\x01"
_WRAP_LABEL: Final = b"revisit-kek/v1"
_WRAPPED_LEN: Final = 1 + 12 + sealed.DEK_LEN + 16
_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class KeyringError(Exception):
    """The keyring cannot be used. Messages name the file and the setting to fix."""


class KeyFileMissingError(KeyringError):
    pass


class KeyFileUnreadableError(KeyringError):
    pass


class KeyFilePermissionError(KeyringError):
    pass


class KeyFileCorruptError(KeyringError):
    pass


class UnknownKeyError(KeyringError):
    """A key record names a KEK id that the keyring does not hold."""


class ActiveKeyRetireError(KeyringError):
    """The active KEK cannot be retired; add a new one first."""


class MalformedWrappedKeyError(KeyringError):
    """The wrapped DEK of a key record is not in a format this provider writes."""


class WrongKeyError(KeyringError, sealed.WrongKeyError):
    """The wrapped DEK does not open: wrong KEK, or the key record was altered or moved."""


@dataclass(frozen=True)
class WrappedKey:
    """What a key record stores besides the object id: the KEK id and the wrapped DEK."""

    key_id: str
    data: bytes


class KekProvider(Protocol):
    @property
    def active_key_id(self) -> str: ...

    def wrap(self, dek: bytes, *, object_id: UUID) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey, *, object_id: UUID) -> bytes: ...

    def key_ids(self) -> list[str]: ...

    def add_key(self) -> str: ...

    def retire(self, key_id: str) -> None: ...


def rewrap(provider: KekProvider, wrapped: WrappedKey, *, object_id: UUID) -> WrappedKey | None:
    """Wrap a record's DEK under the active KEK; None if it already is (nothing to save)."""
    if wrapped.key_id == provider.active_key_id:
        return None
    return provider.wrap(provider.unwrap(wrapped, object_id=object_id), object_id=object_id)


def _aad(object_id: UUID, key_id: str) -> bytes:
    return _WRAP_LABEL + object_id.bytes + key_id.encode()


def wrap_with(kek: bytes, key_id: str, dek: bytes, *, object_id: UUID) -> WrappedKey:
    """AES-256-GCM wrap of ``dek``, bound to the object id and the KEK id."""
    if len(dek) != sealed.DEK_LEN:
        raise ValueError(f"a data key is {sealed.DEK_LEN} bytes, not {len(dek)}")
    nonce = os.urandom(12)
    data = AESGCM(kek).encrypt(nonce, dek, _aad(object_id, key_id))
    return WrappedKey(key_id=key_id, data=_WRAP_VERSION + nonce + data)


def unwrap_with(kek: bytes, wrapped: WrappedKey, *, object_id: UUID) -> bytes:
    data = wrapped.data
    if len(data) != _WRAPPED_LEN or data[:1] != _WRAP_VERSION:
        raise MalformedWrappedKeyError(f"the key record of object {object_id} is malformed")
    try:
        return AESGCM(kek).decrypt(data[1:13], data[13:], _aad(object_id, wrapped.key_id))
    except InvalidTag:
        raise WrongKeyError(
            f"the data key does not open under KEK {wrapped.key_id}: wrong key file, or the "
            "key record was altered or belongs to another object",
            object_id=object_id,
        ) from None


def new_key_id() -> str:
    return f"kek-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(6)}"


@dataclass(frozen=True)
class _Ring:
    active: str
    keys: dict[str, bytes]
    created: dict[str, str]
    identity: tuple[int, int, int]  # inode, size, mtime: changes when another process writes

    def to_json(self) -> str:
        keys = {
            kid: {"key": base64.b64encode(key).decode(), "created": self.created[kid]}
            for kid, key in self.keys.items()
        }
        doc = {"format": _FORMAT, "version": _VERSION, "active": self.active, "keys": keys}
        return json.dumps(doc, indent=2) + "\n"


class LocalKeyFileProvider:
    """KEKs in a local JSON keyring (mode 0600), one of them active.

    With ``create=True`` a missing file is created, atomically, with one fresh KEK. The file is
    re-read whenever it changes on disk, so a rotation run by another process is seen at once.
    """

    def __init__(self, path: Path | str, *, create: bool) -> None:
        self.path = Path(path)
        if create and not self.path.exists():
            self._create()
        self._ring = self._load()

    def _fail(self, error: type[KeyringError], problem: str, fix: str) -> KeyringError:
        return error(f"key file {self.path}: {problem}; {fix} ({SETTING})")

    def _create(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        kid = new_key_id()
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        ring = _Ring(kid, {kid: os.urandom(KEK_LEN)}, {kid: now}, (0, 0, 0))
        self._write(ring, replace=False)

    def _write(self, ring: _Ring, *, replace: bool) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(6)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(tmp, flags, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(ring.to_json())
                out.flush()
                os.fsync(out.fileno())
            if replace:
                os.replace(tmp, self.path)
            else:  # link only if absent: when two processes create at once, the first one wins
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _load(self) -> _Ring:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise self._fail(
                KeyFileMissingError,
                "does not exist",
                "point the setting at the keyring this installation was set up with "
                "(a new keyring cannot open existing data)",
            ) from None
        except OSError as e:
            raise self._fail(
                KeyFileUnreadableError, f"cannot be opened ({e.strerror})", "check the setting"
            ) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise self._fail(
                    KeyFileUnreadableError, "is not a regular file", "check the setting"
                )
            if info.st_mode & 0o077:
                mode = oct(stat.S_IMODE(info.st_mode))
                raise self._fail(
                    KeyFilePermissionError,
                    f"has mode {mode}, open to group or others",
                    f"run `chmod 600 {self.path}`",
                )
            with os.fdopen(fd, "rb", closefd=False) as file:
                raw = file.read()
        except OSError as e:
            raise self._fail(
                KeyFileUnreadableError, f"cannot be read ({e.strerror})", "check the setting"
            ) from None
        finally:
            os.close(fd)
        identity = (info.st_ino, info.st_size, info.st_mtime_ns)
        return self._parse(raw, identity)

    def _parse(self, raw: bytes, identity: tuple[int, int, int]) -> _Ring:
        def corrupt(reason: str) -> KeyringError:
            return self._fail(
                KeyFileCorruptError, f"is not a valid keyring ({reason})", "restore it from backup"
            )

        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise corrupt("not JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise corrupt("no keyring format marker")
        if doc.get("version") != _VERSION:
            raise corrupt(f"unsupported version {doc.get('version')!r}")
        entries, active = doc.get("keys"), doc.get("active")
        if not isinstance(entries, dict) or not entries:
            raise corrupt("no keys")
        keys: dict[str, bytes] = {}
        created: dict[str, str] = {}
        for kid, entry in entries.items():
            if not _KEY_ID.fullmatch(kid) or not isinstance(entry, dict):
                raise corrupt("a malformed key entry")
            try:
                key = base64.b64decode(str(entry.get("key")), validate=True)
            except binascii.Error:
                key = b""
            if len(key) != KEK_LEN:
                raise corrupt(f"key {kid} is not {KEK_LEN} bytes of base64")
            keys[kid], created[kid] = key, str(entry.get("created", ""))
        if active not in keys:
            raise corrupt("the active key id names no key")
        return _Ring(str(active), keys, created, identity)

    def _current(self) -> _Ring:
        try:
            info = os.stat(self.path)
        except OSError:
            return self._load()  # raises the right, typed error
        if (info.st_ino, info.st_size, info.st_mtime_ns) != self._ring.identity:
            self._ring = self._load()
        return self._ring

    @contextlib.contextmanager
    def _locked(self) -> Iterator[_Ring]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._ring = self._load()
            yield self._ring
        finally:
            os.close(fd)  # closing releases the lock

    @property
    def active_key_id(self) -> str:
        return self._current().active

    def key_ids(self) -> list[str]:
        """Every KEK id held, oldest first (the file keeps them in the order they were added)."""
        return list(self._current().keys)

    def wrap(self, dek: bytes, *, object_id: UUID) -> WrappedKey:
        ring = self._current()
        return wrap_with(ring.keys[ring.active], ring.active, dek, object_id=object_id)

    def unwrap(self, wrapped: WrappedKey, *, object_id: UUID) -> bytes:
        ring = self._current()
        kek = ring.keys.get(wrapped.key_id)
        if kek is None:
            raise self._fail(
                UnknownKeyError,
                f"holds no KEK {wrapped.key_id!r} (needed by object {object_id})",
                "was it retired, or is the setting pointing at another installation's keyring?",
            )
        return unwrap_with(kek, wrapped, object_id=object_id)

    def add_key(self) -> str:
        """Add a fresh KEK and make it the active one; return its id."""
        with self._locked() as ring:
            kid = new_key_id()
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            keys, created = {**ring.keys, kid: os.urandom(KEK_LEN)}, {**ring.created, kid: now}
            self._write(_Ring(kid, keys, created, ring.identity), replace=True)
        self._ring = self._load()
        return kid

    def retire(self, key_id: str) -> None:
        """Destroy a KEK. Final: first make sure no key record still names it."""
        with self._locked() as ring:
            if key_id not in ring.keys:
                raise self._fail(UnknownKeyError, f"holds no KEK {key_id!r}", "check the key id")
            if key_id == ring.active:
                raise self._fail(
                    ActiveKeyRetireError,
                    f"KEK {key_id!r} is the active one",
                    "add a new key and rewrap the key records first",
                )
            keys = {kid: key for kid, key in ring.keys.items() if kid != key_id}
            created = {kid: ring.created[kid] for kid in keys}
            self._write(_Ring(ring.active, keys, created, ring.identity), replace=True)
        self._ring = self._load()
