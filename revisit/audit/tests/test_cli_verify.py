"""`revisit demo` then `revisit audit verify` on fresh data folders, as real processes: the demo
signs a checkpoint, verify passes, and tampering with the database file is reported by entry or
checkpoint, with exit 1 and no names or emails in the output."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from revisit.audit import chain, guard
from revisit.audit.tests.logcopy import EntryRow
from revisit.audit.verify import entry_digest
from revisit.demo import DEMO_PEOPLE
from revisit.testing.server import REVISIT, clean_env


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo data folder; each test works on its own copy."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    subprocess.run(
        [*REVISIT, "demo"], env=clean_env(data_dir), capture_output=True, check=True, timeout=300
    )
    return data_dir


def _copy(demo_folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    subprocess.run(["cp", "-a", str(demo_folder), str(target)], check=True)
    return target


def _verify(data_dir: Path, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REVISIT, "audit", "verify", *extra],
        env=clean_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _no_people_in(text: str) -> None:
    for local, _role, name, _trainee in DEMO_PEOPLE:
        assert local + "@" not in text and name not in text


def _tamper(data_dir: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Someone with the database file but without the audit signing key."""
    db = sqlite3.connect(data_dir / "revisit.sqlite3", isolation_level=None)
    for name in guard.expected_triggers("sqlite"):
        db.execute(f"DROP TRIGGER {name}")
    for sql, params in statements:
        db.execute(sql, params)
    db.close()


def test_it_verifies_a_fresh_demo_and_its_signed_checkpoint(demo_folder: Path, tmp_path: Path):
    data_dir = _copy(demo_folder, tmp_path)
    assert (data_dir / "keys" / "audit-signing.key").stat().st_mode & 0o777 == 0o600
    text = _verify(data_dir)
    assert text.returncode == 0, text.stdout + text.stderr
    assert "chain intact; 1 signed checkpoint " in text.stdout
    _no_people_in(text.stdout + text.stderr)
    figures = json.loads(_verify(data_dir, "--json").stdout)
    assert figures["ok"] and figures["checkpoints"] == 1
    assert figures["latest_checkpoint"] == figures["checked"] > 5


def test_it_names_a_changed_entry_and_exits_1(demo_folder: Path, tmp_path: Path):
    data_dir = _copy(demo_folder, tmp_path)
    _tamper(data_dir, ("UPDATE audit_auditevent SET subject_id = 'x' WHERE seq = 3", ()))
    result = _verify(data_dir)
    assert result.returncode == 1
    assert result.stdout.startswith("audit log FAILED at entry 3: content does not match")
    _no_people_in(result.stdout + result.stderr)


def _rows(db: sqlite3.Connection) -> list[EntryRow]:
    """The entries as Django reads them from SQLite (UUIDs as 32 hex digits, JSON as text)."""
    rows = db.execute(
        "SELECT seq, at, event, practice_id, actor_id, subject_type, subject_id, detail, "
        "prev_hash, hash FROM audit_auditevent ORDER BY seq"
    ).fetchall()

    def as_uuid(value: str | None) -> uuid.UUID | None:
        return uuid.UUID(value) if value else None

    return [
        EntryRow(
            r[0],
            datetime.fromisoformat(r[1] + "+00:00"),
            r[2],
            as_uuid(r[3]),
            as_uuid(r[4]),
            r[5],
            r[6],
            json.loads(r[7]),
            r[8],
            r[9],
        )
        for r in rows
    ]


def test_it_catches_a_rewritten_and_rehashed_chain(demo_folder: Path, tmp_path: Path):
    data_dir = _copy(demo_folder, tmp_path)
    db = sqlite3.connect(data_dir / "revisit.sqlite3", isolation_level=None)
    entries = _rows(db)
    prev = chain.GENESIS
    statements: list[tuple[str, tuple[object, ...]]] = []
    for entry in entries:
        subject_id = "forged" if entry.seq == 2 else entry.subject_id
        forged = EntryRow(**{**entry.__dict__, "subject_id": subject_id, "prev_hash": prev})
        digest = entry_digest(forged, prev)
        statements.append(
            (
                "UPDATE audit_auditevent SET subject_id = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (subject_id, prev, digest, entry.seq),
            )
        )
        prev = digest
    statements.append(("UPDATE audit_audithead SET hash = ? WHERE id = 1", (prev,)))
    db.close()
    _tamper(data_dir, *statements)
    last = entries[-1].seq
    result = _verify(data_dir)
    assert result.returncode == 1
    assert f"checkpoint at entry {last}" in result.stdout
    assert f"entries 1 to {last} were changed and re-hashed" in result.stdout
    figures = json.loads(_verify(data_dir, "--json").stdout)
    assert figures["first_bad_checkpoint"] == last and figures["first_bad_seq"] == 1


def test_it_catches_a_truncated_log_with_its_head_rewritten(demo_folder: Path, tmp_path: Path):
    data_dir = _copy(demo_folder, tmp_path)
    db = sqlite3.connect(data_dir / "revisit.sqlite3")
    (seq, digest) = db.execute("SELECT seq, hash FROM audit_auditevent WHERE seq = 4").fetchone()
    db.close()
    _tamper(
        data_dir,
        ("DELETE FROM audit_auditevent WHERE seq > 4", ()),
        ("UPDATE audit_audithead SET seq = ?, hash = ? WHERE id = 1", (seq, digest)),
    )
    result = _verify(data_dir)
    assert result.returncode == 1
    assert "FAILED at entry 5" in result.stdout and "entries were removed" in result.stdout


def test_it_refuses_an_audit_key_others_can_read(demo_folder: Path, tmp_path: Path):
    data_dir = _copy(demo_folder, tmp_path)
    (data_dir / "keys" / "audit-signing.key").chmod(0o640)
    result = _verify(data_dir)
    assert result.returncode == 2
    assert "REVISIT_AUDIT_KEY_FILE" in result.stderr and "chmod 600" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_refuses_to_verify_checkpoints_without_their_key(demo_folder: Path, tmp_path: Path):
    data_dir = _copy(demo_folder, tmp_path)
    elsewhere = tmp_path / "nowhere" / "audit.key"
    result = _verify(data_dir, REVISIT_AUDIT_KEY_FILE=str(elsewhere))
    assert result.returncode == 2 and "REVISIT_AUDIT_KEY_FILE" in result.stderr
    assert not elsewhere.exists()  # verify never makes a key


def test_it_keeps_the_key_where_the_setting_says(tmp_path: Path):
    key = tmp_path / "secrets" / "audit.key"
    env = clean_env(tmp_path / "data", REVISIT_AUDIT_KEY_FILE=str(key))
    subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, check=True, timeout=300)
    assert key.stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "data" / "keys" / "audit-signing.key").exists()
    result = _verify(tmp_path / "data", REVISIT_AUDIT_KEY_FILE=str(key))
    assert result.returncode == 0 and "1 signed checkpoint" in result.stdout
