"""Chapter boundaries: where the topic changes, never too short, only where someone starts
speaking; and on real counselling dialogues joined end to end."""

from __future__ import annotations

import hashlib
import itertools
import random

import numpy as np
import pytest

from revisit.bench.quality import boundary_recall
from revisit.lib.chapters import (
    ChapterOptions,
    Sentence,
    find_boundaries,
    speaker_units,
    split_sentences,
)

TOPICS = ("alpha", "bravo", "charlie", "delta")


class TopicEmbedder:
    """A stand-in for the sentence model: each text points at the direction of the topic word
    it contains, plus a little noise fixed by the text, so the right answer is known."""

    def __init__(self, noise=0.3):
        self.noise = noise
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            vector = np.random.default_rng(seed).normal(0, self.noise, 16)
            for k, topic in enumerate(TOPICS):
                if topic in text:
                    vector[k] += 1.0
            out[row] = vector / np.linalg.norm(vector)
        return out


def dialogue(topics, *, turns=20, seconds=10.0):
    """``turns`` alternating turns of 30 words per topic (therapist first), ``seconds`` each."""
    out, t = [], 0.0
    for topic in topics:
        for i in range(turns):
            speaker = "therapist" if i % 2 == 0 else "client"
            text = f"we talk about {topic} now in turn {i} " + "and so on " * 12
            out.append(Sentence(t, t + seconds, text.strip() + ".", speaker))
            t += seconds + 0.5
    return out


def test_it_cuts_where_the_topic_changes():
    sentences = dialogue(TOPICS[:3])
    assert find_boundaries(sentences, TopicEmbedder()) == [20, 40]


def test_it_finds_no_boundary_in_one_topic():
    assert find_boundaries(dialogue(["alpha"], turns=60), TopicEmbedder()) == []


def test_it_keeps_every_chapter_long_enough():
    clear = TopicEmbedder(noise=0.1)  # topics this clear would be cut wherever allowed
    short = dialogue(TOPICS, turns=4, seconds=3.0)  # 14 s per topic
    assert find_boundaries(short, clear) == []  # a chapter lasts 60 s at least
    relaxed = ChapterOptions(min_seconds=10.0, min_units=3)
    assert find_boundaries(short, clear, relaxed) == [4, 8, 12]
    strict = ChapterOptions(min_seconds=10.0, min_units=5)
    cuts = find_boundaries(dialogue(TOPICS, turns=4, seconds=5.0), clear, strict)
    assert cuts  # a cut at a topic change is still possible: 8 units each side
    edges = [0, *cuts, 16]
    assert all(b - a >= 5 for a, b in itertools.pairwise(edges))


def test_it_starts_chapters_only_where_a_speaker_starts_or_a_long_turn_is_cut():
    sentences = [
        Sentence(0, 1, "One two three.", "therapist"),
        Sentence(1, 2, "Four five.", "therapist"),
        Sentence(2, 3, "Six.", "client"),
        Sentence(3, 4, "Seven eight nine ten.", "client"),
        Sentence(4, 5, "Eleven.", "therapist"),
    ]
    assert speaker_units(sentences, max_words=80) == [(0, 2), (2, 4), (4, 5)]
    assert speaker_units(sentences, max_words=4) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    assert speaker_units([], max_words=80) == []


def test_it_embeds_the_session_in_one_call():
    embedder = TopicEmbedder()
    find_boundaries(dialogue(TOPICS[:2]), embedder)
    assert embedder.calls == 1


# --- real dialogues ------------------------------------------------------------------------


def annomi_session(transcripts, seed=0):
    """AnnoMI transcripts (Wu et al., ICASSP 2022, doi:10.1109/ICASSP43922.2022.9746035) joined
    as text, timed at 175 words a minute with 0.4-0.9 s between utterances (no longer pause at
    the joins, so only the words can show them). Returns sentences and the true boundaries."""
    from revisit.testing.sessions import load_transcript

    rng = random.Random(seed)
    sentences: list[Sentence] = []
    boundaries: list[int] = []
    t = 0.5
    for transcript in transcripts:
        if sentences:
            boundaries.append(len(sentences))
        for utterance in load_transcript(transcript):
            t += rng.uniform(0.4, 0.9)
            for text in split_sentences(utterance.text):
                length = len(text.split()) / (175 / 60)
                sentences.append(Sentence(t, t + length, text, utterance.speaker))
                t += length
    return sentences, boundaries


@pytest.mark.slow
def test_it_finds_most_joins_between_real_counselling_dialogues():
    """Measured over 40 sessions of 3-5 joined transcripts: 69-75% of joins found within five
    sentences, 1.7-2.1 spurious boundaries per session. These three sessions: 4 of 6 found,
    4 spurious."""
    from revisit.lib.embed import Embedder

    embedder = Embedder.default()
    found = total = spurious = 0
    sessions = [[8, 2, 6], [12, 18, 55], [6, 50, 8]]
    for transcripts in sessions:
        sentences, truth = annomi_session(transcripts)
        score = boundary_recall(find_boundaries(sentences, embedder), truth)
        found, total = found + score.found, total + score.true_boundaries
        spurious += score.spurious
    assert found / total >= 0.5
    assert spurious <= 2 * len(sessions)
