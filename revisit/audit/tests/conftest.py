from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def key_file(settings: Any, tmp_path: Path) -> Path:
    """A fresh audit signing key location for this test (REVISIT_AUDIT_KEY_FILE)."""
    path = tmp_path / "keys" / "audit-signing.key"
    settings.AUDIT_KEY_FILE = path
    return path
