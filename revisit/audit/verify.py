"""Checking the audit log: the hash chain, the head row and the signed checkpoints.

:func:`verify_log` is pure: it reads rows (database models or plain copies) and a public key, and
touches no database, so the tamper tests feed it altered copies of a real log and the command line
feeds it the live one, through the same code.

What it proves: every entry hashes to what it stores and links to the one before; the head row
names the last entry; each checkpoint is signed by the configured key, links to the
checkpoint before it, and equals the hash recomputed at the entry it covers. So a rewrite of the
whole chain (hashes re-linked) fails at the first checkpoint after the change, and a truncation
fails wherever a checkpoint covers the removed entries. What it cannot prove without a copy kept
elsewhere: entries added or removed after the newest checkpoint, together with that checkpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from revisit.audit import chain
from revisit.audit.signing import SETTING, checkpoint_message, key_id_of, signature_valid


class EntryLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def event(self) -> int: ...
    @property
    def practice_id(self) -> uuid.UUID | str | None: ...
    @property
    def actor_id(self) -> uuid.UUID | str | None: ...
    @property
    def subject_type(self) -> str: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def detail(self) -> Any: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def hash(self) -> str: ...


class HeadLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...


class CheckpointLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def prev_seq(self) -> int: ...
    @property
    def key_id(self) -> str: ...
    @property
    def signature(self) -> str: ...


@dataclass(frozen=True)
class VerifyResult:
    """The outcome. Entries and checkpoints are named by sequence number only (no content)."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: int = 0
    first_bad_checkpoint: int | None = None  # the entry the bad checkpoint covers
    latest_checkpoint: int | None = None
    key_id: str = ""


def _text(value: uuid.UUID | str | None) -> str | None:
    return None if value is None else str(value)


def entry_digest(entry: EntryLike, prev_hash: str) -> str:
    """The hash an entry should carry, recomputed from its content."""
    fields = chain.entry_fields(
        seq=entry.seq,
        at=entry.at,
        event=entry.event,
        practice_id=_text(entry.practice_id),
        actor_id=_text(entry.actor_id),
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        detail=entry.detail,
    )
    return chain.entry_hash(prev_hash, fields)


class _Failure(Exception):
    def __init__(self, problem: str, *, seq: int | None, checkpoint: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.seq, self.checkpoint = problem, seq, checkpoint


class _CheckpointChecker:
    """Checks each checkpoint as the walk reaches the entry it covers, in order."""

    def __init__(self, public_key: Ed25519PublicKey | None) -> None:
        self.public_key = public_key
        self.key_id = key_id_of(public_key) if public_key is not None else ""
        self.last_good = 0  # the entry the last good checkpoint covers
        self.count = 0

    def check_signed(self, cp: CheckpointLike) -> None:
        """Its place among the checkpoints, its key and its signature."""

        def fail(problem: str) -> _Failure:
            return _Failure(problem, seq=None, checkpoint=cp.seq)

        if cp.seq <= self.last_good or cp.prev_seq != self.last_good:
            raise fail(
                "checkpoint out of order, or the checkpoint before it was removed "
                f"(it follows the one at entry {cp.prev_seq}, expected {self.last_good})"
            )
        if self.public_key is None:
            raise fail(f"no audit signing key is configured to check it ({SETTING})")
        if cp.key_id != self.key_id:
            raise fail(
                f"signed by key {cp.key_id[:16]}, not by the configured key {self.key_id[:16]} "
                f"({SETTING})"
            )
        message = checkpoint_message(seq=cp.seq, hash=cp.hash, at=cp.at, prev_seq=cp.prev_seq)
        if not signature_valid(self.public_key, message, cp.signature):
            raise fail(f"signature does not verify under the configured key ({SETTING})")

    def check_covers(self, cp: CheckpointLike, recomputed: str) -> None:
        if cp.hash != recomputed:
            first = self.last_good + 1
            raise _Failure(
                f"entries {first} to {cp.seq} were changed and re-hashed after they were "
                f"signed: the chain no longer matches the checkpoint at entry {cp.seq}",
                seq=first,
                checkpoint=cp.seq,
            )
        self.last_good = cp.seq
        self.count += 1


def _check_entry(entry: EntryLike, *, expected_seq: int, prev_hash: str) -> str:
    """The entry's recomputed hash, if it is where it should be and matches what it stores."""
    if entry.seq != expected_seq:
        raise _Failure("entry missing or out of order", seq=expected_seq)
    if entry.prev_hash != prev_hash:
        raise _Failure("does not link to the previous entry", seq=entry.seq)
    recomputed = entry_digest(entry, prev_hash)
    if recomputed != entry.hash:
        raise _Failure("content does not match its hash", seq=entry.seq)
    return recomputed


def segment_problem(
    *, entries: Iterable[EntryLike], after_seq: int, after_hash: str, head: HeadLike
) -> str:
    """Check the entries after a signed point up to the head; an empty string if they fit.

    Run before signing a new checkpoint, so a checkpoint never vouches for a broken chain.
    """
    prev, seq = after_hash, after_seq
    try:
        for entry in entries:
            prev = _check_entry(entry, expected_seq=seq + 1, prev_hash=prev)
            seq += 1
    except _Failure as failure:
        return f"entry {failure.seq}: {failure.problem}"
    if seq != head.seq or prev != head.hash:
        return f"the head row (entry {head.seq}) does not match the entries up to {seq}"
    return ""


def verify_log(
    *,
    entries: Iterable[EntryLike],
    head: HeadLike | None,
    checkpoints: Iterable[CheckpointLike],
    public_key: Ed25519PublicKey | None,
) -> VerifyResult:
    """Recompute everything; name the first entry or checkpoint that does not fit.

    ``entries`` in the order the log claims (by sequence number); ``checkpoints`` likewise. Read
    the checkpoints, then the head, then the entries up to the head: every checkpoint then covers
    an entry the head had reached, however busy the log is.
    """
    checker = _CheckpointChecker(public_key)
    pending = iter(checkpoints)
    cp = next(pending, None)
    prev = chain.GENESIS
    checked = 0

    def result(failure: _Failure | None) -> VerifyResult:
        return VerifyResult(
            ok=failure is None,
            checked=checked,
            first_bad_seq=failure.seq if failure else None,
            problem=failure.problem if failure else "",
            checkpoints=checker.count,
            first_bad_checkpoint=failure.checkpoint if failure else None,
            latest_checkpoint=checker.last_good or None,
            key_id=checker.key_id,
        )

    try:
        for entry in entries:
            recomputed = _check_entry(entry, expected_seq=checked + 1, prev_hash=prev)
            while cp is not None and cp.seq <= entry.seq:
                checker.check_signed(cp)
                checker.check_covers(cp, recomputed)
                cp = next(pending, None)
            prev = recomputed
            checked += 1
        if head is None:
            if checked:
                raise _Failure("the head row, which names the last entry, is missing", seq=checked)
        elif head.seq > checked:
            raise _Failure("entries after this point are missing", seq=checked + 1)
        elif head.seq < checked:
            raise _Failure(
                f"the head row names entry {head.seq}, but the log goes on after it",
                seq=head.seq + 1,
            )
        elif head.hash != prev:
            raise _Failure("the head row does not match the last entry", seq=head.seq)
        if cp is not None:
            checker.check_signed(cp)
            raise _Failure(
                f"the log ends at entry {checked}, but a signed checkpoint covers entry "
                f"{cp.seq}: entries were removed",
                seq=checked + 1,
                checkpoint=cp.seq,
            )
    except _Failure as failure:
        return result(failure)
    return result(None)
