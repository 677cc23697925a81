"""Word error rate: word-level edit distance on normalised text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revisit.lib.wer import normalise, wer, word_errors


def test_it_ignores_case_and_punctuation():
    assert normalise("Hello, World! It's fine…") == ["hello", "world", "it's", "fine"]
    assert normalise("Don\u2019t") == ["don't"]
    assert wer("Hello, world!", "hello world") == 0.0


@pytest.mark.parametrize(
    ("reference", "hypothesis", "counts"),
    [
        ("the cat sat", "the cat sat", (0, 0, 0)),
        ("the cat sat", "the bat sat", (1, 0, 0)),
        ("the cat sat", "the sat", (0, 1, 0)),
        ("the cat sat", "the cat sat down", (0, 0, 1)),
        ("the cat sat", "", (0, 3, 0)),
        ("a b c d", "b c d e", (0, 1, 1)),
    ],
)
def test_it_counts_substitutions_deletions_and_insertions(reference, hypothesis, counts):
    errors = word_errors(reference, hypothesis)
    assert (errors.substitutions, errors.deletions, errors.insertions) == counts
    assert errors.rate == pytest.approx(sum(counts) / len(reference.split()))


def test_it_handles_an_empty_reference():
    assert wer("", "") == 0.0
    assert wer("", "something") == 1.0


sentences = st.lists(st.sampled_from(["i", "feel", "calm", "today", "walk", "sleep"]), max_size=12)


@given(sentences, sentences)
def test_it_behaves_like_a_distance(ref, hyp):
    errors = word_errors(" ".join(ref), " ".join(hyp))
    edits = errors.substitutions + errors.deletions + errors.insertions
    assert abs(len(ref) - len(hyp)) <= edits <= max(len(ref), len(hyp))
    assert errors.deletions - errors.insertions == len(ref) - len(hyp)
    assert (edits == 0) == (ref == hyp)
    reverse = word_errors(" ".join(hyp), " ".join(ref))
    assert reverse.substitutions + reverse.deletions + reverse.insertions == edits
