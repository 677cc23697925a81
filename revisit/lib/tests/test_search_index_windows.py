"""Windows of a few sentences, overlapping, the last one reaching the end."""

from __future__ import annotations

import pytest

from revisit.lib.chapters import Sentence
from revisit.lib.search_index import make_windows


def sentences(count):
    return [Sentence(i * 10.0, i * 10.0 + 8.0, f"S{i}.") for i in range(count)]


def test_it_makes_overlapping_windows_of_three_sentences():
    windows = make_windows(sentences(7))
    assert [w.text for w in windows] == ["S0. S1. S2.", "S2. S3. S4.", "S4. S5. S6."]
    assert [w.id for w in windows] == [0, 1, 2]
    assert [(w.start, w.end) for w in windows] == [(0.0, 28.0), (20.0, 48.0), (40.0, 68.0)]


def test_it_lets_the_last_window_reach_the_end():
    windows = make_windows(sentences(6))
    assert windows[-1].text == "S4. S5."
    assert make_windows(sentences(2))[0].text == "S0. S1."
    assert make_windows([]) == []


@pytest.mark.parametrize(("size", "stride"), [(0, 1), (3, 0)])
def test_it_refuses_empty_windows_or_steps(size, stride):
    with pytest.raises(ValueError, match="at least 1"):
        make_windows(sentences(3), size=size, stride=stride)


def test_it_indexes_a_transcript_by_its_sentences():
    import numpy as np

    from revisit.lib.search_index import SearchIndex
    from revisit.lib.stt import Segment, Transcript

    class Ones:
        def embed(self, texts):
            return np.ones((len(texts), 4), dtype=np.float32) / 2

    segments = (
        Segment(0.0, 4.0, "First one. Second one.", speaker="therapist"),
        Segment(5.0, 9.0, "Third one. Fourth one.", speaker="client"),
    )
    index = SearchIndex.from_transcript(Transcript("en", 9.0, segments), Ones())
    assert [w.text for w in index.windows] == [
        "First one. Second one. Third one.",
        "Third one. Fourth one.",
    ]
    assert index.embeddings.shape == (2, 4)
