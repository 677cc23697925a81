"""The atheris target for the header parser and range reader runs cleanly for a short while."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TARGET = ROOT / "fuzz" / "sealed_reader.py"
RUNS = 20000


def test_it_survives_a_short_fuzzing_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(TARGET), f"-runs={RUNS}", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS} runs" in result.stderr
    assert not list(tmp_path.glob("crash-*"))
