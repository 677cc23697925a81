"""Speech-to-text with faster-whisper: load a local model, transcribe a file, write WebVTT.

The transcript is plain frozen dataclasses with a JSON form, so the rest of Revisit never touches
faster-whisper objects. Models load only from a local folder (see ``models_store``); nothing is
fetched from a model hub. faster-whisper and ctranslate2 are imported on first use, so the
transcript types and :func:`to_webvtt` work in processes that never transcribe.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from revisit.lib.models_store import (
    MODEL_SETTING,
    REQUIRED_FILES,
    ModelCorruptError,
    ModelMissingError,
)

SAMPLE_RATE = 16_000
TRANSCRIPT_FORMAT = 1

# Caption limits from the Netflix English Timed Text Style Guide: 42 characters per line,
# 2 lines at most, 7 s at most and 5/6 s at least per event
# (https://partnerhelp.netflixstudios.com/hc/en-us/articles/217350977).
MAX_LINE_CHARS = 42
MAX_CUE_SECONDS = 7.0
MAX_CUE_MS = 7000
MIN_CUE_MS = 833  # 5/6 s

Device = Literal["auto", "cpu", "cuda"]


class SttError(Exception):
    """Base class for speech-to-text failures other than model problems."""


class AudioDecodeError(SttError):
    """The audio file is missing or cannot be decoded."""


class TranscriptionError(SttError):
    """The model failed while decoding (for example, out of memory on the GPU)."""


class TranscriptFormatError(SttError):
    """A stored transcript is not valid transcript JSON."""


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str  # without surrounding whitespace
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...] = ()
    model: str = ""

    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": TRANSCRIPT_FORMAT,
            "language": self.language,
            "duration": self.duration,
            "model": self.model,
            "segments": [
                {
                    "start": s.start,
                    "end": s.end,
                    "speaker": s.speaker,
                    "text": s.text,
                    "words": [
                        {
                            "start": w.start,
                            "end": w.end,
                            "text": w.text,
                            "probability": w.probability,
                        }
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: object) -> Transcript:
        obj = _mapping(data, "transcript")
        if obj.get("format") != TRANSCRIPT_FORMAT:
            raise TranscriptFormatError(f"unsupported transcript format {obj.get('format')!r}")
        segments = tuple(_segment(item) for item in _list(obj, "segments"))
        return cls(
            language=_str(obj, "language"),
            duration=_num(obj, "duration"),
            segments=segments,
            model=_str(obj, "model"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Transcript:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise TranscriptFormatError(f"transcript is not JSON: {exc}") from exc
        return cls.from_dict(data)


def _mapping(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise TranscriptFormatError(f"{what} must be an object")
    return value


def _list(obj: Mapping[str, object], key: str) -> list[object]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise TranscriptFormatError(f"{key!r} must be a list")
    return value


def _str(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise TranscriptFormatError(f"{key!r} must be a string")
    return value


def _num(obj: Mapping[str, object], key: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TranscriptFormatError(f"{key!r} must be a finite number")
    return float(value)


def _word(data: object) -> Word:
    obj = _mapping(data, "word")
    word = Word(_num(obj, "start"), _num(obj, "end"), _str(obj, "text"), _num(obj, "probability"))
    if word.end < word.start:
        raise TranscriptFormatError("a word ends before it starts")
    return word


def _segment(data: object) -> Segment:
    obj = _mapping(data, "segment")
    speaker = obj.get("speaker")
    if speaker is not None and not isinstance(speaker, str):
        raise TranscriptFormatError("'speaker' must be a string or null")
    segment = Segment(
        start=_num(obj, "start"),
        end=_num(obj, "end"),
        text=_str(obj, "text"),
        words=tuple(_word(item) for item in _list(obj, "words")),
        speaker=speaker,
    )
    if segment.end < segment.start:
        raise TranscriptFormatError("a segment ends before it starts")
    return segment


@dataclass(frozen=True)
class SpeechModel:
    """A loaded Whisper model and how it runs."""

    folder: Path
    device: str
    compute_type: str
    whisper: Any = field(repr=False)  # faster_whisper.WhisperModel (untyped library)

    @property
    def name(self) -> str:
        return self.folder.name


def load_model(folder: Path, *, device: Device = "auto", threads: int = 2) -> SpeechModel:
    """Load a CTranslate2 Whisper folder: int8 on CPU, float16 when a CUDA GPU is present.

    Raises :class:`ModelMissingError` when the folder or a file is missing and
    :class:`ModelCorruptError` when CTranslate2 cannot read it. Hash checks are
    ``models_store.verify``'s job (run it once when a worker starts).
    """
    folder = Path(folder)
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelMissingError(
            f"The speech model folder {folder} is missing or lacks {', '.join(missing)}; "
            f"fix {MODEL_SETTING} or install the model (revisit models install NAME)."
        )
    import ctranslate2
    from faster_whisper import WhisperModel

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = "float16" if device == "cuda" else "int8"
    try:
        whisper = WhisperModel(
            str(folder),
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )
    except Exception as exc:  # CTranslate2 raises RuntimeError or a bare Exception
        raise ModelCorruptError(
            f"The speech model in {folder} cannot be loaded ({exc}); reinstall it or fix "
            f"{MODEL_SETTING}."
        ) from exc
    return SpeechModel(folder=folder, device=device, compute_type=compute_type, whisper=whisper)


def transcribe(
    model: SpeechModel,
    wav_path: Path,
    *,
    language: str = "en",
    beam_size: int = 5,
    vad: bool = True,
    word_timestamps: bool = True,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe an audio file; silence or zero-length audio gives a transcript with no segments.

    ``vad`` uses the Silero VAD model bundled with faster-whisper (offline). ``progress`` is
    called with the fraction of the audio done, ending with 1.0.
    """
    import av.error
    from faster_whisper import decode_audio

    try:
        audio = decode_audio(os.fspath(wav_path), sampling_rate=SAMPLE_RATE)
    except IndexError as exc:  # faster-whisper's decoder indexes the first audio stream
        raise AudioDecodeError("the file has no audio stream") from exc
    except (OSError, ValueError, av.error.FFmpegError) as exc:
        raise AudioDecodeError(f"cannot decode audio: {exc}") from exc
    duration = round(audio.shape[0] / SAMPLE_RATE, 3)
    segments: list[Segment] = []
    done = 0.0
    if audio.shape[0] > 0:
        try:
            raw_segments, _info = model.whisper.transcribe(
                audio,
                language=language,
                beam_size=beam_size,
                vad_filter=vad,
                word_timestamps=word_timestamps,
            )
            for raw in raw_segments:  # a generator: decoding happens while iterating
                segment = _convert_segment(raw, duration)
                if segment.text or segment.words:
                    segments.append(segment)
                done = max(done, min(1.0, segment.end / duration))
                if progress is not None:
                    progress(done)
        except RuntimeError as exc:  # CTranslate2 reports failures as RuntimeError
            raise TranscriptionError(f"transcription failed: {exc}") from exc
    if progress is not None:
        progress(1.0)
    return Transcript(
        language=language, duration=duration, segments=tuple(segments), model=model.name
    )


def _clamp(value: float, duration: float) -> float:
    return round(min(max(float(value), 0.0), duration), 3)


def _convert_segment(raw: Any, duration: float) -> Segment:
    words = []
    for raw_word in raw.words or ():
        text = str(raw_word.word).strip()
        if not text:
            continue
        start = _clamp(raw_word.start, duration)
        end = max(start, _clamp(raw_word.end, duration))
        words.append(Word(start, end, text, round(float(raw_word.probability), 4)))
    start = _clamp(raw.start, duration)
    return Segment(
        start=start,
        end=max(start, _clamp(raw.end, duration)),
        text=" ".join(str(raw.text).split()),
        words=tuple(words),
    )


def resplit_at_pauses(words: Sequence[Word], min_gap: float) -> list[Segment]:
    """Group consecutive words into segments, starting a new one wherever a pause between two
    words is at least ``min_gap`` seconds (so a segment does not mix speakers across a pause).

    Words are joined with spaces, which suits languages written with spaces between words.
    """
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.start - groups[-1][-1].end < min_gap:
            groups[-1].append(word)
        else:
            groups.append([word])
    return [
        Segment(
            start=group[0].start,
            end=max(w.end for w in group),
            text=" ".join(w.text for w in group),
            words=tuple(group),
        )
        for group in groups
    ]


# --- WebVTT (https://www.w3.org/TR/webvtt1/) -------------------------------------------------


def _escape(text: str) -> str:
    # Escaping "<" and ">" also removes every "-->" from cue text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timestamp(seconds: float) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, with any token longer than a line hard-broken."""
    out: list[str] = []
    for token in text.split():
        out += [token[i : i + MAX_LINE_CHARS] for i in range(0, len(token), MAX_LINE_CHARS)]
    return out


def _wrap(tokens: Sequence[str]) -> list[str] | None:
    """One line if it fits, else the most balanced two lines that fit, else ``None``."""
    line = " ".join(tokens)
    if len(line) <= MAX_LINE_CHARS:
        return [line]
    best: list[str] | None = None
    for cut in range(1, len(tokens)):
        first, second = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        if len(first) > MAX_LINE_CHARS or len(second) > MAX_LINE_CHARS:
            continue
        if best is None or max(len(first), len(second)) < max(map(len, best)):
            best = [first, second]
    return best


@dataclass
class _Cue:
    start: float
    end: float
    tokens: list[str]
    speaker: str | None


def _cues_from_words(segment: Segment) -> list[_Cue]:
    cues: list[_Cue] = []
    for word in segment.words:
        for token in _tokens(word.text):
            current = cues[-1] if cues else None
            if (
                current is not None
                and word.end - current.start <= MAX_CUE_SECONDS
                and _wrap([*current.tokens, token]) is not None
            ):
                current.tokens.append(token)
                current.end = max(current.end, word.end)
            else:
                cues.append(_Cue(word.start, word.end, [token], segment.speaker))
    return cues


def _cues_from_text(segment: Segment) -> list[_Cue]:
    """Without word times: split the text into pieces that fit, timed by their share of letters."""
    pieces: list[list[str]] = []
    for token in _tokens(segment.text):
        if pieces and _wrap(pieces[-1] + [token]) is not None:
            pieces[-1].append(token)
        else:
            pieces.append([token])
    span = segment.end - segment.start
    needed = math.ceil(span / MAX_CUE_SECONDS) if span > 0 else 1
    while len(pieces) < needed and any(len(p) > 1 for p in pieces):
        longest = max(range(len(pieces)), key=lambda i: len(" ".join(pieces[i])))
        if len(pieces[longest]) < 2:
            break
        half = len(pieces[longest]) // 2
        pieces[longest : longest + 1] = [pieces[longest][:half], pieces[longest][half:]]
    total = sum(len(" ".join(p)) for p in pieces) or 1
    cues, start = [], segment.start
    for piece in pieces:
        end = start + span * len(" ".join(piece)) / total
        cues.append(_Cue(start, end, piece, segment.speaker))
        start = end
    return cues


def _finish_times(cues: list[_Cue]) -> None:
    """Order cues by start (WebVTT requires it), round times to whole milliseconds, and give
    each cue at least the minimum display time (without running into the next cue) and at
    most the maximum."""
    cues.sort(key=lambda cue: cue.start)
    starts = [round(max(cue.start, 0.0) * 1000) for cue in cues]
    for index, cue in enumerate(cues):
        start = starts[index]
        limit = starts[index + 1] if index + 1 < len(cues) else start + MAX_CUE_MS
        end = min(round(cue.end * 1000), start + MAX_CUE_MS)
        if end - start < MIN_CUE_MS:
            end = max(end, min(start + MIN_CUE_MS, limit))
        cue.start, cue.end = start / 1000, max(end, start + 1) / 1000


def to_webvtt(transcript: Transcript, *, speaker_names: Mapping[str, str] | None = None) -> str:
    """Captions as WebVTT: cues of at most two lines of 42 characters and about 7 seconds.

    A segment's ``speaker`` becomes a voice span (``<v Name>``), named through
    ``speaker_names`` when given (a speaker missing from it keeps its label).
    """
    cues: list[_Cue] = []
    for segment in transcript.segments:
        cues += _cues_from_words(segment) if segment.words else _cues_from_text(segment)
    cues = [cue for cue in cues if cue.tokens]
    _finish_times(cues)
    blocks = ["WEBVTT"]
    for cue in cues:
        lines = _wrap(cue.tokens) or [" ".join(cue.tokens)]
        text = "\n".join(_escape(line) for line in lines)
        if cue.speaker is not None:
            name = (speaker_names or {}).get(cue.speaker, cue.speaker)
            text = f"<v {_escape(' '.join(name.split()) or '?')}>{text}"
        blocks.append(f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}\n{text}")
    return "\n\n".join(blocks) + "\n"
