"""Quality figures for the processing steps, computed from predictions and ground truth.

Plain functions over plain values (times, labels, ids), so a benchmark can score real
transcripts as easily as generated test sessions:

- :func:`speaker_accuracy`: the share of the true speech time (duration-weighted) whose predicted
  speaker is right;
- :func:`boundary_recall`: how many true chapter boundaries a segmentation found within a
  tolerance of a few sentences, and how many predicted boundaries match none;
- :func:`recall_at_k`: how often the expected session is among the first ``k`` search results.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A stretch of time spoken by one speaker."""

    start: float
    end: float
    speaker: str | None


@dataclass(frozen=True)
class SpeakerScore:
    accuracy: float  # right / covered speech time
    coverage: float  # covered / all true speech time
    swapped_accuracy: float  # the accuracy with the two predicted labels exchanged
    speech_s: float  # all true speech time, seconds

    @property
    def clustering_accuracy(self) -> float:
        """The accuracy had the clusters been named the other way where that is better."""
        return max(self.accuracy, self.swapped_accuracy)


def _overlap(a: Span, b: Span) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


def speaker_accuracy(
    predicted: Sequence[Span],
    truth: Sequence[Span],
    *,
    labels: tuple[str, str] = ("therapist", "client"),
) -> SpeakerScore:
    """Duration-weighted speaker accuracy of ``predicted`` against ``truth``.

    True speech time that no predicted span covers is left out of the accuracy and reported as
    missing ``coverage`` instead; predicted time outside the true speech does not count.
    Overlapping predicted spans are taken in order, each instant counted once.
    """
    ordered = sorted((p for p in predicted if p.end > p.start), key=lambda p: p.start)
    starts = [p.start for p in ordered]
    swap = {labels[0]: labels[1], labels[1]: labels[0]}
    right = wrong_if_swapped = covered = total = 0.0
    for utterance in truth:
        length = max(0.0, utterance.end - utterance.start)
        total += length
        cursor = utterance.start
        first = max(0, bisect.bisect_right(starts, utterance.start) - 1)
        for span in ordered[first:]:
            if span.start >= utterance.end:
                break
            clipped = Span(max(span.start, cursor), span.end, span.speaker)
            time = _overlap(clipped, utterance)
            if time <= 0:
                continue
            cursor = max(cursor, min(span.end, utterance.end))
            covered += time
            if span.speaker == utterance.speaker:
                right += time
            if swap.get(span.speaker or "", span.speaker) == utterance.speaker:
                wrong_if_swapped += time
    return SpeakerScore(
        accuracy=right / covered if covered else 0.0,
        coverage=covered / total if total else 0.0,
        swapped_accuracy=wrong_if_swapped / covered if covered else 0.0,
        speech_s=total,
    )


@dataclass(frozen=True)
class BoundaryScore:
    found: int  # true boundaries with a predicted one within the tolerance
    true_boundaries: int
    predicted: int
    spurious: int  # predicted boundaries with no true boundary within the tolerance

    @property
    def recall(self) -> float:
        return self.found / self.true_boundaries if self.true_boundaries else 1.0

    @property
    def precision(self) -> float:
        return (self.predicted - self.spurious) / self.predicted if self.predicted else 1.0


def sentence_index(times: Sequence[float], sentence_starts: Sequence[float]) -> list[int]:
    """For each time, the index of the sentence whose start is nearest to it."""
    out = []
    for time in times:
        after = bisect.bisect_left(sentence_starts, time)
        candidates = [i for i in (after - 1, after) if 0 <= i < len(sentence_starts)]
        out.append(min(candidates, key=lambda i: abs(sentence_starts[i] - time)))
    return out


def boundary_recall(
    predicted: Sequence[int], truth: Sequence[int], *, tolerance: int = 5
) -> BoundaryScore:
    """Boundaries as sentence indexes (a boundary at ``i`` starts a chapter at sentence ``i``).

    A true boundary is found when some predicted one lies within ``tolerance`` sentences; a
    predicted boundary is spurious when no true one lies within ``tolerance`` of it.
    """
    found = sum(1 for t in truth if any(abs(p - t) <= tolerance for p in predicted))
    spurious = sum(1 for p in predicted if all(abs(p - t) > tolerance for t in truth))
    return BoundaryScore(
        found=found, true_boundaries=len(truth), predicted=len(predicted), spurious=spurious
    )


def recall_at_k(ranked: Sequence[Sequence[str]], expected: Sequence[str], *, k: int = 1) -> float:
    """The share of queries whose expected id is among the first ``k`` of its ranked ids."""
    if len(ranked) != len(expected):
        raise ValueError("ranked and expected must have one entry per query")
    if not expected:
        return 0.0
    hits = sum(1 for ids, want in zip(ranked, expected, strict=True) if want in ids[:k])
    return hits / len(expected)
