"""Background jobs for recordings: processing, and the periodic upkeep of uploads and jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from revisit.recordings.models import Recording, RecordingStatus

log = logging.getLogger("revisit.tasks")

RETRY_BASE_S = 15


@task()
def process_recording(recording_id: str, attempt: int = 1) -> str:
    """Run a recording's processing job; on a transient error, retry later with backoff."""
    from revisit.recordings.pipeline import JobTaken, recording_process

    try:
        return recording_process(recording_id=recording_id)
    except JobTaken:
        return "taken by another worker"
    except Exception:
        log.exception(
            "processing recording %s failed (attempt %s); retrying", recording_id, attempt
        )
        delay = timedelta(seconds=RETRY_BASE_S * 2 ** (attempt - 1))
        process_recording.using(run_after=timezone.now() + delay).enqueue(recording_id, attempt + 1)
        return "retry scheduled"


def enqueue_processing(recording: Recording) -> None:
    """Queue the job once the transaction that created the recording has committed."""
    recording_id = str(recording.pk)
    transaction.on_commit(lambda: process_recording.enqueue(recording_id))


def recordings_resume_stalled(*, older_than: timedelta | None = None) -> int:
    """Re-queue jobs whose worker died (kill -9, power loss): their lease ran out mid-job."""
    from django.conf import settings

    if older_than is None:
        older_than = timedelta(seconds=max(60, settings.JOB_LEASE_S))
    now = timezone.now()
    stalled = Recording.objects.filter(status=RecordingStatus.PROCESSING).filter(
        Q(job_lease_until__lt=now) | Q(job_lease_until=None, updated_at__lt=now - older_than)
    )
    count = 0
    for recording in stalled:
        # Push the deadline first, so a second scheduler does not queue it again.
        if Recording.objects.filter(pk=recording.pk, updated_at=recording.updated_at).update(
            updated_at=now, job_lease_until=None
        ):
            process_recording.enqueue(str(recording.pk))
            count += 1
    return count


@task()
def sweep_expired_uploads() -> int:
    from revisit.recordings.uploads import uploads_sweep_expired

    return uploads_sweep_expired()


@task()
def make_client_version(recording_id: str) -> int:
    from revisit.recordings.client_version import client_version_make

    return client_version_make(recording_id=recording_id)


def enqueue_client_version(recording: Recording) -> None:
    recording_id = str(recording.pk)
    transaction.on_commit(lambda: make_client_version.enqueue(recording_id))
