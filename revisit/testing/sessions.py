"""Realistic test sessions with known ground truth, spoken from real counselling dialogues.

The dialogues come from AnnoMI: Wu Z., Balloccu S., Kumar V., Helaoui R., Reiter E., Reforgiato
Recupero D., Riboni D., "Anno-MI: A Dataset of Expert-Annotated Counselling Dialogues",
ICASSP 2022, pp. 6177-6181, doi:10.1109/ICASSP43922.2022.9746035. The development copy lives in
``/work/shared/data/annomi/annomi-dev.csv`` (override with ``REVISIT_ANNOMI_CSV``).

Each utterance is spoken by ``espeak-ng`` (two processes at a time) in one voice per speaker,
trimmed of its own leading and trailing silence, and laid on a timeline with short pauses drawn
from a seeded generator, so the same inputs always give the same session. The ground truth
(JSON) records every utterance's start, end, speaker and text, and where each transcript (topic)
begins and ends when several are joined. Output is mono (voices mixed) or stereo (therapist
left, client right), as WAV, M4A, or video (an ffmpeg test pattern) in MP4 or WebM.

Command line: ``python -m revisit.testing.sessions --transcript 3 --out DIR [--format mp4]``.

:func:`make_test_clip` makes the tiny synthetic clips (test pattern and tone) that the media
tests use.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import wave
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

CITATION = (
    "Wu Z., Balloccu S., Kumar V., Helaoui R., Reiter E., Reforgiato Recupero D., Riboni D. "
    '"Anno-MI: A Dataset of Expert-Annotated Counselling Dialogues", ICASSP 2022, '
    "pp. 6177-6181, doi:10.1109/ICASSP43922.2022.9746035"
)
# The dataset lives in the shared folder beside the checkout (REVISIT_ANNOMI_CSV overrides).
_BESIDE_CHECKOUT = Path(__file__).resolve().parents[2].parent / "shared/data/annomi/annomi-dev.csv"
DEFAULT_CSV = (
    _BESIDE_CHECKOUT
    if _BESIDE_CHECKOUT.exists()
    else Path("/work/shared/data/annomi/annomi-dev.csv")
)
SPEAKERS = ("therapist", "client")
SYNTH_RATE = 22050  # espeak-ng's own output rate; the timeline is built at this rate
# espeak-ng pads each utterance with quiet; samples below this (about -40 dBFS) are trimmed.
TRIM_LEVEL = 328
TOOL_TIMEOUT_S = 120.0

Layout = Literal["mono", "stereo"]
Container = Literal["wav", "m4a", "mp4", "webm"]
CONTAINERS: tuple[Container, ...] = ("wav", "m4a", "mp4", "webm")


class SessionError(Exception):
    """A session could not be made (missing transcript, silent utterance, tool failure)."""


@dataclass(frozen=True)
class Utterance:
    speaker: str  # "therapist" or "client"
    text: str
    transcript_id: int | None = None
    utterance_id: int | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Voices:
    therapist: str = "en-us+m3"
    client: str = "en-us+f3"

    def for_speaker(self, speaker: str) -> str:
        if speaker == "therapist":
            return self.therapist
        if speaker == "client":
            return self.client
        raise SessionError(f"unknown speaker {speaker!r}")


MALE_PAIR = Voices(therapist="en-us+m3", client="en-us+m7")


@dataclass(frozen=True)
class SessionOptions:
    layout: Layout = "stereo"
    container: Container = "mp4"
    voices: Voices = field(default_factory=Voices)
    pause_s: tuple[float, float] = (0.4, 0.9)
    topic_gap_s: float = 2.0  # silence between joined transcripts
    lead_s: float = 0.5  # silence before the first and after the last utterance
    max_seconds: float | None = None  # whole session; stops at an utterance boundary
    max_utterances: int | None = None  # per transcript
    words_per_minute: int = 175
    sample_rate: int = 48000  # of the output file (WebM always uses 48 kHz for Opus)
    video_size: str = "640x360"
    video_rate: int = 25
    video_crf: int = 28
    video_preset: str = "veryfast"
    audio_bitrate: str = "128k"
    seed: int = 0
    jobs: int = 2


@dataclass(frozen=True)
class SpokenUtterance:
    start: float
    end: float
    speaker: str
    text: str
    transcript_id: int | None
    utterance_id: int | None


@dataclass(frozen=True)
class TopicSpan:
    start: float
    end: float
    transcript_id: int | None
    topic: str | None


@dataclass(frozen=True)
class GroundTruth:
    duration_s: float
    layout: Layout
    container: Container
    channels: dict[str, str]  # speaker -> "left" / "right" / "both"
    voices: dict[str, str]
    utterances: list[SpokenUtterance]
    topics: list[TopicSpan]
    source: str = CITATION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        data = json.loads(text)
        data["utterances"] = [SpokenUtterance(**u) for u in data["utterances"]]
        data["topics"] = [TopicSpan(**t) for t in data["topics"]]
        return cls(**data)


@dataclass(frozen=True)
class GeneratedSession:
    media: Path
    truth_path: Path
    truth: GroundTruth


# ---------------------------------------------------------------------------------------------
# The dataset


def annomi_csv() -> Path:
    return Path(os.environ.get("REVISIT_ANNOMI_CSV", DEFAULT_CSV))


def load_transcript(transcript_id: int, *, csv_path: Path | None = None) -> list[Utterance]:
    """The utterances of one AnnoMI transcript, in order."""
    rows = [
        row
        for row in _read_rows(csv_path or annomi_csv())
        if int(row["transcript_id"]) == transcript_id
    ]
    if not rows:
        raise SessionError(f"transcript {transcript_id} is not in the dataset")
    rows.sort(key=lambda row: int(row["utterance_id"]))
    return [
        Utterance(
            speaker=row["interlocutor"],
            text=row["utterance_text"],
            transcript_id=transcript_id,
            utterance_id=int(row["utterance_id"]),
            topic=row["topic"].strip(),
        )
        for row in rows
    ]


def list_transcripts(*, csv_path: Path | None = None) -> dict[int, str]:
    """Transcript id -> topic."""
    topics: dict[int, str] = {}
    for row in _read_rows(csv_path or annomi_csv()):
        topics.setdefault(int(row["transcript_id"]), row["topic"].strip())
    return dict(sorted(topics.items()))


def _read_rows(csv_path: Path) -> Iterator[dict[str, str]]:
    if not csv_path.exists():
        raise SessionError(f"AnnoMI CSV not found at {csv_path} (set REVISIT_ANNOMI_CSV)")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


# ---------------------------------------------------------------------------------------------
# Speech


def speak(text: str, *, voice: str, words_per_minute: int = 175) -> npt.NDArray[np.int16]:
    """``text`` spoken by espeak-ng at 22.05 kHz, leading and trailing quiet trimmed.

    The text follows ``--`` so that an utterance such as ``-and you usually...`` is spoken, not
    parsed as an option. Raises :class:`SessionError` if espeak-ng produced no audible sound.
    """
    try:
        completed = subprocess.run(
            [_tool("espeak-ng"), "-v", voice, "-s", str(words_per_minute), "--stdout", "--", text],
            capture_output=True,
            check=True,
            timeout=TOOL_TIMEOUT_S,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise SessionError(f"espeak-ng failed: {exc}") from None
    samples, rate = _read_wav(completed.stdout)
    if rate != SYNTH_RATE:
        samples = _resample(samples, rate, SYNTH_RATE)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > TRIM_LEVEL)
    if loud.size == 0:
        raise SessionError(f"espeak-ng produced no audio for {text[:40]!r}")
    return samples[loud[0] : loud[-1] + 1]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SessionError(f"{name} is not installed (Debian package {name})")
    return path


def _read_wav(raw: bytes) -> tuple[npt.NDArray[np.int16], int]:
    # espeak-ng writing to a pipe cannot seek back to fix the header's lengths, so read what
    # is there rather than what the header claims.
    try:
        with wave.open(io.BytesIO(raw)) as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise SessionError(f"espeak-ng wrote no readable WAV ({exc})") from None
    if width != 2:
        raise SessionError("espeak-ng wrote an unexpected sample format")
    usable = len(frames) - len(frames) % (2 * channels)
    samples = np.frombuffer(frames[:usable], dtype="<i2").reshape(-1, channels)[:, 0]
    return samples.astype(np.int16), rate


def _resample(samples: npt.NDArray[np.int16], rate: int, target: int) -> npt.NDArray[np.int16]:
    """Linear resampling: plenty for synthetic test speech."""
    count = max(1, round(samples.size * target / rate))
    positions = np.arange(count) * (rate / target)
    values = np.interp(positions, np.arange(samples.size), samples.astype(np.float64))
    resampled: npt.NDArray[np.int16] = np.round(values).astype(np.int16)
    return resampled


# ---------------------------------------------------------------------------------------------
# Building a session


def make_session(
    transcript_ids: Sequence[int],
    out_dir: Path,
    *,
    options: SessionOptions | None = None,
    csv_path: Path | None = None,
    name: str = "session",
) -> GeneratedSession:
    """Speak one or more AnnoMI transcripts (joined in the given order) into ``out_dir``."""
    parts = [load_transcript(tid, csv_path=csv_path) for tid in transcript_ids]
    return build_session(parts, out_dir, options=options, name=name)


def build_session(
    parts: Sequence[Sequence[Utterance]],
    out_dir: Path,
    *,
    options: SessionOptions | None = None,
    name: str = "session",
) -> GeneratedSession:
    """Speak the utterances of each part (a transcript, one topic) into a session in ``out_dir``.

    Writes ``<name>.<container>`` and ``<name>.json`` (the :class:`GroundTruth`).
    """
    opts = options or SessionOptions()
    if opts.container not in CONTAINERS:
        raise SessionError(f"unknown container {opts.container!r}")
    if not 0 <= opts.pause_s[0] <= opts.pause_s[1]:
        raise SessionError("pause_s must be (low, high) with 0 <= low <= high")
    if opts.max_utterances is not None:
        parts = [list(part)[: opts.max_utterances] for part in parts]
    timeline = _Timeline(opts)
    timeline.lay_out(parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    media = out_dir / f"{name}.{opts.container}"
    _encode(timeline.pcm(), media, opts)
    truth = timeline.truth()
    truth_path = out_dir / f"{name}.json"
    truth_path.write_text(truth.to_json(), encoding="utf-8")
    return GeneratedSession(media=media, truth_path=truth_path, truth=truth)


class _Timeline:
    def __init__(self, opts: SessionOptions) -> None:
        self.opts = opts
        self.rng = random.Random(opts.seed)  # reproducible pauses, not secrets
        self.pieces: list[tuple[int, str, npt.NDArray[np.int16]]] = []  # offset, speaker, audio
        self.utterances: list[SpokenUtterance] = []
        self.topics: list[TopicSpan] = []
        self.cursor = self._samples(opts.lead_s)
        limit = opts.max_seconds
        self.limit = None if limit is None else self._samples(limit - opts.lead_s)

    @staticmethod
    def _samples(seconds: float) -> int:
        return max(0, round(seconds * SYNTH_RATE))

    @staticmethod
    def _seconds(samples: int) -> float:
        return round(samples / SYNTH_RATE, 3)

    def lay_out(self, parts: Sequence[Sequence[Utterance]]) -> None:
        flat = [(index, u) for index, part in enumerate(parts) for u in part]
        spoken = contextlib.closing(self._spoken(flat))  # stops the speakers on an early break
        with spoken as audios:
            self._place(flat, audios)

    def _place(
        self,
        flat: Sequence[tuple[int, Utterance]],
        audios: Iterator[npt.NDArray[np.int16]],
    ) -> None:
        current: tuple[int, int, Utterance] | None = None  # part, start, first utterance
        for (part, utterance), audio in zip(flat, audios, strict=False):
            if current is None:
                gap = 0
            elif part != current[0]:
                gap = self._samples(self.opts.topic_gap_s)
            else:
                gap = self._samples(self.rng.uniform(*self.opts.pause_s))
            start = self.cursor + gap
            if self.limit is not None and start + audio.size > self.limit:
                break
            if current is None or part != current[0]:
                if current is not None:
                    self._close_topic(current[1], current[2])
                current = (part, start, utterance)
            self.pieces.append((start, utterance.speaker, audio))
            self.cursor = start + audio.size
            self.utterances.append(
                SpokenUtterance(
                    start=self._seconds(start),
                    end=self._seconds(self.cursor),
                    speaker=utterance.speaker,
                    text=utterance.text,
                    transcript_id=utterance.transcript_id,
                    utterance_id=utterance.utterance_id,
                )
            )
        if current is None:
            raise SessionError("no utterance fits in the session")
        self._close_topic(current[1], current[2])
        self.cursor += self._samples(self.opts.lead_s)

    def _close_topic(self, start: int, first: Utterance) -> None:
        end = self.pieces[-1][0] + self.pieces[-1][2].size
        self.topics.append(
            TopicSpan(
                start=self._seconds(start),
                end=self._seconds(end),
                transcript_id=first.transcript_id,
                topic=first.topic,
            )
        )

    def _spoken(
        self, flat: Sequence[tuple[int, Utterance]]
    ) -> Generator[npt.NDArray[np.int16], None, None]:
        """Speech for each utterance in order, ``jobs`` espeak-ng processes at a time."""
        opts = self.opts
        window = max(1, opts.jobs) * 2
        with ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
            pending: list[Future[npt.NDArray[np.int16]]] = []
            items = iter(flat)
            try:
                while True:
                    while len(pending) < window:
                        item = next(items, None)
                        if item is None:
                            break
                        _, utterance = item
                        voice = opts.voices.for_speaker(utterance.speaker)
                        pending.append(
                            pool.submit(
                                speak,
                                utterance.text,
                                voice=voice,
                                words_per_minute=opts.words_per_minute,
                            )
                        )
                    if not pending:
                        return
                    yield pending.pop(0).result()
            finally:
                for future in pending:
                    future.cancel()

    def pcm(self) -> _Pcm:
        channels = 2 if self.opts.layout == "stereo" else 1
        mix = np.zeros((self.cursor, channels), dtype=np.int16)
        for start, speaker, audio in self.pieces:
            column = SPEAKERS.index(speaker) if channels == 2 else 0
            mix[start : start + audio.size, column] = audio
        return _Pcm(data=mix, rate=SYNTH_RATE)

    def truth(self) -> GroundTruth:
        stereo = self.opts.layout == "stereo"
        return GroundTruth(
            duration_s=self._seconds(self.cursor),
            layout=self.opts.layout,
            container=self.opts.container,
            channels={
                "therapist": "left" if stereo else "both",
                "client": "right" if stereo else "both",
            },
            voices={"therapist": self.opts.voices.therapist, "client": self.opts.voices.client},
            utterances=self.utterances,
            topics=self.topics,
        )


@dataclass(frozen=True)
class _Pcm:
    data: npt.NDArray[np.int16]  # samples x channels
    rate: int


def _encode(pcm: _Pcm, media: Path, opts: SessionOptions) -> None:
    channels = pcm.data.shape[1]
    duration = pcm.data.shape[0] / pcm.rate
    args = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y"]
    args += ["-f", "s16le", "-ar", str(pcm.rate), "-ac", str(channels), "-i", "pipe:0"]
    video = opts.container in ("mp4", "webm")
    if video:
        pattern = f"testsrc2=size={opts.video_size}:rate={opts.video_rate}:duration={duration:.3f}"
        args += ["-f", "lavfi", "-i", pattern, "-map", "1:v", "-map", "0:a"]
    rate = 48000 if opts.container == "webm" else opts.sample_rate
    args += ["-ar", str(rate)]
    gop = str(2 * opts.video_rate)
    if opts.container == "wav":
        args += ["-c:a", "pcm_s16le", "-f", "wav"]
    elif opts.container == "m4a":
        args += ["-c:a", "aac", "-b:a", opts.audio_bitrate, "-f", "mp4"]
    elif opts.container == "mp4":
        args += ["-c:v", "libx264", "-preset", opts.video_preset, "-crf", str(opts.video_crf)]
        args += ["-pix_fmt", "yuv420p", "-g", gop, "-c:a", "aac", "-b:a", opts.audio_bitrate]
        args += ["-f", "mp4"]
    else:
        args += ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k"]
        args += ["-g", gop, "-c:a", "libopus", "-b:a", opts.audio_bitrate, "-f", "webm"]
    if opts.container in ("m4a", "mp4"):
        args += ["-movflags", "+faststart"]
    # One encoder thread and bit-exact flags make the same inputs give the same bytes: with two
    # threads, x264 here gave different bytes on each run.
    args += ["-threads", "1", "-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1"]
    args += ["file:" + os.fspath(media)]
    try:
        subprocess.run(
            args,
            input=pcm.data.astype("<i2").tobytes(),
            capture_output=True,
            check=True,
            timeout=TOOL_TIMEOUT_S + 2 * duration,
        )
    except subprocess.CalledProcessError as exc:
        tail = exc.stderr.decode("utf-8", errors="replace")[-1000:]
        raise SessionError(f"ffmpeg could not write the session: {tail}") from None
    except subprocess.TimeoutExpired:
        raise SessionError("ffmpeg timed out writing the session") from None


# ---------------------------------------------------------------------------------------------
# Tiny synthetic clips for media tests


def make_test_clip(
    dst: Path,
    *,
    seconds: float = 1.0,
    container: str = "mp4",
    video_codec: str | None = "libx264",
    audio_codec: str | None = "aac",
    size: str = "320x240",
    fps: int = 25,
    sample_rate: int = 48000,
    channel_layout: str = "stereo",
    silent: bool = False,
    tags: Mapping[str, str] | None = None,
    extra: Iterable[str] = (),
) -> Path:
    """A clip of ``testsrc2`` and a 440 Hz tone (or silence), encoded as asked.

    ``video_codec`` / ``audio_codec`` None leaves that stream out; ``tags`` become global
    metadata; ``extra`` goes just before the output (e.g. ``("-pix_fmt", "yuv444p")``).
    """
    args = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y"]
    outputs: list[str] = []
    inputs = 0
    if video_codec is not None:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
        outputs += ["-map", f"{inputs}:v"]
        inputs += 1
    if audio_codec is not None:
        source = (
            f"anullsrc=r={sample_rate}:cl={channel_layout}"
            if silent
            else f"sine=frequency=440:sample_rate={sample_rate}"
        )
        args += ["-f", "lavfi", "-t", str(seconds), "-i", source]
        outputs += ["-map", f"{inputs}:a", "-filter:a", f"aformat=channel_layouts={channel_layout}"]
    args += outputs
    if video_codec is not None:
        args += ["-c:v", video_codec]
        if video_codec == "libx264":
            args += ["-preset", "ultrafast"]
        if video_codec.startswith("libvpx"):
            args += ["-deadline", "realtime", "-cpu-used", "8"]
    if audio_codec is not None:
        args += ["-c:a", audio_codec]
    for key, value in (tags or {}).items():
        args += ["-metadata", f"{key}={value}"]
    args += [*extra, "-f", container, "file:" + os.fspath(dst)]
    try:
        subprocess.run(args, capture_output=True, check=True, timeout=TOOL_TIMEOUT_S)
    except subprocess.CalledProcessError as exc:
        tail = exc.stderr.decode("utf-8", errors="replace")[-1000:]
        raise SessionError(f"ffmpeg could not make the clip: {tail}") from None
    return dst


def decode_pcm(path: Path, *, rate: int = 16000, channels: int = 1) -> npt.NDArray[np.float32]:
    """The first audio stream of ``path`` as float samples (rows) x ``channels`` (columns).

    For checking generated media against its ground truth: levels over time, per channel.
    """
    args = [_tool("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-i", "file:" + str(path)]
    args += ["-map", "0:a:0", "-ac", str(channels), "-ar", str(rate), "-f", "f32le", "pipe:1"]
    completed = subprocess.run(args, capture_output=True, check=True, timeout=TOOL_TIMEOUT_S)
    usable = len(completed.stdout) - len(completed.stdout) % (4 * channels)
    samples = np.frombuffer(completed.stdout[:usable], dtype="<f4").reshape(-1, channels)
    return samples.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m revisit.testing.sessions",
        description="Speak AnnoMI counselling transcripts into a test session with ground truth.",
    )
    parser.add_argument("--transcript", type=int, action="append", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default="session")
    parser.add_argument("--format", choices=CONTAINERS, default="mp4")
    parser.add_argument("--layout", choices=("mono", "stereo"), default="stereo")
    parser.add_argument("--max-seconds", type=float)
    parser.add_argument("--max-utterances", type=int, help="per transcript")
    parser.add_argument("--pause", type=float, nargs=2, default=(0.4, 0.9), metavar=("MIN", "MAX"))
    parser.add_argument("--male-pair", action="store_true", help="client voice en-us+m7")
    parser.add_argument("--video-size", default="640x360")
    parser.add_argument("--video-crf", type=int, default=28)
    parser.add_argument("--video-preset", default="veryfast", help="x264 preset (MP4 only)")
    parser.add_argument("--audio-bitrate", default="128k")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path)
    ns = parser.parse_args(argv)
    options = SessionOptions(
        layout=ns.layout,
        container=ns.format,
        voices=MALE_PAIR if ns.male_pair else Voices(),
        pause_s=(ns.pause[0], ns.pause[1]),
        max_seconds=ns.max_seconds,
        max_utterances=ns.max_utterances,
        video_size=ns.video_size,
        video_crf=ns.video_crf,
        video_preset=ns.video_preset,
        audio_bitrate=ns.audio_bitrate,
        seed=ns.seed,
    )
    began = time.monotonic()
    try:
        session = make_session(
            ns.transcript, ns.out, options=options, csv_path=ns.csv, name=ns.name
        )
    except SessionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = {
        "media": str(session.media),
        "truth": str(session.truth_path),
        "duration_s": session.truth.duration_s,
        "utterances": len(session.truth.utterances),
        "topics": [t.topic for t in session.truth.topics],
        "elapsed_s": round(time.monotonic() - began, 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
