"""Peaks for drawing a recording's waveform in the player.

ffmpeg decodes the first audio stream to mono 32-bit float samples on a pipe; numpy takes the
largest absolute sample in each bucket as the audio streams past, so memory stays small for any
length. The peaks are scaled so the loudest is 1.0.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from revisit.lib.ffmpeg import BASE_ARGS, FFMPEG, ProgressCallback, input_args, run_streaming

# Decoding rate: enough to catch the peaks of speech, small enough to be quick.
BASE_RATE = 8000
MAX_PEAKS_PER_SECOND = 1000
# Quieter than -60 dBFS at its loudest counts as silence: it is drawn flat, not scaled up.
SILENCE_FLOOR = 10 ** (-60 / 20)
READ_BYTES = 1 << 16
DEFAULT_TIMEOUT_S = 3600.0
DECIMALS = 4


def waveform_peaks(
    src: Path,
    *,
    peaks_per_second: int,
    progress: ProgressCallback | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> list[float]:
    """One peak per ``1 / peaks_per_second`` of audio, each in 0..1.

    The last peak covers whatever is left over at the end, so a 2.5 s recording at 10 peaks a
    second gives 25 peaks.
    """
    if not 1 <= peaks_per_second <= MAX_PEAKS_PER_SECOND:
        raise ValueError(f"peaks_per_second must be 1 to {MAX_PEAKS_PER_SECOND}")
    bucket = math.ceil(BASE_RATE / peaks_per_second)
    rate = bucket * peaks_per_second
    collector = _PeakCollector(bucket=bucket, rate=rate, progress=progress)
    args = [
        *BASE_ARGS,
        *input_args(src),
        "-map",
        "0:a:0",
        "-vn",
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-c:a",
        "pcm_f32le",
        "-f",
        "f32le",
        "pipe:1",
    ]
    run_streaming(FFMPEG, args, timeout_s=timeout_s, paths=[src], consume=collector.consume)
    return collector.result()


class _PeakCollector:
    def __init__(self, *, bucket: int, rate: int, progress: ProgressCallback | None) -> None:
        self.bucket = bucket
        self.rate = rate
        self.progress = progress
        self.peaks: list[npt.NDArray[np.float32]] = []
        self.pending = np.zeros(0, dtype=np.float32)
        self.samples = 0

    def consume(self, stdout: IO[bytes]) -> None:
        leftover = b""
        while chunk := stdout.read(READ_BYTES):
            data = leftover + chunk
            usable = len(data) - len(data) % 4
            leftover = data[usable:]
            samples = np.frombuffer(data[:usable], dtype="<f4")
            self.samples += samples.size
            self._add(samples)
            if self.progress is not None:
                self.progress(self.samples / self.rate)

    def _add(self, samples: npt.NDArray[np.float32]) -> None:
        pending = np.concatenate([self.pending, samples])
        whole = pending.size - pending.size % self.bucket
        if whole:
            blocks = np.abs(pending[:whole]).reshape(-1, self.bucket)
            self.peaks.append(blocks.max(axis=1))
        self.pending = pending[whole:]

    def result(self) -> list[float]:
        if self.pending.size:
            self.peaks.append(np.abs(self.pending).max(keepdims=True))
        if not self.peaks:
            return []
        peaks = np.nan_to_num(np.concatenate(self.peaks).astype(np.float64), nan=0.0, posinf=1.0)
        peaks = np.clip(peaks, 0.0, None)
        loudest = float(peaks.max())
        if loudest < SILENCE_FLOOR:
            return [0.0] * int(peaks.size)
        scaled = np.round(np.minimum(peaks / loudest, 1.0), DECIMALS)
        return [float(x) for x in scaled]
