"""The sealed-storage benchmark runs on a small object, reports every figure, and cleans up."""

from __future__ import annotations

from pathlib import Path

from revisit.bench.sealed import run

RATIOS = ("seal_ratio", "ratio", "range_p95_ratio", "warm_ratio", "warm_range_p95_ratio")
RATES = (
    "plain_write_mb_s",
    "seal_mb_s",
    "plain_read_mb_s",
    "sealed_read_mb_s",
    "plain_range_p50_ms",
    "plain_range_p95_ms",
    "sealed_range_p50_ms",
    "sealed_range_p95_ms",
)


def test_it_measures_sealed_beside_plain_and_removes_its_files(tmp_path: Path) -> None:
    workdir = tmp_path / "bench"
    result = run(size_bytes=3 * 1024 * 1024 + 5, workdir=workdir)
    assert result["size_bytes"] == 3 * 1024 * 1024 + 5
    assert result["range_bytes"] == 1024 * 1024
    for key in RATIOS + RATES:
        value = result[key]
        assert isinstance(value, float), key
        assert value > 0, key
    goals = result["goals_met"]
    assert isinstance(goals, dict)
    assert set(goals) == {
        "seal_ratio >= 0.5",
        "ratio >= 0.6",
        "range_p95_ratio <= 2",
    }
    assert list(workdir.iterdir()) == []


def test_it_handles_an_object_smaller_than_one_range(tmp_path: Path) -> None:
    result = run(size_bytes=1000, workdir=tmp_path)
    assert result["range_bytes"] == 1000
    assert list(tmp_path.iterdir()) == []
