from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks import TaskResultStatus

from revisit.audit.events import Event
from revisit.audit.services import audit_checkpoint, audit_record
from revisit.audit.tasks import audit_verify_task


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_queued_task_to_completion_with_the_database_worker(key_file: Path):
    with transaction.atomic():
        audit_record(event=Event.SIGN_IN)
        audit_record(event=Event.SIGN_OUT)
    audit_checkpoint()
    queued = audit_verify_task.enqueue()
    assert queued.status == TaskResultStatus.READY
    call_command("db_worker", batch=True, interval=0.1, startup_delay=False, verbosity=0)
    done = audit_verify_task.get_result(queued.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == {
        "ok": True,
        "checked": 2,
        "first_bad_seq": None,
        "checkpoints": 1,
        "first_bad_checkpoint": None,
    }
