"""Benchmark: sealed storage beside plain files on the same disk, in the same run.

``run`` writes one object of ``size_bytes`` twice — plain and sealed — into ``workdir``, then
measures, each figure beside its plain baseline:

- write throughput, including ``fsync`` (``seal_ratio`` = sealed / plain, goal >= 0.5);
- full sequential read throughput (``ratio`` = sealed / plain, goal >= 0.6);
- random 1 MiB range-read latency, p50 and p95 (``range_p95_ratio`` = sealed / plain, goal <= 2).
  A sealed range read opens the object each time (header read, key derivation, MAC check), as a
  server does for every request.

Reads are measured twice: *cold* (the cached pages dropped with
``posix_fadvise(POSIX_FADV_DONTNEED)`` before each timed read, so the bytes come from the disk)
and *warm* (the bytes already cached, so the figure is the CPU cost of decryption alone). Before a
cold sealed range read the 100-byte header is read back into the cache, as it stays cached on a
server where every request of a playing recording reads it; the first request for an object pays
one more disk read than this shows. The headline
``ratio`` and ``range_p95_ratio`` are the cold ones; the warm ones carry a ``warm_`` prefix. Both
files are removed afterwards, whatever happens.

Writes and full reads are repeated in ``ROUNDS`` interleaved rounds (plain first, then sealed
first, ...) and each figure is the median, because the disk and the CPU are shared.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

from revisit.lib.sealed import (
    CHUNK_SIZE,
    HEADER_LEN,
    SealedReader,
    file_prefetch,
    file_read_at,
    new_dek,
)
from revisit.lib.sealed_writer import SealedWriter

BLOCK: Final = 1 << 20
RANGE_BYTES: Final = 1 << 20
RANGE_SAMPLES: Final = 200
ROUNDS: Final = 3
MB: Final = 1_000_000


def _drop_cache(path: Path) -> None:
    """Drop the cached pages of ``path`` (a range would miss partly covered large folios)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _write(
    path: Path, size: int, block: bytes, wrap: Callable[[BinaryIO], BinaryIO | SealedWriter]
) -> float:
    """Write ``size`` bytes (``block`` repeated) through ``wrap``; seconds, fsync included."""
    start = time.perf_counter()
    with path.open("wb") as file:
        out = wrap(file)
        left = size
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))
        if isinstance(out, SealedWriter):
            out.close()
        file.flush()
        os.fsync(file.fileno())
    return time.perf_counter() - start


def _read_plain(path: Path) -> int:
    total = 0
    with path.open("rb", buffering=0) as file:
        while block := file.read(BLOCK):
            total += len(block)
    return total


def _read_sealed(path: Path, dek: bytes, oid: uuid.UUID) -> int:
    total = 0
    with path.open("rb", buffering=0) as file:
        reader = SealedReader(
            file_read_at(file),
            path.stat().st_size,
            dek=dek,
            object_id=oid,
            prefetch=file_prefetch(file),
        )
        for piece in reader.iter_all():
            total += len(piece)
    return total


def _timed(read: Callable[[int], int], arg: int, expected: int) -> float:
    start = time.perf_counter()
    got = read(arg)
    elapsed = time.perf_counter() - start
    if got != expected:
        raise RuntimeError(f"read {got} bytes where {expected} were written")
    return elapsed


def _percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    if len(samples) < 2:
        return samples[0] * 1000, samples[0] * 1000
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def run(*, size_bytes: int, workdir: Path) -> dict[str, object]:
    """Measure sealed against plain storage for one object of ``size_bytes``."""
    if size_bytes < 1:
        raise ValueError("size_bytes must be at least 1")
    workdir.mkdir(parents=True, exist_ok=True)
    dek, oid = new_dek(), uuid.uuid4()
    block = os.urandom(BLOCK)
    stem = f"bench-sealed-{secrets.token_hex(4)}"
    plain_path, sealed_path = workdir / f"{stem}.plain", workdir / f"{stem}.sealed"

    def seal(file: BinaryIO) -> SealedWriter:
        return SealedWriter(file, dek=dek, object_id=oid, length=size_bytes)

    sides: dict[
        str, tuple[Path, Callable[[BinaryIO], BinaryIO | SealedWriter], Callable[[int], int]]
    ]
    sides = {
        "plain": (plain_path, lambda f: f, lambda _: _read_plain(plain_path)),
        "sealed": (sealed_path, seal, lambda _: _read_sealed(sealed_path, dek, oid)),
    }
    times: dict[str, list[float]] = {}
    try:
        for round_ in range(ROUNDS):  # interleaved, so a noisy moment hurts both sides alike
            for path in (plain_path, sealed_path):
                path.unlink(missing_ok=True)
            os.sync()  # the last round's deletes must not land on this round's timings
            for name in ("plain", "sealed") if round_ % 2 == 0 else ("sealed", "plain"):
                path, wrap, read = sides[name]
                times.setdefault(f"{name}_write", []).append(_write(path, size_bytes, block, wrap))
                _drop_cache(path)
                times.setdefault(f"{name}_read", []).append(_timed(read, 0, size_bytes))
                times.setdefault(f"warm_{name}_read", []).append(_timed(read, 0, size_bytes))
        ranges = _range_latencies(plain_path, sealed_path, size_bytes, dek, oid)
    finally:
        for path in (plain_path, sealed_path):
            path.unlink(missing_ok=True)
    median = {key: statistics.median(values) for key, values in times.items()}
    plain_write, seal_write = median["plain_write"], median["sealed_write"]
    reads = {
        "plain": median["plain_read"],
        "sealed": median["sealed_read"],
        "warm_plain": median["warm_plain_read"],
        "warm_sealed": median["warm_sealed_read"],
    }

    def mb_s(seconds: float) -> float:
        return round(size_bytes / MB / seconds, 1)

    seal_ratio = round(plain_write / seal_write, 3)
    ratio = round(reads["plain"] / reads["sealed"], 3)
    range_p95_ratio = ranges.pop("range_p95_ratio")
    return {
        "size_bytes": size_bytes,
        "chunk_size": CHUNK_SIZE,
        "rounds": ROUNDS,
        "plain_write_mb_s": mb_s(plain_write),
        "seal_mb_s": mb_s(seal_write),
        "seal_ratio": seal_ratio,
        "plain_read_mb_s": mb_s(reads["plain"]),
        "sealed_read_mb_s": mb_s(reads["sealed"]),
        "ratio": ratio,
        "warm_plain_read_mb_s": mb_s(reads["warm_plain"]),
        "warm_sealed_read_mb_s": mb_s(reads["warm_sealed"]),
        "warm_ratio": round(reads["warm_plain"] / reads["warm_sealed"], 3),
        **ranges,
        "range_p95_ratio": range_p95_ratio,
        "reads": "cold: pages dropped (posix_fadvise DONTNEED) before each timed read, the sealed "
        "header read back before a range read; warm: bytes already cached",
        "goals_met": {
            "seal_ratio >= 0.5": seal_ratio >= 0.5,
            "ratio >= 0.6": ratio >= 0.6,
            "range_p95_ratio <= 2": range_p95_ratio <= 2,
        },
    }


def _range_latencies(
    plain_path: Path, sealed_path: Path, size: int, dek: bytes, oid: uuid.UUID
) -> dict[str, float]:
    length = min(RANGE_BYTES, size)
    rng = random.Random(size)  # noqa: S311 -- picks benchmark offsets, not secrets
    offsets = [rng.randrange(0, size - length + 1) for _ in range(RANGE_SAMPLES)]
    stored_size = sealed_path.stat().st_size
    times: dict[str, list[float]] = {
        key: [] for key in ("plain", "sealed", "warm_plain", "warm_sealed")
    }
    with plain_path.open("rb", buffering=0) as plain, sealed_path.open("rb", buffering=0) as sealed:
        sealed_read_at, sealed_prefetch = file_read_at(sealed), file_prefetch(sealed)

        def read_plain(offset: int) -> int:
            return len(os.pread(plain.fileno(), length, offset))

        def read_sealed(offset: int) -> int:
            reader = SealedReader(
                sealed_read_at, stored_size, dek=dek, object_id=oid, prefetch=sealed_prefetch
            )
            return sum(len(piece) for piece in reader.iter_range(offset, offset + length))

        for i, offset in enumerate(offsets):
            pair = [("plain", read_plain, plain_path), ("sealed", read_sealed, sealed_path)]
            for name, read, path in pair if i % 2 == 0 else pair[::-1]:
                _drop_cache(path)
                if name == "sealed":
                    sealed_read_at(0, HEADER_LEN)  # a playing recording's header stays cached
                times[name].append(_timed(read, offset, length))
                read(offset)
                times[f"warm_{name}"].append(_timed(read, offset, length))
    out: dict[str, float] = {"range_bytes": length, "range_samples": len(offsets)}
    for prefix in ("", "warm_"):
        plain_p50, plain_p95 = _percentiles(times[f"{prefix}plain"])
        sealed_p50, sealed_p95 = _percentiles(times[f"{prefix}sealed"])
        out[f"{prefix}plain_range_p50_ms"] = round(plain_p50, 3)
        out[f"{prefix}plain_range_p95_ms"] = round(plain_p95, 3)
        out[f"{prefix}sealed_range_p50_ms"] = round(sealed_p50, 3)
        out[f"{prefix}sealed_range_p95_ms"] = round(sealed_p95, 3)
        out[f"{prefix}range_p95_ratio"] = round(sealed_p95 / plain_p95, 3)
    return out
