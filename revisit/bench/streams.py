"""Benchmark: how many 2 Mbit/s players Revisit serves at once, beside nginx with the same players.

``run`` sets up the same pair of servers as ``revisit.bench.stream`` (a real Revisit server with
two web workers and a shared sealed video rendition; nginx serving the same plaintext), checks a
few ranges byte for byte, then for each N in ``COUNTS`` runs N players against each server in turn
(``revisit.bench.loadclient.paced_streams``, in its own process). A player keeps one connection
alive and asks for 256 KiB at a random offset about every second (2 Mbit/s), for ``duration``
seconds; a range is *late* when its last byte arrives more than a second after it was due.

N passes when there were no errors, no late ranges, none missed (a player so far behind that a
range's turn came after the window) and the 99th percentile of time to first byte was at most
100 ms. ``streams`` is the largest N that passes for Revisit (0 when none does; goal
>= 1000, 500 at the least); ``nginx_streams`` the same for nginx. Beside each N's figures stand
the server's CPU (of one core), the load client's own CPU and event-loop lag (a client that
cannot keep up would show up there, not as the server's fault), and the CPU used by other
processes on the machine. Between runs the benchmark waits for the server to go quiet, so work
queued by one run does not land on the next.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Final

from revisit.bench.loadclient import StreamsPlan, raise_fd_limit, run_streams
from revisit.bench.stream import Media, Target, busy_cpu_seconds, check_ranges, served_media

COUNTS: Final = (500, 1000, 2000)
RANGE_BYTES: Final = 256 * 1024
TTFB_P99_MS: Final = 100.0


def _settle(target: Target, *, quiet: float = 0.05, limit: float = 60.0) -> None:
    """Wait until ``target`` uses less than ``quiet`` of a core (or ``limit`` seconds pass)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = target.cpu()
        time.sleep(0.5)
        if (target.cpu() - before) / 0.5 < quiet:
            return


def _one(media: Media, target: Target, clients: int, duration: float) -> dict[str, object]:
    plan = StreamsPlan(
        host="127.0.0.1",
        port=target.port,
        path=target.path,
        headers=target.headers,
        size=media.size,
        clients=clients,
        duration=duration,
        range_bytes=RANGE_BYTES,
    )
    _settle(target)
    server_before, busy_before = target.cpu(), busy_cpu_seconds()
    started = time.monotonic()
    figures = run_streams(plan, seed=clients)
    wall = time.monotonic() - started
    server = target.cpu() - server_before
    client = figures["client_cpu_s"]
    assert isinstance(client, float)
    other = max(0.0, busy_cpu_seconds() - busy_before - server - client)
    figures["server_cpu_share"] = round(server / wall, 3)
    figures["other_cpu_share"] = round(other / wall / (os.cpu_count() or 1), 3)
    ttfb_p99 = figures["ttfb_p99_ms"]
    figures["passed"] = (
        figures["errors"] == 0
        and figures["late"] == 0
        and figures["missed"] == 0
        and isinstance(ttfb_p99, float)
        and ttfb_p99 <= TTFB_P99_MS
    )
    return figures


def run(
    *,
    size_bytes: int,
    workdir: Path,
    duration: float = 60.0,
    counts: tuple[int, ...] = COUNTS,
) -> dict[str, object]:
    """Find how many paced 2 Mbit/s players Revisit and nginx each hold without falling behind."""
    if size_bytes < 2 * RANGE_BYTES:
        raise ValueError(f"size_bytes must be at least {2 * RANGE_BYTES}")
    workdir.mkdir(parents=True, exist_ok=True)
    # The servers started below inherit this limit: each connection is a file on both sides.
    fd_limit = raise_fd_limit(2 * max(counts) + 1024)
    rng = random.Random(size_bytes)  # noqa: S311 -- benchmark offsets, not secrets
    per_n: dict[str, dict[str, dict[str, object]]] = {}
    with served_media(size_bytes=size_bytes, workdir=workdir) as media:
        spans = [(0, RANGE_BYTES - 1), (size_bytes - RANGE_BYTES, size_bytes - 1)]
        spans += [(a, a + RANGE_BYTES - 1) for a in rng.sample(range(size_bytes - RANGE_BYTES), 3)]
        verified = check_ranges(media, spans)
        for clients in counts:
            per_n[str(clients)] = {
                target.name: _one(media, target, clients, duration)
                for target in (media.revisit, media.nginx)
            }

    def best(name: str) -> int:
        return max(
            (n for n in counts if per_n[str(n)][name]["passed"]),
            default=0,
        )

    streams, nginx_streams = best("revisit"), best("nginx")
    return {
        "size_bytes": size_bytes,
        "duration_s": duration,
        "range_bytes": RANGE_BYTES,
        "bitrate_mbit_s": round(RANGE_BYTES * 8 / 1e6, 2),
        "counts": list(counts),
        "fd_limit": fd_limit,
        "verified_ranges": verified,
        "pass_rule": f"0 errors, 0 ranges over 1 s late or missed, TTFB p99 <= {TTFB_P99_MS:g} ms",
        "streams": streams,
        "nginx_streams": nginx_streams,
        "per_n": per_n,
        "units": "*_ms: milliseconds; *_cpu_share: of one core, except other_cpu_share: of all "
        "cores, by processes other than the server and the load client; mb_s: 10^6 bytes a second",
        "goals_met": {"streams >= 1000": streams >= 1000, "streams >= 500": streams >= 500},
    }
