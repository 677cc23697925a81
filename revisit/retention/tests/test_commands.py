"""`revisit retention run` and `revisit export research`, run as real processes on a fresh data
folder (each initializes it first, like every command)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

REVISIT = [sys.executable, "-m", "revisit.cli"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REVISIT_", "DJANGO_", "DATABASE_URL"))
    }
    env["REVISIT_DATA_DIR"] = str(data_dir)
    return env


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REVISIT, *args], env=_env(data_dir), capture_output=True, text=True, timeout=180
    )


def test_it_runs_retention_and_exports_research_from_the_command_line(tmp_path: Path):
    data_dir = tmp_path / "data"
    ran = run(data_dir, "retention", "run")
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout)
    assert summary["recordings_deleted"] == 0 and summary["held"] == []
    assert set(summary) >= {"shares_expired", "transcripts_deleted", "objects_shredded", "busy"}

    out = tmp_path / "research.csv"
    exported = run(data_dir, "export", "research", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    with out.open(newline="") as f:
        assert next(csv.reader(f))[0] == "participant"
    assert "0 reviews" in exported.stdout

    refused = run(data_dir, "export", "research", "--out", str(tmp_path / "no" / "x.csv"))
    assert refused.returncode == 2 and "no folder" in refused.stderr
    refused = run(data_dir, "export", "research", "--out", str(out), "--practice", "eve")
    assert refused.returncode == 2 and "practice id" in refused.stderr
