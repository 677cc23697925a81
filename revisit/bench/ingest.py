"""Benchmark: a resumable upload through a real server beside writing the same bytes to disk.

``run`` starts ``revisit serve`` (granian, one worker) on a fresh data folder inside ``workdir``,
writes a WAV of ``size_bytes`` (16-bit PCM noise: real media that the completion probe accepts)
and uploads it over loopback as tus PATCHes of ``CHUNK`` bytes, each body sent with
``sendfile`` so that the client costs little CPU beside the server. It measures:

- ``upload_mbps``: bytes / seconds from the creation POST until the final PATCH is answered, so
  sealing, fsync, the completion probe and the copy into the object store are all included;
- ``baseline_mbps``: the same file copied to the same disk in 1 MiB blocks with ``fsync``, once
  before and once after the upload (the mean of the two), in the same run;
- ``ratio`` = upload / baseline (goal >= 0.5); beside it the median PATCH time and the final
  one, which also completes the upload (probe and copy), and the server's CPU seconds;
- ``peak_rss_growth_mb``: the server process tree's resident memory (VmRSS of granian and its
  workers, and any ffprobe they start), sampled every 20 ms from /proc during the upload, minus
  the same sum just before it (goal <= 64, whatever the size). A small upload first warms the
  server (imports, thread pool, first database connection), so the figure is what the size costs.

The stored original is then decrypted by the server's own code and its SHA-256 compared with the
source (``verified``). Everything the run wrote is removed afterwards, whatever happens.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Final

from revisit.bench.loadgen import (
    TusSession,
    file_sha256,
    parse_stored_recordings,
    stored_recordings_script,
    write_wav,
)

CHUNK: Final = 64 * 1024 * 1024
BLOCK: Final = 1 << 20
SAMPLE_EVERY_S: Final = 0.02
MB: Final = 1_000_000
THERAPIST: Final = "alice@demo.revisit.test"
CLIENT: Final = "carol@demo.revisit.test"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(_children(current))
    return tree


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return 0


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, summed."""
    return sum(_rss_bytes(p) for p in process_tree(pid))


class RssSampler:
    """Samples a process tree's RSS in a thread; ``peak`` is the largest sum seen."""

    def __init__(self, pid: int, *, every: float = SAMPLE_EVERY_S) -> None:
        self.pid, self.every, self.peak, self.samples = pid, every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self.samples += 1
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_bytes(self.pid))


def _copy_with_fsync(source: Path, target: Path) -> float:
    """Seconds to copy ``source`` to ``target`` in 1 MiB blocks, fsync included."""
    target.unlink(missing_ok=True)
    os.sync()
    start = time.perf_counter()
    with source.open("rb") as src, target.open("wb") as out:
        while block := src.read(BLOCK):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def _upload(session: TusSession, source: Path, size: int, *, chunk: int) -> tuple[str, list[float]]:
    """Upload ``source`` in PATCHes of ``chunk`` bytes; the recording id and each PATCH's time."""
    path = session.create(client=CLIENT, title="Ingest benchmark", length=size)
    offset, recording, times = 0, "", []
    with source.open("rb") as file:
        while offset < size:
            count = min(chunk, size - offset)
            started = time.perf_counter()
            pending = session.start_patch(path, offset=offset, length=count)
            pending.send_file(file, offset=offset, count=count)
            reply = pending.finish()
            times.append(time.perf_counter() - started)
            if reply.status != 204:
                raise RuntimeError(f"PATCH at {offset} answered {reply.status}: {reply.body!r}")
            offset = int(reply.headers["upload-offset"])
            recording = reply.headers.get("revisit-recording", "")
    if not recording:
        raise RuntimeError("the upload finished without a recording")
    return recording, times


def run(*, size_bytes: int, workdir: Path) -> dict[str, object]:
    """Measure one upload of ``size_bytes`` through a real server against a plain copy."""
    from revisit.testing.server import RevisitServer  # starts real processes; imports pytest

    if size_bytes < 64 * 1024:
        raise ValueError("size_bytes must be at least 64 KiB")
    workdir.mkdir(parents=True, exist_ok=True)
    root = workdir / f"bench-ingest-{secrets.token_hex(4)}"
    root.mkdir()
    server = RevisitServer(
        root / "data",
        # A WAV of noise at 48 kHz stereo lasts 93 min per GiB; the default limit is 4 h.
        extra_env={"REVISIT_MEDIA_MAX_DURATION_S": str(48 * 3600)},
    )
    try:
        source = root / "session.wav"
        size = write_wav(source, size=size_bytes, blocks=[os.urandom(BLOCK)])
        warmup = root / "warmup.wav"
        warmup_size = write_wav(warmup, size=512 * 1024, blocks=[os.urandom(BLOCK)])
        source_sha256 = file_sha256(source)
        server.prepare_demo()
        token = server.token(THERAPIST)
        server.start()
        if server.process is None:
            raise RuntimeError("the server did not start")
        pid = server.process.pid
        session = TusSession(server.url, token)
        rss_cold = tree_rss_bytes(pid)
        _upload(session, warmup, warmup_size, chunk=CHUNK)
        baselines = [_copy_with_fsync(source, root / "baseline.copy")]
        os.sync()
        rss_before = tree_rss_bytes(pid)
        cpu_before = sum(_cpu_seconds(p) for p in process_tree(pid))
        with RssSampler(pid) as sampler:
            start = time.perf_counter()
            recording, patch_times = _upload(session, source, size, chunk=CHUNK)
            upload_s = time.perf_counter() - start
            cpu_after = sum(_cpu_seconds(p) for p in process_tree(pid))
        baselines.append(_copy_with_fsync(source, root / "baseline.copy"))
        shell = server.revisit("manage", "shell", "-c", stored_recordings_script([recording]))
        stored = parse_stored_recordings(shell.stdout).get(recording)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    baseline_s = statistics.mean(baselines)
    upload_mbps = size / MB / upload_s
    baseline_mbps = size / MB / baseline_s
    ratio = round(upload_mbps / baseline_mbps, 3)
    growth_mb = round((sampler.peak - rss_before) / MB, 1)
    return {
        "size_bytes": size,
        "chunk_bytes": CHUNK,
        "upload_seconds": round(upload_s, 2),
        "upload_mbps": round(upload_mbps, 1),
        "baseline_mbps": round(baseline_mbps, 1),
        "baseline_runs_mbps": [round(size / MB / s, 1) for s in baselines],
        "ratio": ratio,
        "patches": len(patch_times),
        "median_patch_seconds": round(statistics.median(patch_times), 3),
        "final_patch_seconds": round(patch_times[-1], 3),
        "server_cpu_seconds": round(cpu_after - cpu_before, 2),
        "rss_cold_mb": round(rss_cold / MB, 1),
        "rss_before_mb": round(rss_before / MB, 1),
        "peak_rss_mb": round(sampler.peak / MB, 1),
        "peak_rss_growth_mb": growth_mb,
        "rss_samples": sampler.samples,
        "verified": stored is not None and stored.length == size and stored.sha256 == source_sha256,
        "baseline": "the same file copied to the same disk in 1 MiB blocks with fsync, before "
        "and after the upload (mean); upload: creation POST to the final PATCH's answer, "
        "completion (probe, copy to the object store) included",
        "goals_met": {
            "ratio >= 0.5": ratio >= 0.5,
            "peak_rss_growth_mb <= 64": growth_mb <= 64,
        },
    }
