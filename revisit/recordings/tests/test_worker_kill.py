"""A worker killed mid-job (kill -9) leaves a job that another worker picks up and finishes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from revisit.testing.server import REVISIT, clean_env

pytestmark = pytest.mark.slow


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute(sql).fetchall()


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [*REVISIT, "worker", "--interval", "0.2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so ffmpeg children die with it
        )


def test_it_resumes_a_job_whose_worker_was_killed(tmp_path: Path):
    data = tmp_path / "data"
    env = clean_env(data, REVISIT_JOB_LEASE_S="6", REVISIT_WHISPER_MODEL="tiny.en")
    subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, check=True, timeout=300)
    db = data / "revisit.sqlite3"

    def running_step() -> bool:
        rows = _query(db, "SELECT name FROM recordings_processingstep WHERE status = 'running'")
        return bool(rows)

    first = _worker(env, tmp_path / "worker-1.log")
    try:
        _wait(running_step, timeout=120, what="a processing step to start")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    killed_step = _query(db, "SELECT name FROM recordings_processingstep WHERE status = 'running'")
    assert killed_step, "the killed worker left its step marked running"
    scratch = data / "scratch"
    assert any(scratch.iterdir()), "the killed job left its private folder behind (to be swept)"

    second = _worker(env, tmp_path / "worker-2.log")
    try:
        _wait(
            lambda: _query(db, "SELECT status FROM recordings_recording")[0][0] == "ready",
            timeout=240,
            what="the recording to be processed by the second worker",
        )
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    name = killed_step[0][0]
    ((attempts, status),) = _query(
        db, f"SELECT attempts, status FROM recordings_processingstep WHERE name = '{name}'"
    )
    assert status in ("done", "skipped") and attempts == 2
    assert list(scratch.iterdir()) == [], "plaintext from the killed job was swept"


def test_a_sweep_never_removes_the_running_process_own_scratch(tmp_path: Path, settings):
    """The worker sweeps scratch every minute while it works: its own jobs' folders stay."""
    from revisit.vault.plaintext import private_folder, sweep_scratch

    settings.SCRATCH_DIR = tmp_path / "scratch"
    with private_folder() as folder:
        (folder / "original").write_bytes(b"in use")
        assert sweep_scratch() == 0
        assert (folder / "original").read_bytes() == b"in use"
    dead = settings.SCRATCH_DIR / "p-999999999-leftover"
    dead.mkdir()
    assert sweep_scratch() == 1 and not dead.exists()
