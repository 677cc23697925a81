"""Segments are re-split where the speakers pause, so one segment does not span two voices."""

from __future__ import annotations

from revisit.lib.stt import Word, resplit_at_pauses


def w(start: float, end: float, text: str) -> Word:
    return Word(start, end, text, 0.9)


def test_it_splits_at_pauses_of_at_least_the_gap():
    words = [
        w(0.0, 0.3, "How"),
        w(0.3, 0.5, "are"),
        w(0.5, 0.8, "you?"),
        w(1.6, 1.9, "Better,"),  # 0.8 s pause: a new segment
        w(2.0, 2.4, "thanks."),  # 0.1 s: same segment
        w(2.9, 3.2, "Good."),  # exactly 0.5 s: a new segment
    ]
    segments = resplit_at_pauses(words, 0.5)
    assert [s.text for s in segments] == ["How are you?", "Better, thanks.", "Good."]
    assert [(s.start, s.end) for s in segments] == [(0.0, 0.8), (1.6, 2.4), (2.9, 3.2)]
    assert [w for s in segments for w in s.words] == words


def test_it_keeps_words_together_when_no_pause_is_long_enough():
    words = [w(i * 0.4, i * 0.4 + 0.3, f"w{i}") for i in range(10)]
    (segment,) = resplit_at_pauses(words, 0.2)
    assert segment.words == tuple(words)
    assert (segment.start, segment.end) == (0.0, 3.9)


def test_it_returns_nothing_for_no_words():
    assert resplit_at_pauses([], 0.5) == []
