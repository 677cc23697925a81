"""The duration-weighted speaker accuracy that benchmarks report (revisit.bench.quality)."""

from __future__ import annotations

import pytest

from revisit.bench.quality import Span, speaker_accuracy

TRUTH = [Span(0.0, 4.0, "therapist"), Span(5.0, 7.0, "client")]


def test_it_weights_by_duration():
    predicted = [Span(0.0, 3.0, "therapist"), Span(3.0, 4.0, "client"), Span(5.0, 7.0, "client")]
    score = speaker_accuracy(predicted, TRUTH)
    assert score.accuracy == pytest.approx(5 / 6)
    assert score.swapped_accuracy == pytest.approx(1 / 6)
    assert score.coverage == pytest.approx(1.0)
    assert score.speech_s == pytest.approx(6.0)


def test_it_reports_uncovered_speech_as_coverage_not_error():
    score = speaker_accuracy([Span(0.0, 2.0, "therapist")], TRUTH)
    assert score.accuracy == pytest.approx(1.0)
    assert score.coverage == pytest.approx(2 / 6)


def test_it_ignores_predicted_time_outside_speech_and_counts_overlaps_once():
    predicted = [
        Span(-1.0, 4.5, "therapist"),
        Span(1.0, 2.0, "client"),  # overlaps the first: that time is already counted
        Span(4.5, 7.5, "therapist"),
    ]
    score = speaker_accuracy(predicted, TRUTH)
    assert score.coverage == pytest.approx(1.0)
    assert score.accuracy == pytest.approx(4 / 6)
    assert score.clustering_accuracy == pytest.approx(4 / 6)


def test_it_scores_nothing_predicted_as_zero_coverage():
    score = speaker_accuracy([], TRUTH)
    assert score.coverage == 0.0
    assert score.accuracy == 0.0
