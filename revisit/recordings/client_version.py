"""The client's version of a recording: held-back ranges silenced, blacked out and removed.

Produced from the sealed original whenever the therapist changes what is held back. Until it is
ready a client can fetch nothing of the recording (access asks for the "client" variant, which
does not exist yet): holding something back takes effect at once, and never leaks meanwhile.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from revisit.lib.ffprobe import probe
from revisit.lib.stt import Segment, Transcript, to_webvtt
from revisit.recordings.models import Recording, Rendition, RenditionKind
from revisit.recordings.pipeline import SPEAKER_NAMES, rendition_store
from revisit.recordings.selectors import full_transcript
from revisit.vault import services as vault
from revisit.vault.plaintext import private_folder, write_private

CLIENT = "client"
Span = tuple[float, float]


def held_ranges(recording: Recording) -> list[Span]:
    spans = sorted((h.start, h.end) for h in recording.holdbacks.all())
    merged: list[Span] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlaps(start: float, end: float, spans: list[Span]) -> bool:
    return any(start < e and end > s for s, e in spans)


def transcript_without(transcript: Transcript, spans: list[Span]) -> Transcript:
    """Drop every word that touches a held-back range; segments keep only what is left."""
    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            if not _overlaps(segment.start, segment.end, spans):
                segments.append(segment)
            continue
        kept = tuple(w for w in segment.words if not _overlaps(w.start, w.end, spans))
        if not kept:
            continue
        segments.append(
            Segment(
                start=kept[0].start,
                end=kept[-1].end,
                text=" ".join(w.text for w in kept),
                words=kept,
                speaker=segment.speaker,
            )
        )
    return Transcript(
        language=transcript.language,
        duration=transcript.duration,
        segments=tuple(segments),
        model=transcript.model,
    )


def drop_client_version(recording: Recording) -> None:
    for rendition in Rendition.objects.filter(recording=recording, variant=CLIENT):
        sealed = rendition.sealed
        rendition.delete()
        vault.vault_shred(sealed, reason="client version replaced")


def client_version_make(*, recording_id: str) -> int:
    """(Re)build the client's version; returns how many renditions it has (0: none needed)."""
    from revisit.lib.renditions import blackout_and_silence, make_audio_m4a, make_mp4, make_poster
    from revisit.lib.waveform import waveform_peaks

    recording = Recording.objects.select_related("original").get(pk=recording_id)
    spans = held_ranges(recording)
    with transaction.atomic():
        drop_client_version(recording)
    if not spans or recording.original is None:
        return 0
    made = 0
    with private_folder() as folder:
        original = write_private(
            folder, "original", vault.vault_reader(recording.original).iter_all()
        )
        info = probe(original)
        suffix = ".mp4" if info.video is not None else ".m4a"
        masked = Path(folder) / f"masked{suffix}"
        blackout_and_silence(original, masked, spans, info)
        masked_info = probe(masked)

        def store(kind: RenditionKind, path: Path | None = None, data: bytes | None = None) -> None:
            nonlocal made
            rendition_store(recording=recording, kind=kind, path=path, data=data, variant=CLIENT)
            made += 1

        if masked_info.video is not None:
            mp4 = Path(folder) / "client.mp4"
            make_mp4(masked, mp4, masked_info)
            store(RenditionKind.VIDEO, path=mp4)
            poster = Path(folder) / "client.jpg"
            if make_poster(masked, poster, masked_info):
                store(RenditionKind.POSTER, path=poster)
        m4a = Path(folder) / "client.m4a"
        make_audio_m4a(masked, m4a, info=masked_info)
        store(RenditionKind.AUDIO, path=m4a)
        peaks = waveform_peaks(masked, peaks_per_second=10)
        waveform = {"peaks_per_second": 10, "peaks": [round(p, 3) for p in peaks]}
        store(RenditionKind.WAVEFORM, data=json.dumps(waveform).encode())
    transcript = full_transcript(recording)
    if transcript is not None:
        kept = transcript_without(transcript, spans)
        store(RenditionKind.TRANSCRIPT, data=kept.to_json().encode())
        store(RenditionKind.CAPTIONS, data=to_webvtt(kept, speaker_names=SPEAKER_NAMES).encode())
        if kept.segments:
            # Titles and the search index come from what the client may read, nothing else.
            from revisit.lib.chapters import make_chapters
            from revisit.lib.search_index import SearchIndex
            from revisit.recordings.speech import sentence_embedder

            embedder = sentence_embedder()
            chapters = [
                {"start": c.start, "end": c.end, "title": c.title}
                for c in make_chapters(kept, embedder)
            ]
            store(RenditionKind.CHAPTERS, data=json.dumps(chapters).encode())
            index = SearchIndex.from_transcript(kept, embedder)
            store(RenditionKind.SEARCH, data=index.to_bytes())
    return made
