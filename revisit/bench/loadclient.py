"""Load clients for the streaming benchmarks, and the CPU accounting that goes with them.

- ``KeepAliveClient``: one blocking HTTP/1.1 connection that times each response to its first and
  last byte (random seeks on a kept-alive connection);
- ``paced_streams``: N players on one asyncio loop, each on its own kept-alive connection, each
  asking for ``range_bytes`` at a random offset every ``period`` seconds (2 Mbit/s by default).
  It runs as a child process (``python -m revisit.bench.loadclient``, the plan as JSON on stdin,
  the figures as JSON on stdout) so that its own CPU time is measured apart from the benchmark's;
  a player that falls so far behind that its turns come after the window *misses* them;
- ``process_tree`` / ``cpu_seconds``: user + system CPU of a process and its descendants, read
  from ``/proc``.

Both clients read the raw socket (no HTTP library) so that the client's own cost stays small and
the same for both servers. Only ``Content-Length`` bodies are understood; anything else is an error.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

HEAD_LIMIT: Final = 16 * 1024
CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


class ProtocolError(Exception):
    """The server's answer was not a well-formed HTTP/1.1 response with a Content-Length."""


# --- CPU accounting -------------------------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants that are alive now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the given processes (all their threads) have used so far."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


# --- HTTP/1.1 on a raw socket ---------------------------------------------------------------------


def request_bytes(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status and headers (lower-cased names) of a response head without its blank line."""
    status_line, *lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line {status_line[:60]!r}")
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise ProtocolError("bad header line")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise ProtocolError("no Content-Length")
    return int(parts[1]), headers


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    ttfb: float  # seconds from sending the request to the first byte of the answer
    ttlb: float  # ... to its last byte


class KeepAliveClient:
    """One kept-alive connection; ``get`` sends a request and reads the whole answer."""

    def __init__(self, host: str, port: int, *, timeout: float = 30.0) -> None:
        self.host = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""

    def get(self, path: str, headers: dict[str, str]) -> Reply:
        start = time.perf_counter()
        self.sock.sendall(request_bytes(self.host, path, headers))
        data = self._buffer or self.sock.recv(1 << 20)
        first = time.perf_counter()
        while b"\r\n\r\n" not in data:
            if len(data) > HEAD_LIMIT:
                raise ProtocolError("response head too long")
            more = self.sock.recv(1 << 20)
            if not more:
                raise ProtocolError("connection closed in the response head")
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        status, response_headers = parse_head(head)
        length = int(response_headers["content-length"])
        parts, have = [rest], len(rest)
        while have < length:
            more = self.sock.recv(min(1 << 20, length - have))
            if not more:
                raise ProtocolError("connection closed in the body")
            parts.append(more)
            have += len(more)
        end = time.perf_counter()
        body = b"".join(parts)
        self._buffer = body[length:]
        return Reply(status, response_headers, body[:length], first - start, end - start)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> KeepAliveClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- paced players on one event loop --------------------------------------------------------------


@dataclass
class StreamsPlan:
    host: str
    port: int
    path: str
    headers: dict[str, str]
    size: int  # bytes in the object
    clients: int
    duration: float  # seconds during which ranges are scheduled
    range_bytes: int = 256 * 1024
    period: float = 1.0  # 256 KiB a second is about 2 Mbit/s
    late_after: float = 1.0
    timeout: float = 15.0


@dataclass
class StreamsTally:
    ranges: int = 0
    late: int = 0
    missed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    ttfb: list[float] = field(default_factory=list)
    ttlb: list[float] = field(default_factory=list)
    send_lag: list[float] = field(default_factory=list)
    loop_lag: list[float] = field(default_factory=list)
    bytes: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


class _Player(asyncio.Protocol):
    """One connection; one request in flight at a time. Counts body bytes, keeps none."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[tuple[int, float, float]] | None = None
        self.head = b""
        self.remaining = -1
        self.status = 0
        self.first = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, request: bytes) -> asyncio.Future[tuple[int, float, float]]:
        assert self.transport is not None
        self.done = self.loop.create_future()
        self.head, self.remaining, self.first = b"", -1, 0.0
        self.transport.write(request)
        return self.done

    def _finish(self, result: tuple[int, float, float] | Exception) -> None:
        done, self.done = self.done, None
        if done is None or done.done():
            return
        if isinstance(result, Exception):
            done.set_exception(result)
        else:
            done.set_result(result)

    def data_received(self, data: bytes) -> None:
        if self.done is None:
            return  # bytes nobody asked for: ignored, the next request will fail on them
        if not self.first:
            self.first = self.loop.time()
        if self.remaining < 0:
            self.head += data
            head, sep, rest = self.head.partition(b"\r\n\r\n")
            if not sep:
                if len(self.head) > HEAD_LIMIT:
                    self._finish(ProtocolError("response head too long"))
                return
            try:
                self.status, headers = parse_head(head)
            except (ProtocolError, ValueError) as exc:
                self._finish(exc if isinstance(exc, ProtocolError) else ProtocolError(str(exc)))
                return
            self.remaining = int(headers["content-length"])
            data = rest
        self.remaining -= len(data)
        if self.remaining <= 0:
            self._finish((self.status, self.first, self.loop.time()))

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(ProtocolError("connection closed"))


async def _player(plan: StreamsPlan, tally: StreamsTally, t0: float, rng: random.Random) -> None:
    loop = asyncio.get_running_loop()
    phase = rng.uniform(0, plan.period)
    await asyncio.sleep(max(0.0, t0 + phase - loop.time()))
    try:
        transport, player = await asyncio.wait_for(
            loop.create_connection(lambda: _Player(loop), plan.host, plan.port), plan.timeout
        )
    except (OSError, TimeoutError):
        tally.error("connect")
        return
    host = f"{plan.host}:{plan.port}"
    window_end = t0 + plan.duration
    try:
        k = 0
        while (scheduled := t0 + phase + k * plan.period) < window_end:
            if loop.time() >= window_end:
                # So far behind that this range's turn and the rest came after the window: never
                # asked for (a player would have stalled); counted, not sent, so a run stays short.
                tally.missed += math.ceil((window_end - scheduled) / plan.period)
                break
            k += 1
            if (wait := scheduled - loop.time()) > 0:
                await asyncio.sleep(wait)
            offset = rng.randrange(0, max(1, plan.size - plan.range_bytes + 1))
            last = min(plan.size, offset + plan.range_bytes) - 1
            request = request_bytes(
                host, plan.path, {**plan.headers, "Range": f"bytes={offset}-{last}"}
            )
            sent = loop.time()
            tally.send_lag.append(sent - scheduled)
            try:
                status, first, end = await asyncio.wait_for(player.send(request), plan.timeout)
            except (TimeoutError, ProtocolError, OSError) as exc:
                tally.error(type(exc).__name__)
                return  # the connection is in an unknown state: this player stops
            tally.ranges += 1
            if status != 206:
                tally.error(f"status {status}")
                continue
            tally.bytes += last - offset + 1
            tally.ttfb.append(first - sent)
            tally.ttlb.append(end - sent)
            if end - scheduled > plan.late_after:
                tally.late += 1
    finally:
        transport.close()


async def _watch_loop(tally: StreamsTally, until: float, step: float = 0.01) -> None:
    """How late the loop wakes a sleeper: the client's own saturation, measured."""
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        before = loop.time()
        await asyncio.sleep(step)
        tally.loop_lag.append(loop.time() - before - step)


def _quantile_ms(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0] * 1000, 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 2)


async def paced_streams(plan: StreamsPlan, *, seed: int = 0) -> dict[str, object]:
    """Run ``plan.clients`` paced players for ``plan.duration`` seconds; the figures as a dict."""
    loop = asyncio.get_running_loop()
    tally = StreamsTally()
    rng = random.Random(seed)  # noqa: S311 -- offsets and phases of a benchmark, not secrets
    t0 = loop.time() + 0.2
    watcher = asyncio.ensure_future(_watch_loop(tally, t0 + plan.duration))
    players = [
        _player(plan, tally, t0, random.Random(rng.getrandbits(64)))  # noqa: S311
        for _ in range(plan.clients)
    ]
    await asyncio.gather(*players)
    await watcher
    wall = loop.time() - t0
    return {
        "clients": plan.clients,
        "duration_s": plan.duration,
        "range_bytes": plan.range_bytes,
        "period_s": plan.period,
        "ranges": tally.ranges,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "late": tally.late,
        "missed": tally.missed,
        "ttfb_p50_ms": _quantile_ms(tally.ttfb, 50),
        "ttfb_p99_ms": _quantile_ms(tally.ttfb, 99),
        "ttlb_p50_ms": _quantile_ms(tally.ttlb, 50),
        "ttlb_p99_ms": _quantile_ms(tally.ttlb, 99),
        "send_lag_p99_ms": _quantile_ms(tally.send_lag, 99),
        "loop_lag_p99_ms": _quantile_ms(tally.loop_lag, 99),
        "mb_s": round(tally.bytes / 1e6 / wall, 1) if wall > 0 else 0.0,
        "wall_s": round(wall, 2),
    }


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft open-file limit towards ``wanted`` (up to the hard limit); the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def run_streams(plan: StreamsPlan, *, seed: int = 0) -> dict[str, object]:
    """``paced_streams`` in a child process, which adds its own CPU seconds (user + system).

    The plan goes in on stdin, not on the command line, where ``ps`` would show the token.
    """
    plan_json = json.dumps({**plan.__dict__, "seed": seed}).encode()
    try:
        child = subprocess.run(
            [sys.executable, "-m", "revisit.bench.loadclient"],
            input=plan_json,
            capture_output=True,
            check=False,
            timeout=plan.duration + 2 * plan.timeout + 60,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the load client ({plan.clients} players) did not finish") from None
    if child.returncode != 0:
        raise RuntimeError(f"load client failed: {child.stderr.decode(errors='replace')[-2000:]}")
    figures: dict[str, object] = json.loads(child.stdout)
    return figures


def _main() -> int:
    options = json.loads(sys.stdin.read())  # the StreamsPlan fields and a seed
    seed = int(options.pop("seed", 0))
    plan = StreamsPlan(**options)
    raise_fd_limit(plan.clients + 256)
    started = time.monotonic()
    figures = asyncio.run(paced_streams(plan, seed=seed))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    figures["client_cpu_s"] = round(cpu, 2)
    figures["client_cpu_share"] = round(cpu / (time.monotonic() - started), 3)  # of one core
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
