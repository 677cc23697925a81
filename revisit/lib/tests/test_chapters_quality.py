"""The chapter boundary figures that benchmarks report (revisit.bench.quality)."""

from __future__ import annotations

from revisit.bench.quality import boundary_recall, sentence_index


def test_it_counts_boundaries_found_within_the_tolerance():
    score = boundary_recall([48, 120, 300], [50, 200, 305], tolerance=5)
    assert (score.found, score.true_boundaries, score.predicted, score.spurious) == (2, 3, 3, 1)
    assert score.recall == 2 / 3
    assert score.precision == 2 / 3


def test_it_treats_the_tolerance_as_inclusive():
    assert boundary_recall([55], [50], tolerance=5).found == 1
    assert boundary_recall([56], [50], tolerance=5).found == 0


def test_it_handles_no_boundaries_either_side():
    assert boundary_recall([], [10]).recall == 0.0
    nothing = boundary_recall([], [])
    assert nothing.recall == 1.0
    assert nothing.precision == 1.0
    assert boundary_recall([10], []).spurious == 1


def test_it_maps_times_to_the_nearest_sentence():
    starts = [0.0, 4.0, 10.0, 11.0]
    assert sentence_index([0.5, 6.9, 7.1, 10.6, 99.0], starts) == [0, 1, 2, 3, 3]
