"""Transcripts become timed sentences: at word times where there are words, by letters where
there are none; each keeps its segment's speaker."""

from __future__ import annotations

import pytest

from revisit.lib.chapters import sentences_from_transcript, split_sentences
from revisit.lib.stt import Segment, Transcript, Word


def test_it_splits_text_after_sentence_ends():
    assert split_sentences("Hi there. How are you? Fine!  Good") == [
        "Hi there.",
        "How are you?",
        "Fine!",
        "Good",
    ]
    assert split_sentences("   ") == []


def test_it_times_sentences_by_their_words():
    words = (
        Word(1.0, 1.2, "Hello", 0.9),
        Word(1.3, 1.6, "there.", 0.9),
        Word(2.0, 2.4, "How", 0.9),
        Word(2.5, 2.9, "are", 0.9),
        Word(3.0, 3.3, "you?", 0.9),
    )
    segment = Segment(1.0, 3.3, "Hello there. How are you?", words, speaker="therapist")
    transcript = Transcript("en", 4.0, (segment,))
    sentences = sentences_from_transcript(transcript)
    assert [(s.start, s.end, s.text, s.speaker) for s in sentences] == [
        (1.0, 1.6, "Hello there.", "therapist"),
        (2.0, 3.3, "How are you?", "therapist"),
    ]


def test_it_times_sentences_without_words_by_their_letters():
    segment = Segment(10.0, 20.0, "Short one. A rather longer one here.", speaker="client")
    sentences = sentences_from_transcript(Transcript("en", 20.0, (segment,)))
    assert [s.text for s in sentences] == ["Short one.", "A rather longer one here."]
    assert sentences[0].start == 10.0
    assert sentences[1].end == pytest.approx(20.0)
    assert sentences[0].end == pytest.approx(10.0 + 10.0 * 10 / 35)
    assert {s.speaker for s in sentences} == {"client"}


def test_it_ends_the_last_sentence_of_a_segment_without_a_full_stop():
    words = (Word(0.0, 0.5, "so", 0.9), Word(0.6, 1.0, "yeah", 0.9))
    sentences = sentences_from_transcript(Transcript("en", 1.0, (Segment(0, 1, "so yeah", words),)))
    assert [s.text for s in sentences] == ["so yeah"]
