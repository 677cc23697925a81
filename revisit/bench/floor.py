"""The least an ASGI app under Revisit's web server can do per range: the seek benchmark's floor.

``application`` answers ``GET`` with ``Range: bytes=a-b`` from one plaintext file (named by
``REVISIT_BENCH_FLOOR_FILE``, opened once): one ``pread`` and one body message, no
authentication, no database, no decryption. ``FloorServer`` runs it under granian with exactly
the options ``revisit serve`` uses. Whatever its seek time is above nginx's, Revisit's media
handler cannot go below: it is what the server and the ASGI interface cost by themselves, and
the stream benchmark reports it beside both so that the rest (authorization, decryption) can be
told apart. Benchmark use only: it serves a file to anyone who asks.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from revisit.bench.nginx import wait_listening
from revisit.testing.server import free_port

FILE_ENV: Final = "REVISIT_BENCH_FLOOR_FILE"

_fd: int | None = None


def _span(header: bytes, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` inside the file, else None (the benchmark sends nothing else)."""
    unit, _, spec = header.decode("latin-1").partition("=")
    first, _, last = spec.partition("-")
    if unit.strip() != "bytes" or not first.isdigit() or not last.isdigit():
        return None
    a, b = int(first), min(int(last), size - 1)
    return (a, b) if a <= b else None


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _fd
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if _fd is None:
        _fd = os.open(os.environ[FILE_ENV], os.O_RDONLY)
    size = os.fstat(_fd).st_size
    header = next((v for k, v in scope["headers"] if k == b"range"), b"")
    span = _span(header, size)
    if span is None:
        await send({"type": "http.response.start", "status": 416, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    first, last = span
    body = os.pread(_fd, last - first + 1, first)
    headers = [
        (b"content-type", b"application/octet-stream"),
        (b"content-length", str(len(body)).encode()),
        (b"content-range", f"bytes {first}-{last}/{size}".encode()),
        (b"accept-ranges", b"bytes"),
    ]
    await send({"type": "http.response.start", "status": 206, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass
class FloorServer:
    """``application`` under granian (as ``revisit serve`` runs it), serving ``path``."""

    path: Path
    workers: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 30.0) -> None:
        from revisit.cli import server_command

        command = server_command(
            "127.0.0.1", self.port, self.workers, app="revisit.bench.floor:application"
        )
        env = {**os.environ, FILE_ENV: str(self.path)}
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        state = wait_listening(self.process, self.port, timeout)
        if state != "ready":
            self.stop()
            raise RuntimeError(f"the floor server did not start ({state})")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
