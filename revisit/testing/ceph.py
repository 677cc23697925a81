"""Pytest fixtures for a real S3 server: Ceph RGW started by scripts/ceph-rgw, or one you name.

- ``s3_server`` (session): an already-running server when ``REVISIT_TEST_S3_ENDPOINT`` is set
  (with ``REVISIT_TEST_S3_ACCESS_KEY``, ``REVISIT_TEST_S3_SECRET_KEY`` and optionally
  ``REVISIT_TEST_S3_REGION``); otherwise a single-node Ceph started in a temporary folder and
  stopped at the end of the session. Without the Ceph binaries the tests that use it are skipped,
  except under ``CI`` (set and not ``false``/``0``), where that is a failure.
- ``s3_store_factory`` (function): builds ``S3BlobStore`` objects on fresh buckets and empties and
  removes those buckets afterwards.
- ``s3_store`` (function): one ``S3BlobStore`` on a fresh bucket.
- ``tcp_proxy_factory`` (function): real TCP proxies (``TcpProxy``) to put between a client and a
  server, to hold back or cut the bytes flowing to the client.

Loaded for the whole suite by the root conftest; boto3 is imported only when a fixture runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from revisit.lib.blobstore_s3 import S3BlobStore, S3Policy

__all__ = [
    "S3Server",
    "TcpProxy",
    "s3_server",
    "s3_store",
    "s3_store_factory",
    "tcp_proxy_factory",
]

CEPH_COMMANDS = ("ceph", "ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph-authtool")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ceph-rgw"
START_TIMEOUT_S = 240


@dataclass(frozen=True, slots=True)
class S3Server:
    """Where the test S3 server answers and the credentials of its test user."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self) -> Any:
        """A plain boto3 client for the server (set-up and inspection in tests); made once."""
        with _CLIENTS_LOCK:
            if self not in _CLIENTS:
                import boto3
                from botocore.config import Config

                _CLIENTS[self] = boto3.session.Session().client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    aws_access_key_id=self.access_key,
                    aws_secret_access_key=self.secret_key,
                    region_name=self.region,
                    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
                )
            return _CLIENTS[self]


_CLIENTS: dict[S3Server, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _server_from_env() -> S3Server | None:
    endpoint = os.environ.get("REVISIT_TEST_S3_ENDPOINT", "")
    if not endpoint:
        return None
    access = os.environ.get("REVISIT_TEST_S3_ACCESS_KEY", "")
    secret = os.environ.get("REVISIT_TEST_S3_SECRET_KEY", "")
    if not access or not secret:
        pytest.fail(
            "REVISIT_TEST_S3_ENDPOINT is set but REVISIT_TEST_S3_ACCESS_KEY or "
            "REVISIT_TEST_S3_SECRET_KEY is not",
            pytrace=False,
        )
    region = os.environ.get("REVISIT_TEST_S3_REGION", "us-east-1")
    return S3Server(endpoint_url=endpoint, access_key=access, secret_key=secret, region=region)


def _parse_key_values(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A running S3 server for the whole session (see the module docstring)."""
    given = _server_from_env()
    if given is not None:
        yield given
        return
    missing = [name for name in CEPH_COMMANDS if shutil.which(name) is None]
    if missing:
        reason = (
            f"Ceph RGW is not installed ({', '.join(missing)} not found): install the Debian "
            "packages radosgw ceph-mon ceph-osd ceph-common (scripts/setup does) or set "
            "REVISIT_TEST_S3_ENDPOINT to a running S3 server"
        )
        if _in_ci():
            pytest.fail(f"CI needs a real S3 server: {reason}", pytrace=False)
        pytest.skip(reason)
    if not SCRIPT.is_file():
        pytest.fail(f"{SCRIPT} is missing: run the tests from a checkout", pytrace=False)
    folder = tmp_path_factory.mktemp("ceph")
    try:
        started = subprocess.run(
            [str(SCRIPT), "start", str(folder)],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _stop(folder)
        pytest.fail(f"scripts/ceph-rgw start took over {START_TIMEOUT_S} s", pytrace=False)
    if started.returncode != 0:
        _stop(folder)
        pytest.fail(
            f"scripts/ceph-rgw start failed (exit {started.returncode}):\n{started.stderr}",
            pytrace=False,
        )
    values = _parse_key_values(started.stdout)
    try:
        yield S3Server(
            endpoint_url=values["S3_ENDPOINT"],
            access_key=values["S3_ACCESS_KEY"],
            secret_key=values["S3_SECRET_KEY"],
            region=values.get("S3_REGION", "us-east-1"),
        )
    finally:
        _stop(folder)


def _stop(folder: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(folder)], capture_output=True, timeout=60, check=False)


def _remove_bucket(client: Any, bucket: str) -> None:
    """Empty and delete ``bucket``, aborting unfinished multipart uploads first."""
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", ())
    for upload in uploads:
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", ()):
            client.delete_object(Bucket=bucket, Key=entry["Key"])
    client.delete_bucket(Bucket=bucket)


StoreFactory = Callable[..., "S3BlobStore"]


@pytest.fixture
def s3_store_factory(s3_server: S3Server) -> Iterator[StoreFactory]:
    """``make(*, endpoint_url=None, policy=None, part_size=None) -> S3BlobStore`` on a new bucket.

    The bucket is created through the server itself, so ``endpoint_url`` may point elsewhere
    (a proxy, a closed port) while the bucket still exists.
    """
    from revisit.lib.blobstore_s3 import DEFAULT_PART_SIZE, S3BlobStore

    client = s3_server.client()
    buckets: list[str] = []

    def make(
        *,
        endpoint_url: str | None = None,
        policy: S3Policy | None = None,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> S3BlobStore:
        bucket = f"revisit-test-{uuid.uuid4().hex[:16]}"
        client.create_bucket(Bucket=bucket)
        buckets.append(bucket)
        return S3BlobStore(
            bucket=bucket,
            endpoint_url=endpoint_url or s3_server.endpoint_url,
            access_key=s3_server.access_key,
            secret_key=s3_server.secret_key,
            region=s3_server.region,
            policy=policy,
            part_size=part_size,
        )

    yield make
    for bucket in buckets:
        _remove_bucket(client, bucket)


@pytest.fixture
def s3_store(s3_store_factory: StoreFactory) -> S3BlobStore:
    """An ``S3BlobStore`` on a fresh, empty bucket."""
    return s3_store_factory()


class TcpProxy:
    """A loopback TCP proxy on threads: forwards each connection to ``upstream``.

    ``hold_after(n)`` lets only ``n`` more bytes through towards clients and then holds the rest
    (the connection stays open, as with a stalled server); ``cut()`` closes the listener and every
    connection at once, as when a server or network goes away. ``downstream_bytes`` counts the
    bytes delivered to clients.
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.downstream_bytes = 0
        self._budget: int | None = None
        self._state = threading.Condition()
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._cut = threading.Event()
        self._spawn(self._accept_loop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def hold_after(self, allowed: int) -> None:
        with self._state:
            self._budget = allowed
            self._state.notify_all()

    def release(self) -> None:
        with self._state:
            self._budget = None
            self._state.notify_all()

    def cut(self) -> None:
        self._cut.set()
        with self._state:
            self._state.notify_all()
            sockets = list(self._sockets)
        self._listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._cut.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._state:
                if self._cut.is_set():
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
            self._spawn(self._pump, client, server, False)
            self._spawn(self._pump, server, client, True)

    def _pump(self, src: socket.socket, dst: socket.socket, downstream: bool) -> None:
        try:
            while data := src.recv(65536):
                while data:
                    allowed = self._wait_for_budget(len(data)) if downstream else len(data)
                    if allowed == 0:
                        return
                    dst.sendall(data[:allowed])
                    data = data[allowed:]
                    if downstream:
                        with self._state:
                            self.downstream_bytes += allowed
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            return

    def _wait_for_budget(self, wanted: int) -> int:
        """How many of ``wanted`` bytes may go to the client now (0 once cut)."""
        with self._state:
            while not self._cut.is_set():
                if self._budget is None:
                    return wanted
                if self._budget > 0:
                    allowed = min(wanted, self._budget)
                    self._budget -= allowed
                    return allowed
                self._state.wait(0.1)
            return 0


@pytest.fixture
def tcp_proxy_factory() -> Iterator[Callable[[str], TcpProxy]]:
    """``make(upstream_url) -> TcpProxy`` for an ``http://host:port`` URL; all closed afterwards."""
    from urllib.parse import urlsplit

    proxies: list[TcpProxy] = []

    def make(upstream_url: str) -> TcpProxy:
        parts = urlsplit(upstream_url)
        assert parts.hostname is not None
        assert parts.port is not None
        proxy = TcpProxy(parts.hostname, parts.port)
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.close()
