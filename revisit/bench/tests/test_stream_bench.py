"""The streaming benchmarks run end to end on small sizes: real servers, real load, every key."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisit.bench import stream, streams

pytestmark = pytest.mark.slow


def _positive(figures: dict[str, object], keys: list[str]) -> None:
    for key in keys:
        value = figures[key]
        assert isinstance(value, (int, float)) and value > 0, (key, value)


def test_it_measures_revisit_beside_nginx(tmp_path: Path) -> None:
    figures = stream.run(
        size_bytes=24 << 20, workdir=tmp_path, seconds=1, rounds=1, seek_samples=20
    )

    assert figures["verified_ranges"] == 8  # on each server: Revisit, nginx and the floor app
    assert figures["revisit_errors"] == 0 and figures["nginx_errors"] == 0
    _positive(
        figures,
        [
            "revisit_mbps",
            "nginx_mbps",
            "ratio",
            "cpu_s_per_gib",
            "nginx_cpu_s_per_gib",
            "wrk_cpu_s_per_gib_revisit",
            "wrk_cpu_s_per_gib_nginx",
            "revisit_seek_p50_ms",
            "revisit_seek_p95_ms",
            "nginx_seek_p50_ms",
            "nginx_seek_p95_ms",
            "seek_p95_ratio",
            "floor_seek_p50_ms",
            "floor_seek_p95_ms",
            "floor_seek_p95_ratio",
            "seek_p95_over_floor",
        ],
    )
    assert figures["seek_samples"] == 20
    goals = figures["goals_met"]
    assert isinstance(goals, dict)
    assert set(goals) == {
        "ratio >= 0.55",
        "cpu_s_per_gib <= 1.2",
        "seek_p95_ratio <= 3",
    }
    assert list(tmp_path.iterdir()) == []  # servers' data, plaintext and scripts all removed


def test_it_counts_paced_streams_on_both_servers(tmp_path: Path) -> None:
    figures = streams.run(size_bytes=4 << 20, workdir=tmp_path, duration=3, counts=(20,))

    per_n = figures["per_n"]
    assert isinstance(per_n, dict)
    per_server = per_n["20"]
    for name in ("revisit", "nginx"):
        one = per_server[name]
        assert one["clients"] == 20
        assert one["ranges"] >= 20 * 2  # about one range a second each for 3 s
        assert one["errors"] == 0, one["error_kinds"]
        _positive(one, ["ttfb_p50_ms", "ttfb_p99_ms", "client_cpu_s", "mb_s"])
        assert one["passed"] == (
            one["late"] == 0 and one["missed"] == 0 and one["ttfb_p99_ms"] <= 100
        )
    assert figures["streams"] in (0, 20) and figures["nginx_streams"] in (0, 20)
    goals = figures["goals_met"]
    assert isinstance(goals, dict)
    assert set(goals) == {"streams >= 1000", "streams >= 500"}
    assert list(tmp_path.iterdir()) == []
