"""Tampering with a copy of the audit log: 253 seeded random mutations, every one caught.

The log is made through the services (entries and signed checkpoints), copied into plain rows,
and each mutation is applied to a fresh copy and checked with `verify_log`, the function that
`revisit audit verify` runs. Mutations cover a change in any hashed column of an entry or a
checkpoint or the head, deletions, insertions, reorderings, swaps, and forgeries re-hashed (and
re-signed with another key) by someone who has the database but not the signing key.

Out of scope because no data inside the database can show them: entries appended after the
newest checkpoint, and the newest checkpoint removed together with the entries it covered.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from revisit.audit import chain, signing
from revisit.audit.events import Event
from revisit.audit.tests.logcopy import CheckpointRow, EntryRow, HeadRow, LogCopy, build_log
from revisit.audit.verify import entry_digest

pytestmark = pytest.mark.django_db

SEED = 20261124
ROUNDS = 11
ENTRY_FIELDS = [
    "seq",
    "at",
    "event",
    "practice_id",
    "actor_id",
    "subject_type",
    "subject_id",
    "detail",
    "prev_hash",
    "hash",
]
CHECKPOINT_FIELDS = ["seq", "hash", "at", "prev_seq", "key_id", "signature"]
ATTACKER = signing.SigningKey(Ed25519PrivateKey.generate())

# A mutation returns the altered copy and, where it is certain, the entry verify must name.
Mutation = Callable[[random.Random, LogCopy], tuple[LogCopy, int | None]]


def _flip_hex(value: str, rng: random.Random) -> str:
    i = rng.randrange(len(value))
    return value[:i] + ("0" if value[i] != "0" else "1") + value[i + 1 :]


def _changed(rng: random.Random, entry: EntryRow, name: str) -> Any:
    value = getattr(entry, name)
    if name == "seq":
        return value + rng.choice([-1, 1, 2, 1000])
    if name == "at":
        return value + timedelta(microseconds=rng.randint(1, 10**6))
    if name == "event":
        return rng.choice([e.value for e in Event if e.value != value])
    if name in ("practice_id", "actor_id"):
        return None if value is not None and rng.random() < 0.5 else uuid.uuid4()
    if name in ("subject_type", "subject_id"):
        return value + rng.choice(["x", " ", "0"]) if value else "x"
    if name == "detail":
        detail = dict(value)
        choice = rng.choice(["change", "add", "remove"])
        if choice == "change":
            detail["i"] = detail["i"] + rng.randint(1, 5)
        elif choice == "add":
            detail["extra"] = rng.randint(0, 9)
        else:
            detail.pop("kind")
        return detail
    return _flip_hex(value, rng)


def _rehash(entries: list[EntryRow], start: int) -> tuple[list[EntryRow], HeadRow]:
    """Renumber from ``start`` and re-link every hash, as a forger with database access would."""
    out = list(entries[:start])
    prev = out[-1].hash if out else chain.GENESIS
    for index, entry in enumerate(entries[start:], start=start):
        moved = replace(entry, seq=index + 1, prev_hash=prev)
        moved = replace(moved, hash=entry_digest(moved, prev))
        out.append(moved)
        prev = moved.hash
    return out, HeadRow(len(out), prev)


def _resign(cp: CheckpointRow, *, claim_real_key: bool) -> CheckpointRow:
    message = signing.checkpoint_message(seq=cp.seq, hash=cp.hash, at=cp.at, prev_seq=cp.prev_seq)
    return replace(
        cp,
        signature=ATTACKER.sign(message),
        key_id=cp.key_id if claim_real_key else ATTACKER.key_id,
    )


def entry_field(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i = rng.randrange(len(log.entries))
    name = rng.choice(ENTRY_FIELDS)
    entry = log.entries[i]
    log.entries[i] = replace(entry, **{name: _changed(rng, entry, name)})
    return log, entry.seq


def entry_delete(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    gone = log.entries.pop(rng.randrange(len(log.entries)))
    return log, gone.seq


def truncate_and_move_head(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    keep = rng.randrange(0, len(log.entries))
    del log.entries[keep:]
    log.head = HeadRow(keep, log.entries[-1].hash if keep else chain.GENESIS)
    return log, keep + 1


def delete_everything(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    log.entries, log.head = [], None
    return log, 1


def insert_copy(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i = rng.randrange(len(log.entries))
    log.entries.insert(i, log.entries[rng.randrange(len(log.entries))])
    return log, None


def insert_forged_rehashed(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i = rng.randrange(len(log.entries))
    template = log.entries[i]
    forged = replace(template, event=int(Event.SIGN_IN), actor_id=uuid.uuid4(), detail={"x": 1})
    log.entries.insert(i, forged)
    log.entries, log.head = _rehash(log.entries, i)
    return log, None


def reorder(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i, j = sorted(rng.sample(range(len(log.entries)), 2))
    log.entries[i], log.entries[j] = log.entries[j], log.entries[i]
    return log, i + 1


def swap_seq_numbers(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i, j = sorted(rng.sample(range(len(log.entries)), 2))
    a, b = log.entries[i], log.entries[j]
    log.entries[i], log.entries[j] = replace(b, seq=a.seq), replace(a, seq=b.seq)
    return log, i + 1


def swap_content(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i, j = sorted(rng.sample(range(len(log.entries)), 2))
    a, b = log.entries[i], log.entries[j]
    columns = ["event", "actor_id", "subject_type", "subject_id", "detail"]
    log.entries[i] = replace(a, **{c: getattr(b, c) for c in columns})
    log.entries[j] = replace(b, **{c: getattr(a, c) for c in columns})
    return log, i + 1


def rehash_after_change(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i = rng.randrange(len(log.entries))
    name = rng.choice(["event", "actor_id", "subject_id", "detail", "at", "practice_id"])
    log.entries[i] = replace(log.entries[i], **{name: _changed(rng, log.entries[i], name)})
    log.entries, log.head = _rehash(log.entries, i)
    return log, None


def rehash_and_resign(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    log, _ = rehash_after_change(rng, log)
    hashes = {entry.seq: entry.hash for entry in log.entries}
    claim = rng.random() < 0.5
    log.checkpoints = [
        _resign(replace(cp, hash=hashes[cp.seq]), claim_real_key=claim)
        if hashes[cp.seq] != cp.hash
        else cp
        for cp in log.checkpoints
    ]
    return log, None


def remove_an_entry_and_rehash(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    i = rng.randrange(len(log.entries))
    del log.entries[i]
    log.entries, log.head = _rehash(log.entries, i)
    return log, None


def shift_all_times_and_rehash(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    shift = timedelta(seconds=rng.randint(1, 3600))
    log.entries = [replace(entry, at=entry.at - shift) for entry in log.entries]
    log.entries, log.head = _rehash(log.entries, 0)
    return log, None


def checkpoint_field(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    c = rng.randrange(len(log.checkpoints))
    cp = log.checkpoints[c]
    name = rng.choice(CHECKPOINT_FIELDS)
    value: Any
    if name in ("seq", "prev_seq"):
        value = getattr(cp, name) + rng.choice([-1, 1, 3])
    elif name == "at":
        value = cp.at + timedelta(microseconds=rng.randint(1, 10**6))
    else:
        value = _flip_hex(getattr(cp, name), rng)
    log.checkpoints[c] = replace(cp, **{name: value})
    return log, None


def checkpoint_delete_middle(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    del log.checkpoints[rng.randrange(len(log.checkpoints) - 1)]
    return log, None


def checkpoint_insert_forged(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    c = rng.randrange(len(log.checkpoints))
    before = log.checkpoints[c - 1].seq if c else 0
    after = log.checkpoints[c]
    seq = rng.randrange(before + 1, after.seq)
    forged = CheckpointRow(
        seq, log.entries[seq - 1].hash, after.at, before, after.key_id, after.signature
    )
    log.checkpoints.insert(c, _resign(forged, claim_real_key=rng.random() < 0.5))
    return log, None


def checkpoint_replay(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    a, b = rng.sample(range(len(log.checkpoints)), 2)
    log.checkpoints[b] = replace(log.checkpoints[b], signature=log.checkpoints[a].signature)
    return log, None


def checkpoint_swap(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    a, b = rng.sample(range(len(log.checkpoints)), 2)
    log.checkpoints[a], log.checkpoints[b] = log.checkpoints[b], log.checkpoints[a]
    return log, None


def checkpoint_duplicate(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    c = rng.randrange(len(log.checkpoints))
    log.checkpoints.insert(c, log.checkpoints[c])
    return log, None


def head_change(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    assert log.head is not None
    if rng.random() < 0.5:
        log.head = replace(log.head, seq=log.head.seq + rng.choice([-2, -1, 1, 5]))
    else:
        log.head = replace(log.head, hash=_flip_hex(log.head.hash, rng))
    return log, None


def head_delete(rng: random.Random, log: LogCopy) -> tuple[LogCopy, int | None]:
    log.head = None
    return log, None


MUTATIONS: list[Mutation] = [
    entry_field,
    entry_field,  # the widest family: twice as often
    entry_delete,
    truncate_and_move_head,
    delete_everything,
    insert_copy,
    insert_forged_rehashed,
    reorder,
    swap_seq_numbers,
    swap_content,
    rehash_after_change,
    rehash_and_resign,
    remove_an_entry_and_rehash,
    shift_all_times_and_rehash,
    checkpoint_field,
    checkpoint_delete_middle,
    checkpoint_insert_forged,
    checkpoint_replay,
    checkpoint_swap,
    checkpoint_duplicate,
    head_change,
    head_delete,
    entry_field,
]


def test_it_catches_every_one_of_many_random_mutations(key_file: Path):
    original = build_log(entries=40, every=8)
    assert [cp.seq for cp in original.checkpoints] == [8, 16, 24, 32, 40]
    assert original.verify().ok
    rng = random.Random(SEED)
    caught: Counter[str] = Counter()
    missed: list[str] = []
    for round_number in range(ROUNDS):
        for mutate in MUTATIONS:
            altered, expected_seq = mutate(rng, original.clone())
            result = altered.verify()
            label = f"round {round_number}: {mutate.__name__}"
            if result.ok:
                missed.append(label)
                continue
            assert result.first_bad_seq is not None or result.first_bad_checkpoint is not None
            if expected_seq is not None:
                assert result.first_bad_seq == expected_seq, (label, result)
            caught[mutate.__name__] += 1
    assert original.verify().ok  # the copies were altered, never the original
    assert missed == []
    assert sum(caught.values()) == ROUNDS * len(MUTATIONS) == 253
    assert set(caught) == {m.__name__ for m in MUTATIONS}
