"""The search figure that benchmarks report: recall at k (revisit.bench.quality)."""

from __future__ import annotations

import pytest

from revisit.bench.quality import recall_at_k


def test_it_counts_queries_whose_session_comes_first():
    ranked = [["a", "b"], ["b", "a"], ["c"], []]
    expected = ["a", "a", "c", "d"]
    assert recall_at_k(ranked, expected) == 0.5
    assert recall_at_k(ranked, expected, k=2) == 0.75


def test_it_needs_one_ranking_per_query():
    with pytest.raises(ValueError, match="one entry per query"):
        recall_at_k([["a"]], ["a", "b"])
    assert recall_at_k([], []) == 0.0
