"""Periodic upkeep, run by every `revisit worker` in a background thread.

Each job is safe to run from several workers at once: they claim rows with conditional updates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

log = logging.getLogger("revisit.scheduler")


def _resume_stalled() -> object:
    from revisit.recordings.tasks import recordings_resume_stalled

    return recordings_resume_stalled()


def _sweep_uploads() -> object:
    from revisit.recordings.uploads import uploads_complete_stranded, uploads_sweep_expired

    return uploads_complete_stranded(), uploads_sweep_expired()


def _sweep_scratch() -> object:
    from revisit.vault.plaintext import sweep_scratch

    return sweep_scratch()


def _audit_checkpoint() -> object:
    from revisit.audit.services import audit_checkpoint

    return audit_checkpoint()  # signs only when entries were added since the last checkpoint


def periodic() -> list[tuple[float, Callable[[], object]]]:
    """(every N seconds, job). Stalled jobs are looked for a few times per lease."""
    from django.conf import settings

    from revisit.retention.run import retention_run

    return [
        (max(2.0, min(30.0, settings.JOB_LEASE_S / 3)), _resume_stalled),
        (60.0, _sweep_uploads),
        (60.0, _sweep_scratch),
        (600.0, _audit_checkpoint),
        (24 * 3600.0, retention_run),  # expired shares, retention, withdrawn consent
    ]


def run_due(last_run: dict[Callable[[], object], float], now: float) -> None:
    for every, job in periodic():
        if now - last_run.get(job, 0.0) < every:
            continue
        last_run[job] = now
        try:
            job()
        except Exception:
            log.exception("periodic job %s failed; it will run again", job.__name__)
        finally:
            close_old_connections()


def start(stop: threading.Event, *, tick: float = 1.0) -> threading.Thread:
    def loop() -> None:
        last_run: dict[Callable[[], object], float] = {}
        while not stop.is_set():
            run_due(last_run, time.monotonic())
            stop.wait(tick)

    thread = threading.Thread(target=loop, name="revisit-scheduler", daemon=True)
    thread.start()
    return thread
