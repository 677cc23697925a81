"""The s3_server fixture skips without Ceph on a workstation, and fails without it under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

USES_S3 = """
def test_needs_s3(s3_server):
    assert s3_server.endpoint_url
"""


def run_inner_pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a one-test session whose PATH holds no Ceph commands."""
    (tmp_path / "test_inner.py").write_text(USES_S3)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("REVISIT_TEST_S3_") and name not in ("CI", "PYTEST_ADDOPTS")
    }
    clean.update(
        PATH=str(empty_bin),
        PYTHONPATH=str(Path(__file__).resolve().parents[3]),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # only the plugin under test
        **env,
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "revisit.testing.ceph",
            "-p",
            "no:cacheprovider",
            "-rs",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_it_skips_with_a_reason_when_ceph_is_absent_outside_ci(tmp_path: Path) -> None:
    result = run_inner_pytest(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "Ceph RGW is not installed" in result.stdout
    assert "REVISIT_TEST_S3_ENDPOINT" in result.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_it_fails_when_ceph_is_absent_under_ci(tmp_path: Path, ci: str) -> None:
    result = run_inner_pytest(tmp_path, CI=ci)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout
    assert "CI needs a real S3 server" in result.stdout


def test_it_uses_the_server_named_in_the_environment(tmp_path: Path) -> None:
    result = run_inner_pytest(
        tmp_path,
        REVISIT_TEST_S3_ENDPOINT="http://127.0.0.1:9",
        REVISIT_TEST_S3_ACCESS_KEY="a",
        REVISIT_TEST_S3_SECRET_KEY="s",
        CI="true",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
