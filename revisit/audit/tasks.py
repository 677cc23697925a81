"""Background jobs for the audit log."""

from __future__ import annotations

from django_tasks import task

from revisit.audit.services import audit_verify


@task()
def audit_verify_task() -> dict[str, object]:
    """Recompute the chain and check the signed checkpoints in the background; the result names
    the first bad entry or checkpoint, if any."""
    result = audit_verify()
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "checkpoints": result.checkpoints,
        "first_bad_checkpoint": result.first_bad_checkpoint,
    }
