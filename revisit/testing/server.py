"""A real Revisit server (granian, ASGI) on a fresh data folder, for tests that need real processes.

`RevisitServer.start()` initializes a temporary data folder with the demo practice, starts
`revisit serve` on a free loopback port, and waits for /healthz. `kill()` sends SIGKILL (for
crash tests) and `start()` can run again on the same folder.
"""

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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REVISIT = [sys.executable, "-m", "revisit.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh installation: nothing inherited from the test process."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REVISIT_", "DJANGO_", "DATABASE_URL"))
    }
    env["REVISIT_DATA_DIR"] = str(data_dir)
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


@dataclass
class RevisitServer:
    data_dir: Path
    port: int = field(default_factory=free_port)
    workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    demo_output: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return clean_env(
            self.data_dir,
            REVISIT_PUBLIC_URL=self.url,
            REVISIT_STATIC_MANIFEST="0",
            **self.extra_env,
        )

    def revisit(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a `revisit` command against this server's data folder."""
        return subprocess.run(
            [*REVISIT, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def prepare_demo(self) -> None:
        self.demo_output = self.revisit("demo").stdout

    def token(self, email: str) -> str:
        return self.revisit("tokens", "create", "--user", email).stdout.strip()

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"server-{self.port}.log"

    def start(self, *, timeout: float = 60) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*REVISIT, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.log_path.read_text(errors="replace")
                raise RuntimeError(f"revisit serve exited early: {err[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:  # noqa: S310
                    if json.loads(response.read())["status"] == "ok":
                        return
            except (OSError, urllib.error.URLError, ValueError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("revisit serve did not become healthy in time")

    def kill(self) -> None:
        """SIGKILL the server and its worker processes (a crash, not a shutdown)."""
        if self.process is None:
            return
        subprocess.run(["pkill", "-KILL", "-P", str(self.process.pid)], check=False)  # noqa: S607
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None


@pytest.fixture
def revisit_server(tmp_path: Path) -> Iterator[RevisitServer]:
    """A running server with the demo practice, on its own data folder; stopped afterwards."""
    server = RevisitServer(tmp_path / "data")
    server.prepare_demo()
    server.start()
    try:
        yield server
    finally:
        server.stop()
