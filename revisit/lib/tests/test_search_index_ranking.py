"""Searching sessions by meaning: a query finds the session about it even when none of its
words was said, and only the sessions the caller passes are searched.

Sessions are the first 40 utterances of AnnoMI transcripts (Wu et al., ICASSP 2022,
doi:10.1109/ICASSP43922.2022.9746035), used as text with made-up times.
"""

from __future__ import annotations

import pytest

from revisit.lib.chapters import Sentence, split_sentences
from revisit.lib.search_index import SearchIndex, search_many, terms

SESSIONS = {"smoking": 8, "asthma": 6, "alcohol": 0, "gambling": 18}


@pytest.fixture(scope="module")
def embedder():
    from revisit.lib.embed import Embedder

    return Embedder.default()


@pytest.fixture(scope="module")
def indexes(embedder):
    from revisit.testing.sessions import load_transcript

    out = {}
    for name, transcript in SESSIONS.items():
        sentences, t = [], 0.0
        for utterance in load_transcript(transcript)[:40]:
            for text in split_sentences(utterance.text):
                sentences.append(Sentence(t, t + 2.0, text, utterance.speaker))
                t += 2.5
        out[name] = SearchIndex.build(sentences, embedder)
    return out


def said(index, query):
    spoken = {t for window in index.windows for t in terms(window.text)}
    return set(terms(query)) & spoken


@pytest.mark.parametrize(
    ("query", "session"),
    [
        ("tobacco", "smoking"),
        ("wheezing", "asthma"),
        ("hangover", "alcohol"),
        ("casino", "gambling"),
    ],
)
def test_it_finds_the_session_about_a_reworded_query(indexes, embedder, query, session):
    assert not said(indexes[session], query)  # none of the query's words occur there
    hits = search_many(indexes, query, embedder, limit=5)
    assert hits[0].session == session


def test_it_finds_the_window_that_says_the_words(indexes, embedder):
    hits = search_many(indexes, "dog", embedder, limit=3)
    assert hits[0].session == "asthma"
    assert "dog" in hits[0].text.lower()


def test_it_searches_only_the_sessions_given(indexes, embedder):
    allowed = {k: v for k, v in indexes.items() if k != "smoking"}
    hits = search_many(allowed, "quitting cigarettes", embedder, limit=10)
    assert hits
    assert all(hit.session in allowed for hit in hits)


def test_it_returns_the_best_hits_in_order_within_the_limit(indexes, embedder):
    hits = search_many(indexes, "how much do you drink", embedder, limit=4)
    assert len(hits) == 4
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        window = indexes[hit.session].windows[hit.window_id]
        assert (hit.start, hit.text) == (window.start, window.text)
    single = indexes["alcohol"].search("how much do you drink", embedder, limit=2)
    assert len(single) == 2
    assert single[0].session is None


def test_it_returns_nothing_for_an_empty_query_or_no_sessions(indexes, embedder):
    assert search_many(indexes, "   ", embedder) == []
    assert search_many({}, "smoking", embedder) == []
    assert search_many(indexes, "smoking", embedder, limit=0) == []
