"""Benchmark: streaming sealed media through Revisit beside nginx serving the same bytes, same run.

``run`` starts a real Revisit server (granian, ``WORKERS`` web workers) on a fresh data folder with
the demo practice, seals ``size_bytes`` of random-looking bytes as the video rendition of a
recording alice made of carol and shares it with carol; nginx (``revisit.bench.nginx``) serves the
same plaintext from a file. Before anything is timed, a few ranges from each server are checked
byte for byte against the plaintext. Then, each figure beside nginx's:

- throughput at 16 clients: Debian ``wrk -t2 -c16``, each request a random 8 MiB range, with
  carol's ``Authorization: Bearer`` header (so every request is authenticated and authorized from
  the database); ``ROUNDS`` interleaved runs per server, medians (``ratio`` = Revisit / nginx,
  goal >= 0.55);
- server CPU per GiB delivered: user + system time of the server's whole process tree, from
  ``/proc`` before and after (goal for Revisit <= 1.2 s/GiB); and wrk's own CPU, since the load
  client competes with the servers for the same cores;
- random 64 KiB seeks on one kept-alive connection, time to the last byte, p50 and p95
  (``seek_p95_ratio`` = Revisit / nginx, goal <= 3); every body is compared with the plaintext.
  The same seeks also go to the floor (``revisit.bench.floor``): a plain ASGI app that answers
  from the plaintext file under granian with ``revisit serve``'s options, no authorization and no
  decryption. ``floor_seek_p95_ratio`` (floor / nginx) is what the server alone costs;
  ``seek_p95_over_floor`` (Revisit / floor) is what authorization and decryption add.

Both files are read once before timing, so both servers work from the page cache: the figures are
the CPU cost of serving (decryption, authorization), not the disk's. ``other_cpu_share`` says how
busy the machine was with processes other than the servers and the load client during the
throughput runs (0 to 1 of all cores): a shared machine makes every figure noisier. The data
folder, the plaintext file, both servers and wrk are gone when ``run`` returns, whatever happens.
"""

from __future__ import annotations

import json
import os
import random
import resource
import secrets
import shutil
import statistics
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from revisit.bench.floor import FloorServer
from revisit.bench.loadclient import KeepAliveClient, cpu_seconds, process_tree
from revisit.bench.nginx import Nginx
from revisit.testing.server import RevisitServer

WORKERS: Final = 2
WRK: Final = "/usr/bin/wrk"
MB: Final = 1_000_000
GIB: Final = 1 << 30
BLOCK: Final = 1 << 20
SPAN: Final = 8 << 20  # bytes per throughput request
SEEK: Final = 64 << 10  # bytes per seek
CLIENT: Final = "carol@demo.revisit.test"
THERAPIST: Final = "alice@demo.revisit.test"

SETUP_SCRIPT: Final = """\
import json
from django.db import transaction
from django.utils import timezone
from revisit.accounts.models import User
from revisit.recordings.consent import consent_give
from revisit.recordings.models import (
    ConsentMethod, ConsentScope, Recording, RecordingSource, RecordingStatus, Rendition,
)
from revisit.review.services import share_create
from revisit.vault.models import ObjectKind
from revisit.vault.services import vault_seal, vault_seal_bytes

alice = User.objects.get(email={therapist!r})
carol = User.objects.get(email={client!r})
for scope in (ConsentScope.RECORDING, ConsentScope.CLIENT_REVIEW):
    consent_give(client=carol, scope=scope, actor=alice, method=ConsentMethod.VERBAL)
with transaction.atomic():
    with open({path!r}, "rb") as source:
        video = vault_seal(
            practice_id=alice.practice_id, kind=ObjectKind.RENDITION, source=source, length={size}
        )
    original = vault_seal_bytes(
        practice_id=alice.practice_id, kind=ObjectKind.ORIGINAL, data=b"benchmark original"
    )
    now = timezone.now()
    recording = Recording.objects.create(
        practice_id=alice.practice_id, therapist=alice, client=carol, title="Streaming benchmark",
        source=RecordingSource.IMPORT, status=RecordingStatus.READY, progress=1.0,
        original=original, shareable_at=now, ready_at=now,
    )
    rendition = Rendition.objects.create(recording=recording, kind="video", sealed=video)
share_create(recording=recording, actor=alice)
print(json.dumps({{"rendition": str(rendition.pk)}}))
"""

WRK_SCRIPT: Final = """\
local size, span, auth = 0, 0, nil
local count = 0
function setup(thread)
  count = count + 1
  thread:set("thread_number", count)
end
function init(args)
  size, span = tonumber(args[1]), tonumber(args[2])
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then auth = "Bearer " .. token end
  math.randomseed(os.time() * 100 + (thread_number or 0))
end
function request()
  local first = math.floor(math.random() * (size - span + 1))
  local headers = { Range = string.format("bytes=%.0f-%.0f", first, first + span - 1) }
  if auth then headers["Authorization"] = auth end
  return wrk.format("GET", nil, headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"bytes": %.0f, "duration_us": %.0f, "requests": %.0f, "errors": %.0f, "p50_ms": %.3f}\\n',
    summary.bytes, summary.duration, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50) / 1000))
end
"""


class BenchError(RuntimeError):
    """The benchmark could not run, or a server answered with the wrong bytes."""


@dataclass
class Target:
    """One server of the comparison: where to send requests, and which processes to account."""

    name: str
    port: int
    path: str
    headers: dict[str, str]
    root_pid: int

    def cpu(self) -> float:
        return cpu_seconds(process_tree(self.root_pid))


@dataclass
class Media:
    revisit: Target
    nginx: Target
    plaintext: Path
    size: int
    token: str
    folder: Path
    floor: Target | None = None  # the plain ASGI app under granian (`revisit.bench.floor`)

    def targets(self) -> tuple[Target, ...]:
        return (self.revisit, self.nginx) + ((self.floor,) if self.floor else ())


def write_plaintext(path: Path, size: int) -> None:
    """``size`` random-looking bytes: one random MiB, each copy stamped with its index."""
    base = os.urandom(BLOCK)
    with path.open("wb") as out:
        for index in range(0, size, BLOCK):
            block = index.to_bytes(8, "big") + base[8:]
            out.write(block[: min(BLOCK, size - index)])


def _warm(folder: Path) -> None:
    """Read every large file under ``folder`` once, so both servers start from the page cache."""
    for path in folder.rglob("*"):
        if path.is_file() and path.stat().st_size >= BLOCK:
            with path.open("rb", buffering=0) as file:
                while file.read(4 * BLOCK):
                    pass


@contextmanager
def served_media(*, size_bytes: int, workdir: Path, floor: bool = False) -> Iterator[Media]:
    """A Revisit server and nginx (and with ``floor``, the floor app) serving the same
    ``size_bytes``; everything removed afterwards."""
    if size_bytes < SEEK:
        raise ValueError(f"size_bytes must be at least {SEEK}")
    folder = workdir / f"bench-stream-{secrets.token_hex(4)}"
    (folder / "www").mkdir(parents=True)
    plaintext = folder / "www" / "media.bin"
    server = RevisitServer(folder / "data", workers=WORKERS)
    nginx = Nginx(folder / "www")
    floor_server = FloorServer(plaintext, workers=WORKERS) if floor else None
    try:
        write_plaintext(plaintext, size_bytes)
        server.prepare_demo()
        script = SETUP_SCRIPT.format(
            therapist=THERAPIST, client=CLIENT, path=str(plaintext), size=size_bytes
        )
        done = server.revisit("manage", "shell", "-c", script)
        rendition = json.loads(done.stdout.strip().splitlines()[-1])["rendition"]
        token = server.token(CLIENT)
        server.start()
        nginx.start()
        floor_target = None
        if floor_server is not None:
            floor_server.start()
            assert floor_server.process is not None
            floor_target = Target(
                "floor", floor_server.port, "/media.bin", {}, floor_server.process.pid
            )
        _warm(folder)
        assert server.process is not None and nginx.process is not None
        auth = {"Authorization": f"Bearer {token}"}
        yield Media(
            revisit=Target("revisit", server.port, f"/media/{rendition}", auth, server.process.pid),
            nginx=Target("nginx", nginx.port, "/media.bin", {}, nginx.process.pid),
            plaintext=plaintext,
            size=size_bytes,
            token=token,
            folder=folder,
            floor=floor_target,
        )
    finally:
        try:
            server.stop()
            if floor_server is not None:
                floor_server.stop()
        finally:
            nginx.stop()
            shutil.rmtree(folder, ignore_errors=True)


def expected(media: Media, first: int, last: int) -> bytes:
    fd = os.open(media.plaintext, os.O_RDONLY)
    try:
        return os.pread(fd, last - first + 1, first)
    finally:
        os.close(fd)


def check_ranges(media: Media, spans: list[tuple[int, int]]) -> int:
    """Fetch each inclusive span from every server; raise unless every body equals the plaintext."""
    for target in media.targets():
        with KeepAliveClient("127.0.0.1", target.port) as client:
            for first, last in spans:
                reply = client.get(
                    target.path, {**target.headers, "Range": f"bytes={first}-{last}"}
                )
                want = f"bytes {first}-{last}/{media.size}"
                if reply.status != 206 or reply.headers.get("content-range") != want:
                    raise BenchError(f"{target.name}: {reply.status} for bytes {first}-{last}")
                if reply.body != expected(media, first, last):
                    raise BenchError(f"{target.name}: wrong bytes for {first}-{last}")
    return len(spans)


def correctness_spans(size: int, rng: random.Random) -> list[tuple[int, int]]:
    chunk = 64 << 10
    spans = [(0, min(size, SPAN) - 1), (size - 1000, size - 1), (chunk - 10, chunk + 9)]
    for _ in range(5):
        first = rng.randrange(0, size - min(size, SPAN) + 1)
        spans.append((first, first + min(size, SPAN) - 1))
    return [(max(0, a), min(size - 1, b)) for a, b in spans]


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores), from ``/proc/stat``."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class WrkRun:
    bytes: int
    seconds: float
    requests: int
    errors: int
    server_cpu_s: float
    client_cpu_s: float
    other_cpu_s: float

    @property
    def mb_s(self) -> float:
        return self.bytes / MB / self.seconds


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk_run(target: Target, *, media: Media, script: Path, seconds: float) -> WrkRun:
    """One wrk run against ``target``; its figures and the CPU the server and wrk used."""
    command = [
        WRK,
        "-t2",
        "-c16",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    command += [f"http://127.0.0.1:{target.port}{target.path}", "--", str(media.size), str(SPAN)]
    token = target.headers.get("Authorization", "").removeprefix("Bearer ")
    env = {**os.environ, "BENCH_TOKEN": token}  # not on the command line, where ps shows it
    client_before, server_before, busy_before = _children_cpu(), target.cpu(), busy_cpu_seconds()
    child = subprocess.run(command, capture_output=True, env=env, check=False, timeout=seconds + 60)
    # wrk has been reaped, so its CPU time is now in this process's children's usage.
    client_cpu = _children_cpu() - client_before
    server_cpu, busy = target.cpu() - server_before, busy_cpu_seconds() - busy_before
    out = child.stdout.decode(errors="replace")
    if child.returncode != 0:
        raise BenchError(f"wrk failed: {child.stderr.decode(errors='replace')[-1000:]}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"wrk printed no summary: {out[-1000:]}")
    summary = json.loads(lines[-1])
    return WrkRun(
        bytes=int(summary["bytes"]),
        seconds=summary["duration_us"] / 1e6,
        requests=int(summary["requests"]),
        errors=int(summary["errors"]),
        server_cpu_s=server_cpu,
        client_cpu_s=client_cpu,
        other_cpu_s=max(0.0, busy - server_cpu - client_cpu),
    )


def _quantiles_ms(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return round(cuts[49] * 1000, 3), round(cuts[94] * 1000, 3)


def seek_times(media: Media, *, samples: int, rng: random.Random) -> dict[str, list[float]]:
    """Time to last byte of random 64 KiB ranges, one kept-alive connection per server, the
    servers taking turns to go first; every body is compared with the plaintext."""
    targets = media.targets()
    clients = {t.name: KeepAliveClient("127.0.0.1", t.port) for t in targets}
    times: dict[str, list[float]] = {t.name: [] for t in targets}
    try:
        for i in range(samples + 5):  # the first five of each warm the connection up
            first = rng.randrange(0, media.size - SEEK + 1)
            last = first + SEEK - 1
            turn = i % len(targets)
            for target in targets[turn:] + targets[:turn]:
                headers = {**target.headers, "Range": f"bytes={first}-{last}"}
                reply = clients[target.name].get(target.path, headers)
                if reply.status != 206 or reply.body != expected(media, first, last):
                    raise BenchError(f"{target.name}: wrong answer to a seek to {first}")
                if i >= 5:
                    times[target.name].append(reply.ttlb)
    finally:
        for client in clients.values():
            client.close()
    return times


def run(
    *,
    size_bytes: int,
    workdir: Path,
    seconds: float = 10.0,
    rounds: int = 3,
    seek_samples: int = 300,
) -> dict[str, object]:
    """Measure Revisit's media streaming against nginx serving the same bytes."""
    if size_bytes < 2 * SPAN:
        raise ValueError(f"size_bytes must be at least {2 * SPAN} (two throughput ranges)")
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size_bytes)  # noqa: S311 -- benchmark offsets, not secrets
    with served_media(size_bytes=size_bytes, workdir=workdir, floor=True) as media:
        verified = check_ranges(media, correctness_spans(size_bytes, rng))
        script = media.folder / "ranges.lua"
        script.write_text(WRK_SCRIPT)
        runs: dict[str, list[WrkRun]] = {"revisit": [], "nginx": []}
        for round_ in range(rounds):  # interleaved, so a noisy moment hurts both alike
            pair = (media.revisit, media.nginx)
            for target in pair if round_ % 2 == 0 else pair[::-1]:
                runs[target.name].append(
                    wrk_run(target, media=media, script=script, seconds=seconds)
                )
        seeks = seek_times(media, samples=seek_samples, rng=rng)
    return _figures(size_bytes, seconds, rounds, verified, runs, seeks)


def _figures(
    size: int,
    seconds: float,
    rounds: int,
    verified: int,
    runs: dict[str, list[WrkRun]],
    seeks: dict[str, list[float]],
) -> dict[str, object]:
    out: dict[str, object] = {
        "size_bytes": size,
        "workers": WORKERS,
        "load": f"wrk -t2 -c16, random {SPAN >> 20} MiB ranges, {seconds:g} s a run",
        "rounds": rounds,
        "verified_ranges": verified,
    }
    mb_s: dict[str, float] = {}
    for name, side in runs.items():
        gib = sum(r.bytes for r in side) / GIB
        wall = sum(r.seconds for r in side)
        mb_s[name] = statistics.median(r.mb_s for r in side)
        out[f"{name}_mbps"] = round(mb_s[name], 1)
        out[f"{name}_runs_mbps"] = [round(r.mb_s, 1) for r in side]
        out[f"{name}_errors"] = sum(r.errors for r in side)
        out[f"{name}_requests"] = sum(r.requests for r in side)
        server_cpu = round(sum(r.server_cpu_s for r in side) / gib, 3)
        out["cpu_s_per_gib" if name == "revisit" else f"{name}_cpu_s_per_gib"] = server_cpu
        out[f"{name}_server_cpu_share"] = round(sum(r.server_cpu_s for r in side) / wall, 3)
        out[f"wrk_cpu_s_per_gib_{name}"] = round(sum(r.client_cpu_s for r in side) / gib, 3)
        out[f"wrk_cpu_share_{name}"] = round(sum(r.client_cpu_s for r in side) / wall, 3)
        out[f"other_cpu_share_{name}"] = round(
            sum(r.other_cpu_s for r in side) / wall / (os.cpu_count() or 1), 3
        )
    ratio = round(mb_s["revisit"] / mb_s["nginx"], 3)
    out["ratio"] = ratio
    p95: dict[str, float] = {}
    for name, samples in seeks.items():
        out[f"{name}_seek_p50_ms"], p95[name] = _quantiles_ms(samples)
        out[f"{name}_seek_p95_ms"] = p95[name]
    seek_ratio = round(p95["revisit"] / p95["nginx"], 3)
    out["seek_p95_ratio"] = seek_ratio
    # The floor: a plain ASGI app under the same server, no authorization or decryption.
    out["floor_seek_p95_ratio"] = round(p95["floor"] / p95["nginx"], 3)
    out["seek_p95_over_floor"] = round(p95["revisit"] / p95["floor"], 3)
    out["seek_samples"] = len(seeks["revisit"])
    cpu = out["cpu_s_per_gib"]
    assert isinstance(cpu, float)
    out["units"] = (
        "*_mbps: MB/s (10^6 bytes a second, response headers included); cpu_s_per_gib: user + "
        "system CPU seconds of the server's process tree per GiB delivered; *_share: of one core, "
        "except other_cpu_share_*: of all cores, by processes other than the server and wrk"
    )
    out["goals_met"] = {
        "ratio >= 0.55": ratio >= 0.55,
        "cpu_s_per_gib <= 1.2": cpu <= 1.2,
        "seek_p95_ratio <= 3": seek_ratio <= 3,
    }
    return out
