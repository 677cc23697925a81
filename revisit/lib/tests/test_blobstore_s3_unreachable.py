"""When S3 goes away, the store says so with BlobStoreUnavailableError, quickly.

The cut and stall cases put a real TCP proxy between boto3 and Ceph RGW and break it mid-read.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from revisit.lib.blobstore import BlobStoreUnavailableError
from revisit.lib.blobstore_s3 import S3BlobStore, S3Policy
from revisit.testing.ceph import S3Server, TcpProxy

StoreFactory = Callable[..., S3BlobStore]
ProxyFactory = Callable[[str], TcpProxy]

QUICK = S3Policy(connect_timeout=1.0, read_timeout=2.0, max_attempts=3)
OBJECT_SIZE = 8 * 1024 * 1024


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s"


def assert_says_what_to_check(error: BlobStoreUnavailableError, endpoint: str) -> None:
    message = str(error)
    assert endpoint in message
    assert "check that the S3 server is running and reachable" in message


def drain(pieces: Iterator[bytes], *, into: bytearray) -> None:
    for piece in pieces:
        into += piece


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_it_gives_up_quickly_when_the_endpoint_refuses_connections() -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}"
    store = S3BlobStore(
        bucket="revisit-media",
        endpoint_url=endpoint,
        access_key="access",
        secret_key="secret",
        policy=QUICK,
    )

    for operation in (
        lambda: store.size("k"),
        lambda: store.read_at("k", 0, 10),
        lambda: store.iter_range("k", 0, 10),
        lambda: store.put_bytes("k", b"sealed"),
        lambda: store.delete("k"),
        lambda: store.exists("k"),
        lambda: list(store.iter_keys()),
        store.check,
    ):
        with finishes_within(5), pytest.raises(BlobStoreUnavailableError) as caught:
            operation()
        assert_says_what_to_check(caught.value, endpoint)
        assert "after up to 3 attempts" in str(caught.value)


Proxied = tuple[S3BlobStore, TcpProxy, bytes]


@pytest.fixture
def make_proxied(
    s3_server: S3Server, s3_store_factory: StoreFactory, tcp_proxy_factory: ProxyFactory
) -> Callable[[S3Policy], Proxied]:
    """A store that reaches RGW through a proxy, and an 8 MiB object already stored."""

    def make(policy: S3Policy) -> Proxied:
        proxy = tcp_proxy_factory(s3_server.endpoint_url)
        store = s3_store_factory(endpoint_url=proxy.url, policy=policy)
        data = os.urandom(OBJECT_SIZE)
        s3_server.client().put_object(Bucket=store.bucket, Key="rec/1/original", Body=data)
        return store, proxy, data

    return make


@pytest.fixture
def proxied(make_proxied: Callable[[S3Policy], Proxied]) -> Proxied:
    return make_proxied(QUICK)


@pytest.mark.slow
def test_it_raises_unavailable_when_the_connection_is_cut_mid_stream(
    proxied: tuple[S3BlobStore, TcpProxy, bytes],
) -> None:
    store, proxy, data = proxied
    proxy.hold_after(1024 * 1024)  # the first MiB flows, then the proxy holds the rest
    received = bytearray()

    pieces = store.iter_range("rec/1/original", 0, OBJECT_SIZE, block=64 * 1024)
    received += next(pieces)
    proxy.cut()

    with finishes_within(5), pytest.raises(BlobStoreUnavailableError) as caught:
        drain(pieces, into=received)

    assert_says_what_to_check(caught.value, proxy.url)
    assert 0 < len(received) < OBJECT_SIZE
    assert bytes(received) == data[: len(received)]


@pytest.mark.slow
def test_it_raises_unavailable_when_the_connection_is_cut_during_read_at(
    proxied: tuple[S3BlobStore, TcpProxy, bytes],
) -> None:
    store, proxy, _ = proxied
    proxy.hold_after(512 * 1024)
    cutter = threading.Timer(0.5, proxy.cut)
    cutter.start()
    try:
        with finishes_within(5), pytest.raises(BlobStoreUnavailableError) as caught:
            store.read_at("rec/1/original", 0, OBJECT_SIZE)
    finally:
        cutter.cancel()

    assert_says_what_to_check(caught.value, proxy.url)


@pytest.mark.slow
def test_it_raises_unavailable_when_the_server_stalls_mid_read(
    proxied: tuple[S3BlobStore, TcpProxy, bytes],
) -> None:
    store, proxy, _ = proxied
    proxy.hold_after(256 * 1024)  # then nothing more arrives, but the connection stays open

    # One read timeout (2 s) ends the body read; it is not retried mid-body.
    with (
        finishes_within(2 * QUICK.read_timeout + 2),
        pytest.raises(BlobStoreUnavailableError) as caught,
    ):
        for _ in store.iter_range("rec/1/original", 0, OBJECT_SIZE, block=64 * 1024):
            pass

    assert_says_what_to_check(caught.value, proxy.url)
    assert "read timeout 2 s" in str(caught.value)


@pytest.mark.slow
def test_it_retries_a_request_that_gets_no_answer_then_gives_up(
    make_proxied: Callable[[S3Policy], Proxied],
) -> None:
    policy = S3Policy(connect_timeout=1.0, read_timeout=0.5, max_attempts=3)
    store, proxy, data = make_proxied(policy)
    proxy.hold_after(0)  # requests arrive, no response ever comes back
    started = time.monotonic()

    with pytest.raises(BlobStoreUnavailableError) as caught:
        store.read_at("rec/1/original", 0, 100)

    elapsed = time.monotonic() - started
    # Every attempt waited out its read timeout, and nothing waited much longer.
    assert policy.max_attempts * policy.read_timeout <= elapsed < 3 * policy.max_attempts
    assert_says_what_to_check(caught.value, proxy.url)

    proxy.release()
    assert store.read_at("rec/1/original", 100, 100) == data[100:200]
