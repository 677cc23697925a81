"""A therapist's corrections: swap every label, or set one segment's speaker."""

from __future__ import annotations

import pytest

from revisit.lib.speakers import relabel, swap_labels
from revisit.lib.stt import Segment

SEGMENTS = (
    Segment(0.0, 1.0, "How are you?", speaker="therapist"),
    Segment(1.5, 2.0, "Fine.", speaker="client"),
    Segment(2.5, 3.0, "Good.", speaker=None),
)


def test_it_swaps_therapist_and_client_and_leaves_unknown_alone():
    swapped = swap_labels(SEGMENTS)
    assert [s.speaker for s in swapped] == ["client", "therapist", None]
    assert [s.text for s in swapped] == [s.text for s in SEGMENTS]
    assert swap_labels(swapped) == SEGMENTS


def test_it_sets_one_segment_and_copies_the_rest():
    changed = relabel(SEGMENTS, segment_index=1, speaker="therapist")
    assert [s.speaker for s in changed] == ["therapist", "therapist", None]
    assert SEGMENTS[1].speaker == "client"  # the input is not modified


def test_it_refuses_unknown_speakers_and_indexes():
    with pytest.raises(ValueError, match="speaker"):
        relabel(SEGMENTS, segment_index=0, speaker="mallory")
    with pytest.raises(IndexError):
        relabel(SEGMENTS, segment_index=3, speaker="client")
    with pytest.raises(IndexError):
        relabel(SEGMENTS, segment_index=-1, speaker="client")
