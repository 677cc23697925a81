"""A throw-away nginx on loopback, serving one folder: the streaming benchmarks' baseline.

Configured as a fair baseline for two cores: two worker processes,
``sendfile on`` and ``tcp_nopush off`` (with it on, small keep-alive responses on loopback wait for
a delayed ACK and the baseline is wrong), no access log, keep-alive connections that last the whole
run. Everything nginx writes (configuration, pid, logs, temp folders) stays in one folder that
``stop`` removes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from revisit.testing.server import free_port

NGINX: Final = "/usr/sbin/nginx"
WORKERS: Final = 2

_CONFIG: Final = """\
{user}worker_processes {workers};
worker_rlimit_nofile {nofile};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{
    worker_connections {connections};
}}
http {{
    access_log off;
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    default_type application/octet-stream;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {root};
        location / {{ }}
    }}
}}
"""


class NginxError(RuntimeError):
    """nginx would not start; the message carries the end of its error log."""


def wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> str:
    """Wait until ``port`` on loopback takes connections: "ready", "exited" or "late"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return "ready"
        except OSError:
            time.sleep(0.05)
    return "late"


@dataclass
class Nginx:
    """nginx serving the files of ``root`` at ``http://127.0.0.1:<port>/<name>``."""

    root: Path
    connections: int = 8192
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    prefix: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self, prefix: Path) -> str:
        # As root, nginx's workers would drop to "nobody", who may not read a private folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        return _CONFIG.format(
            user=user,
            workers=WORKERS,
            nofile=self.connections * 2 + 64,
            connections=self.connections,
            prefix=prefix,
            port=self.port,
            root=self.root.resolve(),
        )

    def start(self, *, timeout: float = 10.0) -> None:
        self.prefix = Path(tempfile.mkdtemp(prefix="revisit-bench-nginx-"))
        conf = self.prefix / "nginx.conf"
        conf.write_text(self.config(self.prefix))
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-e", str(self.prefix / "error.log"), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        state = wait_listening(self.process, self.port, timeout)
        if state == "exited":
            log = (self.prefix / "error.log").read_text(errors="replace")
            self.stop()
            raise NginxError(f"nginx exited at start: {log[-2000:]}")
        if state == "late":
            self.stop()
            raise NginxError("nginx did not listen in time")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.send_signal(signal.SIGTERM)
                    self.process.wait(timeout=10)
            self.process = None
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)
            self.prefix = None

    def __enter__(self) -> Nginx:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
