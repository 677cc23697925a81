"""Chapter titles from key phrases: what marks this chapter against the rest of the session,
in 2-5 words, in sentence case, without filler."""

from __future__ import annotations

from revisit.lib.chapters import (
    STOP_WORDS,
    Sentence,
    chapters_from_sentences,
    key_phrases,
    make_title,
)
from revisit.lib.tests.test_chapters_boundaries import TopicEmbedder

SMOKING = (
    "So you have been smoking for ten years. Yeah, I smoke about a pack of cigarettes a day. "
    "The cigarettes help me relax, you know. And your doctor said the smoking affects your lungs. "
    "Right, my lungs are not great. Blood pressure is fine though."
)
DRINKING = (
    "How much alcohol do you drink in a week? Maybe ten beers, I guess. That is a lot of beer. "
    "The alcohol helps me sleep. Blood pressure is fine though. Yeah, I think so."
)


def test_it_picks_phrases_that_mark_the_chapter():
    phrases = key_phrases([SMOKING, DRINKING], 0)
    assert phrases[0] in {"smoking", "cigarettes", "lungs"}
    assert "blood pressure" not in phrases  # said in both chapters
    drinking = key_phrases([SMOKING, DRINKING], 1)
    assert drinking[0] in {"alcohol", "beers", "beer"}


def test_it_leaves_out_stop_words_and_filler():
    for phrases in (key_phrases([SMOKING, DRINKING], 0), key_phrases([SMOKING, DRINKING], 1)):
        for phrase in phrases:
            assert not set(phrase.split()) & STOP_WORDS, phrase
    assert key_phrases(["Yeah. Okay. I mean, you know, right?"], 0) == []


def test_it_counts_forms_of_a_word_as_one():
    phrases = key_phrases([SMOKING, DRINKING], 0, count=3)
    stems = {p.rstrip("s") for p in phrases}
    assert len(stems) == len(phrases)
    assert not {"smoking", "smoke"} <= set(phrases)


def test_it_makes_short_sentence_case_titles():
    assert make_title(["smoking", "cigarettes"]) == "Smoking and cigarettes"
    assert make_title(["blood pressure", "lungs"]) == "Blood pressure"
    assert make_title(["i", "work"]) == "I and work"
    long = make_title(["one two three four five six seven"])
    assert len(long.split()) == 5
    assert make_title([]) == "Conversation"


def test_it_titles_every_chapter_and_covers_the_session():
    sentences = []
    t = 0.0
    for topic, text in (("alpha", SMOKING), ("bravo", DRINKING), ("charlie", SMOKING)):
        for i in range(20):
            speaker = "therapist" if i % 2 == 0 else "client"
            line = f"{topic} {text.split('. ')[i % 5]} " + "and so on " * 10
            sentences.append(Sentence(t, t + 10.0, line.strip() + ".", speaker))
            t += 10.5
    chapters = chapters_from_sentences(sentences, TopicEmbedder(noise=0.1))
    assert [round(c.start, 1) for c in chapters] == [0.0, 210.0, 420.0]
    assert chapters[-1].end == sentences[-1].end
    for chapter in chapters:
        assert 1 <= len(chapter.title.split()) <= 5
        assert chapter.title[0].isupper()
    assert "alpha" in chapters[0].title.lower()


def test_it_makes_chapters_straight_from_a_transcript():
    from revisit.lib.chapters import make_chapters
    from revisit.lib.stt import Segment, Transcript

    segments = []
    t = 0.0
    for topic in ("alpha", "bravo"):
        for i in range(20):
            speaker = "therapist" if i % 2 == 0 else "client"
            text = f"{topic} matters here. " + "and so on " * 10
            segments.append(Segment(t, t + 10.0, text.strip() + ".", speaker=speaker))
            t += 10.5
    chapters = make_chapters(Transcript("en", t, tuple(segments)), TopicEmbedder(noise=0.1))
    assert [c.start for c in chapters] == [0.0, 210.0]
    assert make_chapters(Transcript("en", 0.0, ()), TopicEmbedder()) == []
