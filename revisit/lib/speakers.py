"""Who is speaking: label transcript words and segments "therapist" or "client".

Two paths, chosen by :func:`label_speakers`:

- **Channels.** When a stereo recording carries one speaker per channel (one microphone each,
  therapist on the left by default), each word goes to the channel that is louder over its time
  span; neighbouring words with the same label form a segment.
- **Clusters.** Otherwise (mono, or stereo with the same sound on both sides) the words are split
  into segments at pauses (:func:`revisit.lib.stt.resplit_at_pauses`, and wherever the audio
  itself is quiet between two words), each segment gets a voice description from the 16 kHz
  audio (the means of 12 MFCCs over its frames, plus the mean and spread of its pitch and how
  much of it is voiced), the descriptions are standardised and split into two groups by
  k-means (k-means++ starts, several restarts, the tightest result kept). A second pass fits
  a Gaussian to each group's MFCC frames and moves every segment to the group whose frames it
  resembles more, until nothing moves.

Which cluster is the therapist (``therapist="auto"``): the one that, per word, asks more questions
and says "you" more often than "I" (counsellors reflect: "you feel...", "what do you..."; clients
tell their own story), with half a question per hundred words in favour of whoever speaks first.
On the 79 AnnoMI counselling transcripts (see ``revisit.testing.sessions``), scored on their text,
this names the therapist in 78; questions alone in 72, speaking first alone in 69, questions and
speaking first together in 74. ``therapist="first"`` or ``"questions"`` picks one rule alone, and
a therapist's correction (:func:`swap_labels`, :func:`relabel`) always wins.

Each segment carries a confidence from 0.5 (a coin toss) to 1.0. No Django, no torch: numpy only.
"""

from __future__ import annotations

import bisect
import math
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from revisit.lib.stt import Segment, Word, resplit_at_pauses

THERAPIST = "therapist"
CLIENT = "client"
SPEAKERS = (THERAPIST, CLIENT)
SAMPLE_RATE = 16_000

Samples = npt.NDArray[np.float32]
Floats = npt.NDArray[np.float64]
TherapistRule = Literal["auto", "first", "questions"]
Method = Literal["channels", "clusters", "none"]

# Frames: 25 ms Hamming windows every 10 ms, the usual choice for MFCCs (Davis & Mermelstein,
# IEEE Trans. ASSP 28(4), 1980; HTK Book, section 5.6).
FRAME = 400
HOP = 160
FFT_SIZE = 512
MEL_BANDS = 40
MFCCS = 13  # c0 (overall level) is used to pick frames, c1..c12 describe the voice
PITCH_FRAME = 640  # 40 ms: two periods of a 50 Hz voice
PITCH_RANGE_HZ = (60.0, 400.0)
VOICED_CORRELATION = 0.5
QUESTION_BONUS = 0.005  # questions per word credited to the first speaker (see module doc)
_WORD = re.compile(r"[a-z']+")
_SECOND_PERSON = frozenset(
    {"you", "you're", "your", "yours", "you've", "yourself", "you'd", "you'll"}
)
_FIRST_PERSON = frozenset({"i", "i'm", "my", "me", "mine", "i've", "i'd", "i'll", "myself"})
DEFAULT_MIN_GAP = 0.3


class SpeakerError(Exception):
    """The audio cannot be used to label speakers (wrong format, wrong rate)."""


@dataclass(frozen=True)
class SpeakerLabels:
    """Segments with ``speaker`` set, and how sure each label is (0.5 to 1.0)."""

    segments: tuple[Segment, ...]
    confidence: tuple[float, ...]
    method: Method


# --- audio ------------------------------------------------------------------------------------


def read_wav(path: Path) -> list[Samples]:
    """The channels of a 16-bit PCM WAV file at 16 kHz as float arrays in [-1, 1]."""
    try:
        with wave.open(str(path), "rb") as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise SpeakerError(f"cannot read the WAV file: {exc}") from exc
    if width != 2 or rate != SAMPLE_RATE:
        raise SpeakerError(f"expected 16-bit PCM at {SAMPLE_RATE} Hz, got {8 * width}-bit {rate}")
    usable = len(raw) - len(raw) % (2 * channels)
    data = np.frombuffer(raw[:usable], dtype="<i2").reshape(-1, channels)
    return [(data[:, c].astype(np.float32) / 32768.0) for c in range(channels)]


def _span(samples: Samples, start: float, end: float) -> Samples:
    first = max(0, int(start * SAMPLE_RATE))
    return samples[first : max(first, math.ceil(end * SAMPLE_RATE))]


def _frames(samples: Samples, size: int) -> Floats:
    if samples.size < size:
        samples = np.pad(samples, (0, size - samples.size))
    count = 1 + (samples.size - size) // HOP
    index = np.arange(size)[np.newaxis, :] + HOP * np.arange(count)[:, np.newaxis]
    frames: Floats = samples[index].astype(np.float64)
    return frames


def _mel_filterbank() -> Floats:
    """Triangular filters evenly spaced on the mel scale (2595 log10(1 + f/700)), 60-7600 Hz."""

    def mel(hz: Floats) -> Floats:
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def hz(m: Floats) -> Floats:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(np.array(60.0)), mel(np.array(7600.0)), MEL_BANDS + 2))
    bins = np.fft.rfftfreq(FFT_SIZE, 1.0 / SAMPLE_RATE)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    bank: Floats = np.maximum(0.0, np.minimum(rising, falling))
    return bank


def _dct_matrix(count: int, size: int) -> Floats:
    """Orthonormal DCT-II rows 0..count-1 for vectors of ``size``."""
    n = np.arange(size)
    k = np.arange(count)[:, None]
    matrix = np.cos(np.pi * k * (2 * n + 1) / (2 * size)) * math.sqrt(2.0 / size)
    matrix[0] /= math.sqrt(2.0)
    return matrix


_MEL = _mel_filterbank()
_DCT = _dct_matrix(MFCCS, MEL_BANDS)
_WINDOW = np.hamming(FRAME)


def mfcc(samples: Samples) -> Floats:
    """MFCCs (frames x 13) of 16 kHz audio: pre-emphasis, Hamming, power spectrum, 40 mel
    bands, log, DCT-II. Coefficient 0 follows the frame's overall level."""
    emphasised = np.append(samples[:1], samples[1:] - 0.97 * samples[:-1]).astype(np.float32)
    frames = _frames(emphasised, FRAME) * _WINDOW
    power = np.abs(np.fft.rfft(frames, FFT_SIZE)) ** 2 / FFT_SIZE
    bands = np.log(np.maximum(power @ _MEL.T, 1e-10))
    coefficients: Floats = bands @ _DCT.T
    return coefficients


def pitch(samples: Samples) -> Floats:
    """Fundamental frequency per 10 ms frame (0.0 where unvoiced), from the peak of the
    normalised autocorrelation within 60-400 Hz, refined by a parabola through the peak."""
    frames = _frames(samples, PITCH_FRAME)
    frames -= frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, 2 * PITCH_FRAME)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2)[:, :PITCH_FRAME]
    energy = correlation[:, :1]
    normalised = correlation / np.maximum(energy, 1e-12)
    low = int(SAMPLE_RATE / PITCH_RANGE_HZ[1])
    high = int(SAMPLE_RATE / PITCH_RANGE_HZ[0])
    window = normalised[:, low : high + 1]
    best = np.argmax(window, axis=1)
    peak = window[np.arange(len(best)), best]
    left = window[np.arange(len(best)), np.maximum(best - 1, 0)]
    right = window[np.arange(len(best)), np.minimum(best + 1, window.shape[1] - 1)]
    curvature = left - 2 * peak + right
    shift = np.where(curvature < 0, 0.5 * (left - right) / np.where(curvature < 0, curvature, 1), 0)
    lag = low + best + shift
    loud = energy[:, 0] > 1e-4 * PITCH_FRAME * max(float(np.max(energy)) / PITCH_FRAME, 1e-8)
    voiced = (peak > VOICED_CORRELATION) & loud
    f0: Floats = np.where(voiced, SAMPLE_RATE / np.maximum(lag, 1.0), 0.0)
    return f0


FEATURES = (MFCCS - 1) + 3


@dataclass(frozen=True)
class Voice:
    """A stretch of audio described for clustering: its summary vector, and the MFCC frames
    (c1..c12) loud enough to be speech, for the frame-level second pass."""

    features: Floats
    frames: Floats


def describe_voice(samples: Samples) -> Voice:
    """MFCC means over the loud frames (within 6 dB-ish of c0's peak), the mean and standard
    deviation of log pitch, and the voiced share. (The spread of each MFCC was tried as well
    and made short sessions cluster worse, so it is left out.)"""
    if samples.size < FRAME:
        return Voice(np.zeros(FEATURES), np.zeros((0, MFCCS - 1)))
    coefficients = mfcc(samples)
    level = coefficients[:, 0]
    speech = coefficients[level >= level.max() - 6.0][:, 1:]
    f0 = pitch(samples)
    voiced = f0[f0 > 0]
    log_f0 = np.log(voiced) if voiced.size else np.zeros(1)
    summary = [log_f0.mean(), log_f0.std(), voiced.size / max(f0.size, 1)]
    return Voice(np.concatenate([speech.mean(axis=0), summary]), speech)


def voice_features(samples: Samples) -> Floats:
    """One vector describing the voice in a stretch of audio (see :func:`describe_voice`)."""
    return describe_voice(samples).features


# --- the channel path -------------------------------------------------------------------------


def _level_db(samples: Samples) -> float:
    if samples.size == 0:
        return -120.0
    return 10.0 * math.log10(float(np.mean(samples.astype(np.float64) ** 2)) + 1e-12)


def channels_are_separate(left: Samples, right: Samples, *, min_share: float = 0.05) -> bool:
    """True when each channel clearly dominates (by 10 dB or more) in at least ``min_share`` of
    the frames with sound: one speaker per microphone, not the same sound on both sides."""
    size = min(left.size, right.size) // 1600 * 1600
    if size == 0:
        return False
    power_l = (left[:size].astype(np.float64) ** 2).reshape(-1, 1600).mean(axis=1) + 1e-12
    power_r = (right[:size].astype(np.float64) ** 2).reshape(-1, 1600).mean(axis=1) + 1e-12
    loudest = max(float(power_l.max()), float(power_r.max()))
    active = np.maximum(power_l, power_r) > loudest * 1e-3
    if not active.any():
        return False
    difference = 10 * np.log10(power_l[active] / power_r[active])
    return bool(np.mean(difference > 10) >= min_share and np.mean(difference < -10) >= min_share)


def label_by_channels(
    words: Sequence[Word],
    left: Samples,
    right: Samples,
    *,
    therapist_channel: Literal[0, 1] = 0,
    min_gap: float = DEFAULT_MIN_GAP,
) -> SpeakerLabels:
    """Label each word by the louder channel over its span; segments break where the label
    changes or at a pause of ``min_gap`` seconds."""
    labelled: list[tuple[Word, str, float]] = []
    for word in words:
        start, end = word.start, max(word.end, word.start + 0.05)
        difference = _level_db(_span(left, start, end)) - _level_db(_span(right, start, end))
        on_left = difference >= 0
        speaker = THERAPIST if on_left == (therapist_channel == 0) else CLIENT
        labelled.append((word, speaker, 0.5 + 0.5 * math.tanh(abs(difference) / 10.0)))
    segments: list[Segment] = []
    confidence: list[float] = []
    run: list[tuple[Word, str, float]] = []
    for item in [*labelled, None]:
        if run and (
            item is None or item[1] != run[-1][1] or item[0].start - run[-1][0].end >= min_gap
        ):
            (segment,) = resplit_at_pauses([w for w, _, _ in run], math.inf)
            segments.append(replace(segment, speaker=run[0][1]))
            confidence.append(round(float(np.mean([c for _, _, c in run])), 3))
            run = []
        if item is not None:
            run.append(item)
    return SpeakerLabels(tuple(segments), tuple(confidence), "channels")


# --- the clustering path ----------------------------------------------------------------------


def _kmeans(points: Floats, weights: Floats, *, restarts: int, seed: int) -> npt.NDArray[np.intp]:
    """Two clusters by weighted k-means with k-means++ starts; the lowest inertia wins."""
    rng = np.random.default_rng(seed)
    best: tuple[float, npt.NDArray[np.intp]] | None = None
    for _ in range(restarts):
        first = points[rng.choice(len(points), p=weights / weights.sum())]
        distance = ((points - first) ** 2).sum(axis=1) * weights
        if distance.sum() <= 0:
            second = first
        else:
            second = points[rng.choice(len(points), p=distance / distance.sum())]
        centres = np.stack([first, second])
        labels = np.zeros(len(points), dtype=np.intp)
        for _iteration in range(100):
            distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
            new = np.argmin(distances, axis=1)
            if _iteration and np.array_equal(new, labels):
                break
            labels = new
            for k in range(2):
                if (labels == k).any():
                    mask = labels == k
                    centres[k] = np.average(points[mask], axis=0, weights=weights[mask])
        inertia = float((distances[np.arange(len(points)), labels] * weights).sum())
        if best is None or inertia < best[0]:
            best = (inertia, labels)
    assert best is not None  # restarts >= 1
    return best[1]


def _standardise(points: Floats) -> Floats:
    spread = points.std(axis=0)
    scaled: Floats = (points - points.mean(axis=0)) / np.where(spread > 1e-9, spread, 1.0)
    return scaled


def _therapist_cluster(
    segments: Sequence[Segment], labels: npt.NDArray[np.intp], rule: TherapistRule
) -> int:
    first = int(labels[0])
    if rule == "first":
        return first
    scores = []
    for k in range(2):
        texts = [s.text for s, label in zip(segments, labels, strict=True) if label == k]
        words = [w for t in texts for w in _WORD.findall(t.lower())]
        count = max(len(words), 1)
        rate = sum(t.count("?") for t in texts) / count
        if rule == "auto":
            you = sum(1 for w in words if w in _SECOND_PERSON) / count
            own = sum(1 for w in words if w in _FIRST_PERSON) / count
            rate += you - own + (QUESTION_BONUS if k == first else 0.0)
        scores.append(rate)
    if scores[0] == scores[1]:
        return first
    return int(np.argmax(scores))


def silences(samples: Samples, *, min_length: float = DEFAULT_MIN_GAP) -> list[tuple[float, float]]:
    """Quiet stretches of at least ``min_length`` seconds: 10 ms frames whose level is in the
    lowest 30% of the range between the recording's quiet (5th percentile) and loud (95th)."""
    count = samples.size // HOP
    if count == 0:
        return []
    power = (samples[: count * HOP].astype(np.float64) ** 2).reshape(count, HOP).mean(axis=1)
    level = 10 * np.log10(power + 1e-10)
    floor, loud = np.percentile(level, [5, 95])
    quiet = np.concatenate([[False], level < floor + 0.3 * (loud - floor), [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    frame_s = HOP / SAMPLE_RATE
    return [
        (float(a * frame_s), float(b * frame_s))
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if (b - a) * frame_s >= min_length
    ]


def split_segments(
    words: Sequence[Word], quiet: Sequence[tuple[float, float]], *, min_gap: float
) -> list[Segment]:
    """Segments broken at word gaps of ``min_gap`` and wherever a quiet stretch of the audio
    falls between two words' midpoints (speech recognisers often stretch word times across a
    short pause, so the audio is the better witness of where one speaker stops)."""
    cuts = sorted((a + b) / 2 for a, b in quiet)
    out: list[Segment] = []
    for segment in resplit_at_pauses(words, min_gap):
        group: list[Word] = []
        for word in segment.words:
            if group:
                before = (group[-1].start + group[-1].end) / 2
                after = (word.start + word.end) / 2
                at = bisect.bisect_right(cuts, before)
                if at < len(cuts) and cuts[at] < after:
                    out += resplit_at_pauses(group, math.inf)
                    group = []
            group.append(word)
        out += resplit_at_pauses(group, math.inf)
    return out


def _frame_scores(frames: Sequence[Floats], labels: npt.NDArray[np.intp]) -> Floats:
    """Mean log-likelihood of each segment's frames under a diagonal Gaussian fitted to each
    cluster's frames: (segments, 2)."""
    scores = np.zeros((len(frames), 2))
    for k in range(2):
        pooled = [f for f, label in zip(frames, labels, strict=True) if label == k and len(f)]
        if not pooled:
            scores[:, k] = -np.inf
            continue
        stacked = np.vstack(pooled)
        mean, var = stacked.mean(axis=0), stacked.var(axis=0) + 1e-3
        for i, f in enumerate(frames):
            if len(f):
                scores[i, k] = float((-0.5 * (((f - mean) ** 2) / var + np.log(var)).sum(1)).mean())
    return scores


def _resegment(
    frames: Sequence[Floats], labels: npt.NDArray[np.intp], *, rounds: int = 5
) -> tuple[npt.NDArray[np.intp], Floats]:
    """Reassign each segment to the cluster whose frame model explains it better, refit, and
    repeat until nothing moves. Many frames per segment weigh more than one summary vector, so
    short or odd segments that k-means misplaced come back. Returns labels and the per-frame
    log-likelihood margin of each segment's label."""
    scores = _frame_scores(frames, labels)
    for _round in range(rounds):
        empty = np.array([len(f) == 0 for f in frames])
        moved = np.where(empty, labels, np.argmax(scores, axis=1))
        if np.array_equal(moved, labels) or moved.min() == moved.max():
            break
        labels = moved
        scores = _frame_scores(frames, labels)
    index = np.arange(len(labels))
    margin: Floats = scores[index, labels] - scores[index, 1 - labels]
    return labels, np.nan_to_num(margin, nan=0.0, posinf=10.0, neginf=-10.0)


def label_by_clustering(
    words: Sequence[Word],
    samples: Samples,
    *,
    min_gap: float = DEFAULT_MIN_GAP,
    therapist: TherapistRule = "auto",
    restarts: int = 10,
    seed: int = 0,
) -> SpeakerLabels:
    """Label the segments of a single-channel recording by clustering their voices: k-means on
    the standardised segment features, then a frame-level second pass (:func:`_resegment`)."""
    segments = split_segments(words, silences(samples, min_length=min_gap), min_gap=min_gap)
    if not segments:
        return SpeakerLabels((), (), "clusters")
    if len(segments) == 1:
        return SpeakerLabels((replace(segments[0], speaker=THERAPIST),), (0.5,), "none")
    voices = [describe_voice(_span(samples, s.start, s.end)) for s in segments]
    points = _standardise(np.stack([v.features for v in voices]))
    durations = np.array([max(s.end - s.start, 0.05) for s in segments])
    labels = _kmeans(points, durations, restarts=restarts, seed=seed)
    if labels.min() == labels.max():
        labels[np.argmax(((points - points.mean(axis=0)) ** 2).sum(axis=1))] = 1 - labels[0]
    labels, margin = _resegment([v.frames for v in voices], labels)
    confidence = 1.0 / (1.0 + np.exp(-np.maximum(margin, 0.0) * 2.0))
    therapist_k = _therapist_cluster(segments, labels, therapist)
    out = tuple(
        replace(s, speaker=THERAPIST if label == therapist_k else CLIENT)
        for s, label in zip(segments, labels, strict=True)
    )
    return SpeakerLabels(out, tuple(round(float(c), 3) for c in confidence), "clusters")


def label_speakers(
    words: Sequence[Word],
    channels: Sequence[Samples],
    *,
    therapist_channel: Literal[0, 1] = 0,
    min_gap: float = DEFAULT_MIN_GAP,
    therapist: TherapistRule = "auto",
) -> SpeakerLabels:
    """Label ``words`` using one or two 16 kHz channels (see the module doc for the paths)."""
    if not channels:
        raise SpeakerError("no audio channels given")
    if len(channels) >= 2 and channels_are_separate(channels[0], channels[1]):
        return label_by_channels(
            words, channels[0], channels[1], therapist_channel=therapist_channel, min_gap=min_gap
        )
    if len(channels) == 1:
        mono = channels[0]
    else:
        size = min(c.size for c in channels)
        mono = np.mean([c[:size] for c in channels], axis=0).astype(np.float32)
    return label_by_clustering(words, mono, min_gap=min_gap, therapist=therapist)


# --- corrections ------------------------------------------------------------------------------


def swap_labels(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """Every "therapist" becomes "client" and the other way round; other labels stay."""
    swap = {THERAPIST: CLIENT, CLIENT: THERAPIST}
    return tuple(
        replace(s, speaker=swap.get(s.speaker, s.speaker) if s.speaker else None) for s in segments
    )


def relabel(
    segments: Sequence[Segment], *, segment_index: int, speaker: str
) -> tuple[Segment, ...]:
    """A copy with one segment's speaker set to ``speaker`` ("therapist" or "client")."""
    if speaker not in SPEAKERS:
        raise ValueError(f"speaker must be one of {SPEAKERS}; got {speaker!r}")
    if not 0 <= segment_index < len(segments):
        raise IndexError(f"no segment {segment_index}; there are {len(segments)}")
    out = list(segments)
    out[segment_index] = replace(out[segment_index], speaker=speaker)
    return tuple(out)
