"""Where an end-to-end run leaves what it found: JSON reports and screenshots.

The folder is `REVISIT_REPORTS_DIR` when set, otherwise `var/reports/e2e/` in the checkout (ignored
by git). Reports hold ids, page names and figures only: never a person's name or a session's words.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ENV = "REVISIT_REPORTS_DIR"
CHECKOUT = Path(__file__).resolve().parents[2]


def reports_dir() -> Path:
    """The reports folder, created if missing."""
    configured = os.environ.get(ENV, "").strip()
    folder = Path(configured) if configured else CHECKOUT / "var" / "reports" / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_json(name: str, data: Any) -> Path:
    """Write one report (`name` ends in .json), replacing an older one of that name."""
    path = reports_dir() / name
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def screenshot_path(name: str) -> Path:
    folder = reports_dir() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
