"""The `revisit` command, run as a real process on fresh data folders."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REVISIT = [sys.executable, "-m", "revisit.cli"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REVISIT_", "DJANGO_", "DATABASE_URL"))
    }
    env["REVISIT_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback only)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_it_lists_its_commands():
    out = subprocess.run([*REVISIT, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("up", "serve", "worker", "demo", "tokens", "audit"):
        assert command in out


def test_it_serves_health_and_schema_from_an_empty_data_folder(tmp_path: Path):
    data_dir = tmp_path / "fresh"  # does not exist yet
    port = _free_port()
    proc = subprocess.Popen(
        [*REVISIT, "up", "--port", str(port), "--no-demo"],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status, body = 0, b""
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.3)
        assert status == 200, body
        assert json.loads(body)["status"] == "ok"
        status, body = _get(f"http://127.0.0.1:{port}/api/v1/openapi.json")
        assert status == 200 and json.loads(body)["openapi"].startswith("3.")
        # The data folder was initialized: private folder, secret, key file, database.
        assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
        assert (data_dir / "keys" / "keyring.json").stat().st_mode & 0o777 == 0o600
        assert data_dir.stat().st_mode & 0o777 == 0o700
        assert (data_dir / "revisit.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, output
    assert "stopped" in output
    with pytest.raises(urllib.error.URLError, match="refused"):
        _get(f"http://127.0.0.1:{port}/healthz")  # the web server is gone too


def test_it_creates_the_demo_once_and_prints_passwords_once(tmp_path: Path):
    env = _env(tmp_path / "d")
    first = subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, text=True, check=True)
    for email in (
        "alice@demo.revisit.test",
        "carol@demo.revisit.test",
        "dave@demo.revisit.test",
        "sam@demo.revisit.test",
        "admin@demo.revisit.test",
    ):
        assert email in first.stdout
    assert "password" in first.stdout and "authenticator secret" in first.stdout
    second = subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, text=True, check=True)
    assert "already exists" in second.stdout and "password " not in second.stdout
    verify = subprocess.run([*REVISIT, "audit", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout


def test_it_creates_a_token_on_the_command_line(tmp_path: Path):
    env = _env(tmp_path / "t")
    subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, check=True)
    made = subprocess.run(
        [*REVISIT, "tokens", "create", "--user", "carol@demo.revisit.test", "--expires", "7"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip()
    assert token.startswith("rvt_") and "\n" not in token
    unknown = subprocess.run(
        [*REVISIT, "tokens", "create", "--user", "nobody@example.org"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 2 and "no account" in unknown.stderr
    bad_days = subprocess.run(
        [*REVISIT, "tokens", "create", "--user", "carol@demo.revisit.test", "--expires", "0"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad_days.returncode == 2 and "expire" in bad_days.stderr


def test_it_refuses_to_start_without_its_secret(tmp_path: Path):
    env = _env(tmp_path / "s", REVISIT_SECRET_KEY_FILE=str(tmp_path / "missing-secret"))
    result = subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "REVISIT_SECRET_KEY_FILE" in result.stderr and "Traceback" not in result.stderr


def test_it_refuses_a_data_folder_it_cannot_use(tmp_path: Path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    result = subprocess.run(
        [*REVISIT, "demo"], env=_env(blocker / "data"), capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "REVISIT_DATA_DIR" in result.stderr and "Traceback" not in result.stderr


def test_it_refuses_a_missing_configured_key_file(tmp_path: Path):
    env = _env(tmp_path / "k", REVISIT_KEY_FILE=str(tmp_path / "no-such-keyring.json"))
    result = subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "REVISIT_KEY_FILE" in result.stderr and "Traceback" not in result.stderr


def test_it_refuses_a_key_file_others_can_read(tmp_path: Path):
    env = _env(tmp_path / "p")
    subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, check=True)
    keyring = tmp_path / "p" / "keys" / "keyring.json"
    keyring.chmod(0o644)
    result = subprocess.run([*REVISIT, "audit", "verify"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "REVISIT_KEY_FILE" in result.stderr and "Traceback" not in result.stderr


def test_it_verifies_the_vault_and_rotates_keys(tmp_path: Path):
    env = _env(tmp_path / "v")
    verify = subprocess.run([*REVISIT, "vault", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0 and "0 objects checked, 0 with problems" in verify.stdout
    keyring = tmp_path / "v" / "keys" / "keyring.json"
    before = json.loads(keyring.read_text())["active"]
    rotate = subprocess.run([*REVISIT, "keys", "rotate"], env=env, capture_output=True, text=True)
    assert rotate.returncode == 0, rotate.stderr
    after = json.loads(keyring.read_text())
    assert after["active"] != before and list(after["keys"]) == [after["active"]]


def test_it_runs_a_benchmark_and_prints_json(tmp_path: Path):
    env = _env(tmp_path / "b")
    result = subprocess.run(
        [*REVISIT, "bench", "sealed", "--json", "--size-mb", "4"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["ratio"] > 0 and figures["seal_ratio"] > 0 and figures["range_p95_ratio"] > 0
    unknown = subprocess.run([*REVISIT, "bench", "nope"], env=env, capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown benchmark" in unknown.stderr


def test_it_imports_recordings_and_reports_failures(tmp_path: Path):
    env = _env(tmp_path / "i")
    subprocess.run([*REVISIT, "demo"], env=env, capture_output=True, check=True)
    sample = Path(__file__).resolve().parents[1] / "testing" / "fixtures" / "annomi-0-stereo.mp4"
    junk = tmp_path / "notes.txt"
    junk.write_text("not a recording\n" * 100)
    ok = subprocess.run(
        [
            *REVISIT,
            "import",
            str(sample),
            "--client",
            "carol@demo.revisit.test",
            "--title",
            "Week 2",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 imported, 0 failed" in ok.stdout
    mixed = subprocess.run(
        [
            *REVISIT,
            "import",
            str(sample),
            str(junk),
            str(tmp_path / "missing.mp4"),
            "--client",
            "carol@demo.revisit.test",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert mixed.returncode == 1
    assert "1 imported, 2 failed" in mixed.stdout
    assert "notes.txt: " in mixed.stdout and "no such file" in mixed.stdout
    no_consent = subprocess.run(
        [*REVISIT, "import", str(sample), "--client", "dave@demo.revisit.test"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert no_consent.returncode == 1 and "consented to recording" in no_consent.stdout


def test_it_lists_and_installs_speech_models(tmp_path: Path):
    env = _env(tmp_path / "m")
    before = subprocess.run([*REVISIT, "models", "list"], env=env, capture_output=True, text=True)
    assert (
        before.returncode == 0 and "tiny.en" in before.stdout and "not installed" in before.stdout
    )
    installed = subprocess.run(
        [*REVISIT, "models", "install", "tiny.en"], env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr
    after = subprocess.run([*REVISIT, "models", "list"], env=env, capture_output=True, text=True)
    assert "hashes match" in after.stdout
    unknown = subprocess.run(
        [*REVISIT, "models", "install", "huge"], env=env, capture_output=True, text=True
    )
    assert unknown.returncode == 2 and "REVISIT_WHISPER_MODEL" in unknown.stderr
