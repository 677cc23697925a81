"""The whole installation for a journey: web server and task worker on a throwaway data folder.

Email goes to the console backend (no SMTP host is configured), which the server writes to its
log file: `mail_to` reads a message back from there, as a person would read their inbox.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from revisit.testing.server import REVISIT, RevisitServer


@dataclass
class Stack:
    server: RevisitServer
    worker: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def worker_log(self) -> Path:
        return self.server.data_dir.parent / "worker.log"

    def start_worker(self) -> None:
        with open(self.worker_log, "ab") as log:
            self.worker = subprocess.Popen(
                [*REVISIT, "worker", "--interval", "0.2"],
                env=self.server.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: ffmpeg children stop with it
            )

    def stop(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(timeout=20)
        self.worker = None
        self.server.stop()

    def mail_to(self, address: str, *, containing: str, timeout: float = 15) -> str:
        """The newest message to `address` whose text contains `containing` (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.server.log_path.read_text(errors="replace")
            found = [
                message
                for message in re.split(r"\n-{79}\n", log)
                if re.search(rf"^To: {re.escape(address)}$", message, re.M | re.I)
                and containing in message
            ]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {address} containing {containing!r}")
            time.sleep(0.2)


@contextmanager
def running_stack(
    root: Path, *, worker: bool = True, extra_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """A server with the demo practice (and a worker), static files collected from this checkout."""
    env = {"REVISIT_STATIC_ROOT": str(root / "static"), **(extra_env or {})}
    server = RevisitServer(root / "data", extra_env=env)
    server.revisit("manage", "collectstatic", "--noinput", "--verbosity", "0")
    server.prepare_demo()
    stack = Stack(server)
    try:
        server.start()
        if worker:
            stack.start_worker()
        yield stack
    finally:
        stack.stop()
