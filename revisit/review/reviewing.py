"""What therapists add to a recording (hold-backs, highlights, a content note) and what clients do
while reviewing (bookmarks, progress, ratings). Every free-text note is sealed."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from revisit.accounts.models import User
from revisit.audit.events import Event
from revisit.audit.services import audit_record
from revisit.recordings.models import Recording
from revisit.review.models import (
    Bookmark,
    ContentNote,
    Highlight,
    HoldBack,
    Rating,
    ReviewProgress,
    Share,
)
from revisit.vault import services as vault
from revisit.vault.models import ObjectKind, SealedObject

MAX_NOTE = 2000


class ReviewError(Exception):
    """Input that cannot be accepted; the message says why."""


def _seal_text(practice_id: object, text: str) -> SealedObject:
    return vault.vault_seal_bytes(
        practice_id=practice_id,  # type: ignore[arg-type]
        kind=ObjectKind.NOTE,
        data=text.encode("utf-8"),
    )


def note_text(sealed: SealedObject | None) -> str:
    if sealed is None:
        return ""
    return vault.vault_read_bytes(sealed, max_bytes=64 * 1024).decode("utf-8")


def _clean_note(text: str) -> str:
    text = text.strip()
    if len(text) > MAX_NOTE:
        raise ReviewError(f"A note can be at most {MAX_NOTE} characters.")
    return text


def _check_time(recording: Recording, at: float) -> float:
    if not 0 <= at <= (recording.duration or 0) + 0.5:
        raise ReviewError("That time is outside the recording.")
    return round(float(at), 3)


def _owner(recording: Recording, actor: User) -> None:
    if recording.therapist_id != actor.pk:
        raise ReviewError("Only the recording's therapist can change this.")


# --- Therapist --------------------------------------------------------------------------------


def holdback_add(
    *, recording: Recording, actor: User, start: float, end: float, reason: str
) -> HoldBack:
    _owner(recording, actor)
    start, end = _check_time(recording, start), _check_time(recording, end)
    if end - start < 0.2:
        raise ReviewError("A held-back range must end after it starts.")
    with transaction.atomic():
        holdback = HoldBack.objects.create(
            recording=recording, start=start, end=end, reason=reason, created_by=actor
        )
        audit_record(
            event=Event.HOLDBACK_CHANGED,
            actor=actor,
            practice=recording.practice_id,
            subject=recording,
            detail={"added": str(holdback.pk), "start": start, "end": end},
        )
        rebuild_client_version(recording)
    return holdback


def holdback_remove(*, holdback: HoldBack, actor: User) -> None:
    recording = holdback.recording
    _owner(recording, actor)
    with transaction.atomic():
        holdback.delete()
        audit_record(
            event=Event.HOLDBACK_CHANGED,
            actor=actor,
            practice=recording.practice_id,
            subject=recording,
            detail={"removed": str(holdback.pk)},
        )
        rebuild_client_version(recording)


def rebuild_client_version(recording: Recording) -> None:
    """Withdraw the client's current version at once, then queue a new one.

    Until it is rebuilt the client can open nothing of the recording: a change to what is held
    back takes effect on the client's very next request, even if no worker is running.
    """
    from revisit.recordings.client_version import drop_client_version
    from revisit.recordings.tasks import enqueue_client_version

    drop_client_version(recording)
    enqueue_client_version(recording)


def highlight_add(*, recording: Recording, actor: User, at: float, note: str) -> Highlight:
    _owner(recording, actor)
    at = _check_time(recording, at)
    with transaction.atomic():
        return Highlight.objects.create(
            recording=recording,
            at=at,
            note=_seal_text(recording.practice_id, _clean_note(note)),
            created_by=actor,
        )


def highlight_remove(*, highlight: Highlight, actor: User) -> None:
    _owner(highlight.recording, actor)
    with transaction.atomic():
        sealed = highlight.note
        highlight.delete()
        vault.vault_shred(sealed, reason="highlight removed", actor=actor)


def content_note_set(*, recording: Recording, actor: User, text: str) -> None:
    _owner(recording, actor)
    text = _clean_note(text)
    with transaction.atomic():
        existing = ContentNote.objects.filter(recording=recording).first()
        if existing is not None:
            old = existing.text
            if text:
                existing.text = _seal_text(recording.practice_id, text)
                existing.updated_at = timezone.now()
                existing.save()
            else:
                existing.delete()
            vault.vault_shred(old, reason="content note replaced", actor=actor)
        elif text:
            ContentNote.objects.create(
                recording=recording, text=_seal_text(recording.practice_id, text)
            )


# --- Client -----------------------------------------------------------------------------------


def _client_of(share: Share, actor: User) -> None:
    if share.client_id != actor.pk or not share.is_active():
        raise ReviewError("This share is not available.")


def bookmark_add(
    *, share: Share, actor: User, at: float, note: str, bring_to_session: bool = False
) -> Bookmark:
    _client_of(share, actor)
    at = _check_time(share.recording, at)
    with transaction.atomic():
        return Bookmark.objects.create(
            share=share,
            client=actor,
            at=at,
            note=_seal_text(share.practice_id, _clean_note(note)),
            bring_to_session=bring_to_session,
        )


def bookmark_update(
    *, bookmark: Bookmark, actor: User, note: str | None, bring: bool | None
) -> None:
    if bookmark.client_id != actor.pk:
        raise ReviewError("This bookmark is not yours.")
    with transaction.atomic():
        if note is not None:
            old = bookmark.note
            bookmark.note = _seal_text(bookmark.share.practice_id, _clean_note(note))
            bookmark.save(update_fields=["note"])
            vault.vault_shred(old, reason="bookmark edited", actor=actor)
        if bring is not None:
            bookmark.bring_to_session = bring
            bookmark.save(update_fields=["bring_to_session"])


def bookmark_remove(*, bookmark: Bookmark, actor: User) -> None:
    if bookmark.client_id != actor.pk:
        raise ReviewError("This bookmark is not yours.")
    with transaction.atomic():
        sealed = bookmark.note
        bookmark.delete()
        vault.vault_shred(sealed, reason="bookmark removed", actor=actor)


def rating_add(
    *, share: Share, actor: User, helpfulness: int, harm: int, comment: str = ""
) -> Rating:
    _client_of(share, actor)
    for name, value in (("helpfulness", helpfulness), ("harm", harm)):
        if not 1 <= value <= 7:
            raise ReviewError(f"{name} must be a whole number from 1 to 7.")
    comment = _clean_note(comment)
    with transaction.atomic():
        rating = Rating.objects.create(
            share=share,
            client=actor,
            helpfulness=helpfulness,
            harm=harm,
            comment=_seal_text(share.practice_id, comment) if comment else None,
        )
        audit_record(
            event=Event.REVIEW_RATED,
            actor=actor,
            practice=share.practice_id,
            subject=share,
            detail={"rating": str(rating.pk)},
        )
    return rating


Span = tuple[float, float]


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 0.5:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlap(spans: list[Span], start: float, end: float) -> list[Span]:
    return [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]


@dataclass(frozen=True)
class ProgressReport:
    position: float
    seconds_played: float
    seconds_replayed: float


def progress_record(
    *, share: Share, actor: User, position: float, played: list[Span]
) -> ProgressReport:
    """Merge the seconds the player reports as played; remember where the client stopped."""
    _client_of(share, actor)
    duration = share.recording.duration or 0
    clean: list[Span] = []
    for start, end in played[:200]:
        start, end = max(0.0, float(start)), min(duration, float(end))
        if end > start:
            clean.append((round(start, 1), round(end, 1)))
    with transaction.atomic():
        progress, _ = ReviewProgress.objects.select_for_update().get_or_create(share=share)
        before = [(float(s), float(e)) for s, e in progress.played]
        replayed = [(float(s), float(e)) for s, e in progress.replays]
        for start, end in clean:
            replayed += _overlap(before, start, end)
        progress.played = [list(span) for span in _merge(before + clean)]
        progress.replays = [list(span) for span in _merge(replayed)]
        progress.position = max(0.0, min(float(position), duration))
        if progress.first_played_at is None and clean:
            progress.first_played_at = timezone.now()
        progress.updated_at = timezone.now()
        progress.save()
    return ProgressReport(
        position=progress.position,
        seconds_played=sum(e - s for s, e in progress.played),
        seconds_replayed=sum(e - s for s, e in progress.replays),
    )
