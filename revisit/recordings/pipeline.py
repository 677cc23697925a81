"""Processing a recording: from a sealed original to sealed renditions, transcript and captions.

One job per recording runs the steps in order. Each step is idempotent and recorded
(`ProcessingStep`: status, attempts, error, timings), so a job that dies part-way (even by kill -9)
is picked up by another worker and carries on from the first unfinished step. The original is
decrypted once per job into a private scratch folder that is removed when the job ends.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.lib.ffmpeg import FfmpegError
from revisit.lib.ffprobe import MediaInfo, probe
from revisit.lib.stt import Transcript
from revisit.recordings.models import (
    ConsentScope,
    ProcessingStep,
    Recording,
    RecordingStatus,
    Rendition,
    RenditionKind,
    StepStatus,
)
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind
from revisit.vault.plaintext import private_folder, write_private

log = logging.getLogger("revisit.pipeline")

MAX_ATTEMPTS = 3


class StepFailed(Exception):
    """A step failed for a reason retrying will not fix; `message` is shown to the therapist."""

    def __init__(self, message: str, *, essential: bool) -> None:
        super().__init__(message)
        self.message = message
        self.essential = essential


class StepSkipped(Exception):
    """The step does not apply (no consent, no video, ...); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobTaken(Exception):
    """Another worker holds this recording's job lease."""


@dataclass
class Job:
    recording: Recording
    folder: Path
    original: Path
    info: MediaInfo
    report: Callable[[float], None]
    notes: list[str] = field(default_factory=list)

    def scratch(self, name: str) -> Path:
        return self.folder / name

    def seconds(self, start: float = 0.0, share: float = 1.0) -> Callable[[float], None]:
        """A progress callback for tools that report seconds of media processed."""
        duration = max(self.info.duration_s, 0.001)
        return lambda seconds: self.report(start + share * min(1.0, seconds / duration))


def rendition_store(
    *,
    recording: Recording,
    kind: RenditionKind,
    path: Path | None = None,
    data: bytes | None = None,
    variant: str = "full",
) -> Rendition:
    """Seal a produced file (or bytes) as a rendition, replacing an earlier one of the same kind."""
    with transaction.atomic():
        if path is not None:
            with open(path, "rb") as source:
                sealed = vault.vault_seal(
                    practice_id=recording.practice_id, kind=ObjectKind.RENDITION, source=source
                )
        else:
            sealed = vault.vault_seal_bytes(
                practice_id=recording.practice_id, kind=ObjectKind.RENDITION, data=data or b""
            )
        old = Rendition.objects.filter(recording=recording, kind=kind, variant=variant).first()
        if old is not None:
            old_sealed = old.sealed
            old.delete()
            vault.vault_shred(old_sealed, reason="replaced")
        return Rendition.objects.create(
            recording=recording, kind=kind, variant=variant, sealed=sealed
        )


# --- Steps --------------------------------------------------------------------------------------


def step_av(job: Job) -> None:
    """The browser MP4 (remuxed when possible) and the audio-only M4A: what sharing needs."""
    from revisit.lib.renditions import make_audio_m4a, make_mp4

    if job.info.video is not None:
        mp4 = job.scratch("video.mp4")
        make_mp4(job.original, mp4, job.info, progress=job.seconds(0.0, 0.7))
        rendition_store(recording=job.recording, kind=RenditionKind.VIDEO, path=mp4)
        mp4.unlink()
    m4a = job.scratch("audio.m4a")
    make_audio_m4a(job.original, m4a, info=job.info, progress=job.seconds(0.7, 0.3))
    rendition_store(recording=job.recording, kind=RenditionKind.AUDIO, path=m4a)
    m4a.unlink()
    Recording.objects.filter(pk=job.recording.pk, shareable_at=None).update(
        shareable_at=timezone.now()
    )


def step_poster(job: Job) -> None:
    from revisit.lib.renditions import make_poster

    if job.info.video is None:
        raise StepSkipped("audio-only recording")
    poster = job.scratch("poster.jpg")
    make_poster(job.original, poster, job.info)
    rendition_store(recording=job.recording, kind=RenditionKind.POSTER, path=poster)


def step_waveform(job: Job) -> None:
    from revisit.lib.waveform import waveform_peaks

    peaks = waveform_peaks(job.original, peaks_per_second=10, progress=job.seconds())
    body = json.dumps({"peaks_per_second": 10, "peaks": [round(p, 3) for p in peaks]})
    rendition_store(recording=job.recording, kind=RenditionKind.WAVEFORM, data=body.encode())


def step_check(job: Job) -> None:
    """Decode everything once: headers can look fine while the data is damaged part-way."""
    from revisit.lib.media_check import decode_check

    report = decode_check(
        job.original, timeout_s=max(600.0, job.info.duration_s * 2), progress=job.seconds()
    )
    if not report.ok:
        minutes, seconds = divmod(int(report.decoded_s), 60)
        raise StepFailed(
            f"The recording looks damaged from about {minutes}:{seconds:02d}; playback may stop "
            "or skip there. The original is kept.",
            essential=False,
        )


def step_transcript(job: Job) -> None:
    from revisit.lib import stt
    from revisit.lib.models_store import ModelStoreError
    from revisit.lib.renditions import extract_wav16k
    from revisit.recordings.consent import consent_current
    from revisit.recordings.speech import speech_model

    if consent_current(client=job.recording.client, scope=ConsentScope.TRANSCRIPTION) is None:
        raise StepSkipped("the client has not consented to automatic transcription")
    try:
        model = speech_model()
    except ModelStoreError as exc:
        raise StepFailed(f"Transcript unavailable: {exc}", essential=False) from None
    wav = job.scratch("speech.wav")
    extract_wav16k(job.original, wav, info=job.info)
    try:
        transcript = stt.transcribe(model, wav, progress=job.report)
    except stt.SttError as exc:
        raise StepFailed(f"Transcript unavailable: {exc}", essential=False) from None
    finally:
        wav.unlink(missing_ok=True)
    transcript_store(job.recording, transcript)


def _stored_transcript(job: Job) -> Transcript:
    from revisit.recordings.selectors import full_transcript

    transcript = full_transcript(job.recording)
    if transcript is None:
        raise StepSkipped("there is no transcript")
    return transcript


def transcript_store(
    recording: Recording, transcript: Transcript, *, variant: str = "full"
) -> None:
    """Seal a transcript and its captions (speakers named as the client will see them)."""
    from revisit.lib.stt import to_webvtt

    rendition_store(
        recording=recording,
        kind=RenditionKind.TRANSCRIPT,
        data=transcript.to_json().encode(),
        variant=variant,
    )
    captions = to_webvtt(transcript, speaker_names=SPEAKER_NAMES)
    rendition_store(
        recording=recording, kind=RenditionKind.CAPTIONS, data=captions.encode(), variant=variant
    )


SPEAKER_NAMES = {"therapist": "Therapist", "client": "You"}


def step_speakers(job: Job) -> None:
    """Label who speaks: by channel when each speaker has their own, else by voice."""
    from revisit.lib.renditions import extract_wav16k
    from revisit.lib.speakers import SpeakerError, label_speakers, read_wav

    transcript = _stored_transcript(job)
    words = transcript.words()
    if not words:
        raise StepSkipped("the transcript is empty")
    audio = job.info.audio
    channel_count = audio.channels if audio is not None and audio.channels else 1
    channels = []
    for channel in [0, 1] if channel_count == 2 else [None]:
        wav = job.scratch(f"speakers-{channel}.wav")
        extract_wav16k(job.original, wav, channel=channel, info=job.info)
        channels += read_wav(wav)
        wav.unlink()
    try:
        labels = label_speakers(words, channels)
    except SpeakerError as exc:
        raise StepFailed(f"Speakers could not be told apart: {exc}", essential=False) from None
    labelled = Transcript(
        language=transcript.language,
        duration=transcript.duration,
        segments=labels.segments,
        model=transcript.model,
    )
    transcript_store(job.recording, labelled)


def step_chapters(job: Job) -> None:
    from revisit.lib.chapters import make_chapters
    from revisit.recordings.speech import sentence_embedder

    transcript = _stored_transcript(job)
    chapters = make_chapters(transcript, sentence_embedder()) if transcript.segments else []
    body = [{"start": c.start, "end": c.end, "title": c.title} for c in chapters]
    rendition_store(
        recording=job.recording, kind=RenditionKind.CHAPTERS, data=json.dumps(body).encode()
    )


def step_search(job: Job) -> None:
    from revisit.lib.search_index import SearchIndex
    from revisit.recordings.speech import sentence_embedder

    transcript = _stored_transcript(job)
    index = SearchIndex.from_transcript(transcript, sentence_embedder())
    rendition_store(recording=job.recording, kind=RenditionKind.SEARCH, data=index.to_bytes())


# (name, function, share of the progress bar, essential: a failure fails the recording)
STEPS: list[tuple[str, Callable[[Job], None], float, bool]] = [
    ("renditions", step_av, 0.30, True),
    ("poster", step_poster, 0.03, False),
    ("waveform", step_waveform, 0.05, False),
    ("check", step_check, 0.07, False),
    ("transcript", step_transcript, 0.37, False),
    ("speakers", step_speakers, 0.04, False),
    ("chapters", step_chapters, 0.02, False),
    ("search", step_search, 0.02, False),
]


# --- The job ------------------------------------------------------------------------------------


def job_lease() -> timedelta:
    return timedelta(seconds=settings.JOB_LEASE_S)


def _take_lease(recording: Recording) -> bool:
    now = timezone.now()
    from django.db.models import Q

    return bool(
        Recording.objects.filter(pk=recording.pk, status=RecordingStatus.PROCESSING)
        .filter(Q(job_lease_until=None) | Q(job_lease_until__lt=now))
        .update(job_lease_until=now + job_lease(), job_attempts=recording.job_attempts + 1)
    )


def _progress_reporter(
    recording: Recording, done_before: float, weight: float
) -> Callable[[float], None]:
    last = [0.0]

    def report(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and fraction < 1.0:
            return
        last[0] = now
        value = min(0.99, done_before + weight * max(0.0, min(1.0, fraction)))
        Recording.objects.filter(pk=recording.pk).update(
            progress=value,
            updated_at=timezone.now(),
            job_lease_until=timezone.now() + job_lease(),
        )

    return report


def _finish(recording: Recording, *, status: RecordingStatus, error: str = "") -> None:
    now = timezone.now()
    with transaction.atomic():
        Recording.objects.filter(pk=recording.pk).update(
            status=status,
            error=error[:300],
            progress=1.0 if status == RecordingStatus.READY else recording.progress,
            ready_at=now if status == RecordingStatus.READY else None,
            updated_at=now,
            job_lease_until=None,
        )
        audit_record(
            event=Event.PROCESSING_FINISHED
            if status == RecordingStatus.READY
            else Event.PROCESSING_FAILED,
            actor=None,
            practice=recording.practice_id,
            subject=recording,
            detail={"status": str(status)},
        )


def recording_process(*, recording_id: str) -> str:
    """Run (or resume) the processing job of one recording. Returns the resulting status.

    Raises for a transient failure, so the task is retried with backoff by `process_recording`.
    """
    recording = Recording.objects.select_related("original", "client").get(pk=recording_id)
    if recording.status != RecordingStatus.PROCESSING:
        return str(recording.status)
    if not _take_lease(recording):
        raise JobTaken(recording_id)
    recording.refresh_from_db()
    notes: list[str] = []
    try:
        if recording.original is None:
            _finish(
                recording, status=RecordingStatus.FAILED, error="The recording has no original."
            )
            return RecordingStatus.FAILED
        with private_folder() as folder:
            reader = vault.vault_reader(recording.original)
            original = write_private(folder, "original", reader.iter_all())
            try:
                info = probe(original)
            except FfmpegError:
                _finish(
                    recording,
                    status=RecordingStatus.FAILED,
                    error="The recording could not be read. The original is kept.",
                )
                return RecordingStatus.FAILED
            done_before = 0.0
            for name, function, weight, essential in STEPS:
                step, _ = ProcessingStep.objects.get_or_create(
                    recording=recording, name=name, defaults={"status": StepStatus.RUNNING}
                )
                if step.status in (StepStatus.DONE, StepStatus.SKIPPED) or (
                    step.status == StepStatus.FAILED and not essential
                ):
                    if step.status == StepStatus.FAILED:
                        notes.append(step.error)
                    done_before += weight
                    continue
                report = _progress_reporter(recording, done_before, weight)
                job = Job(recording, folder, original, info, report)
                step.status, step.attempts = StepStatus.RUNNING, step.attempts + 1
                step.started_at, step.error = timezone.now(), ""
                step.save()
                started = time.monotonic()
                try:
                    function(job)
                except StepSkipped as skipped:
                    step.status, step.error = StepStatus.SKIPPED, skipped.reason[:300]
                except StepFailed as failed:
                    step.status, step.error = StepStatus.FAILED, failed.message[:300]
                    if essential:
                        _save_step(step, started)
                        _finish(recording, status=RecordingStatus.FAILED, error=failed.message)
                        return RecordingStatus.FAILED
                    notes.append(failed.message)
                except FfmpegError as exc:
                    step.status, step.error = StepStatus.FAILED, "ffmpeg could not process it"
                    log.warning("step %s of recording %s failed: %s", name, recording.pk, exc)
                    if essential:
                        _save_step(step, started)
                        _finish(
                            recording,
                            status=RecordingStatus.FAILED,
                            error="The recording could not be converted for playback. "
                            "The original is kept.",
                        )
                        return RecordingStatus.FAILED
                    notes.append(f"{name} unavailable")
                except Exception as exc:
                    step.status, step.error = StepStatus.FAILED, f"{type(exc).__name__}"[:300]
                    _save_step(step, started)
                    if step.attempts >= MAX_ATTEMPTS:
                        _finish(
                            recording,
                            status=RecordingStatus.FAILED,
                            error=f"Processing failed at the {name} step after "
                            f"{step.attempts} attempts. The original is kept.",
                        )
                        return RecordingStatus.FAILED
                    Recording.objects.filter(pk=recording.pk).update(job_lease_until=None)
                    raise
                else:
                    step.status = StepStatus.DONE
                _save_step(step, started)
                done_before += weight
                report(1.0)
    except BaseException:
        Recording.objects.filter(pk=recording.pk).update(job_lease_until=None)
        raise
    _finish(recording, status=RecordingStatus.READY, error="; ".join(n for n in notes if n))
    return RecordingStatus.READY


def _save_step(step: ProcessingStep, started: float) -> None:
    step.finished_at = timezone.now()
    step.seconds = round(time.monotonic() - started, 3)
    step.save()
