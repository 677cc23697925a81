"""Checks run before `revisit serve` and `revisit up` accept a single request.

Every system check runs (the deployment ones too when REVISIT_PUBLIC_URL is https://), and the
blob store is tried for real. Errors stop the start with a message naming what to fix; warnings
are printed and the start goes on.
"""

from __future__ import annotations

import sys
from typing import TextIO

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def startup_checks(*, out: TextIO | None = None) -> list[str]:
    """Raise ImproperlyConfigured listing every error; return (and print) the warnings."""
    messages = [
        m
        for m in checks.run_checks(include_deployment_checks=bool(settings.HTTPS))
        if not m.is_silenced()
    ]
    errors = [str(m) for m in messages if m.level >= checks.ERROR]
    warnings = [str(m) for m in messages if checks.WARNING <= m.level < checks.ERROR]
    if not errors:
        errors += _store_problems()
    if errors:
        raise ImproperlyConfigured(
            "the configuration is not safe to serve:\n" + "\n".join(f"  {e}" for e in errors)
        )
    stream = out or sys.stderr
    for warning in warnings:
        print(f"revisit: warning: {warning}", file=stream)
    return warnings


def _store_problems() -> list[str]:
    from revisit.lib.blobstore import BlobStoreError
    from revisit.vault.services import blobstore

    try:
        blobstore().check()
    except BlobStoreError as exc:
        return [f"REVISIT_STORAGE_URL: the store cannot be used ({exc})"]
    return []
