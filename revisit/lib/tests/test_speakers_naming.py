"""Which voice cluster is called the therapist: questions per word, with a nudge to whoever
speaks first, or one rule alone."""

from __future__ import annotations

import numpy as np

from revisit.lib.speakers import _therapist_cluster
from revisit.lib.stt import Segment


def segments(*texts):
    return [Segment(float(i), float(i) + 0.5, text) for i, text in enumerate(texts)]


def test_it_calls_the_cluster_that_asks_more_questions_the_therapist():
    talk = segments("Yes, I did.", "What brings you here today?", "My wife.", "How so?")
    labels = np.array([0, 1, 0, 1])
    assert _therapist_cluster(talk, labels, "auto") == 1
    assert _therapist_cluster(talk, labels, "questions") == 1
    assert _therapist_cluster(talk, labels, "first") == 0


def test_it_lets_the_first_speaker_win_when_questions_are_close():
    words = " ".join(["word"] * 99)
    talk = segments(f"{words} so?", f"{words} right? {words}")  # 1/100 against 1/199
    labels = np.array([0, 1])
    assert _therapist_cluster(talk, labels, "questions") == 0
    assert _therapist_cluster(talk, labels, "auto") == 0
    # 0 + 0.005 for speaking first beats 1/298 = 0.0034
    close = segments(f"{words} fine.", f"{words} right? {words} {words}")  # 0 against 1/298
    assert _therapist_cluster(close, labels, "questions") == 1
    assert _therapist_cluster(close, labels, "auto") == 0


def test_it_falls_back_to_the_first_speaker_without_questions():
    talk = segments("Hello.", "Hi.", "Let us begin.")
    assert _therapist_cluster(talk, np.array([1, 0, 1]), "questions") == 1
