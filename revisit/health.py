"""GET /healthz: 200 when the database, storage and keys are usable; 503 otherwise, saying which."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from revisit.lib.keys import LocalKeyFileProvider


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _storage() -> None:
    with tempfile.TemporaryFile(dir=settings.DATA_DIR):
        pass
    from revisit.vault.services import blobstore

    blobstore().check()


def _keys() -> None:
    # Loads and checks the keyring (present, private, well formed, with an active key).
    _ = LocalKeyFileProvider(settings.KEY_FILE, create=False).active_key_id


CHECKS: dict[str, Callable[[], None]] = {
    "database": _database,
    "storage": _storage,
    "keys": _keys,
}


def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            results[name] = f"error: {type(exc).__name__}"
        else:
            results[name] = "ok"
    ok = all(value == "ok" for value in results.values())
    response = JsonResponse(
        {"status": "ok" if ok else "error", "checks": results}, status=200 if ok else 503
    )
    response["Cache-Control"] = "no-store"
    return response
