"""Keyword scoring (BM25 over normalised words), seen alone by giving every text the same
embedding, so the meaning part of the score cannot tell windows apart."""

from __future__ import annotations

import numpy as np

from revisit.lib.chapters import Sentence
from revisit.lib.search_index import SearchIndex, search_many, terms


class FlatEmbedder:
    def embed(self, texts):
        out = np.zeros((len(texts), 8), dtype=np.float32)
        out[:, 0] = 1.0
        return out


def index_of(*texts, size=1):
    sentences = [Sentence(float(i), float(i) + 1.0, text) for i, text in enumerate(texts)]
    return SearchIndex.build(sentences, FlatEmbedder(), size=size, stride=1)


def test_it_normalises_words_for_matching():
    assert terms("She was Drinking two drinks; he drank.") == ["drink", "drink", "drank"]
    assert terms("The dishes, the glasses!") == ["dish", "glass"]
    assert terms("I'm stopping, you know") == []  # stop words and filler only
    assert terms("The doctor's dog-walker, and-and so") == ["doctor", "dog", "walker"]


def test_it_ranks_the_window_with_the_query_words_first():
    index = index_of(
        "We talked about the weather and the garden.",
        "I had a few drinks at the pub on Friday.",
        "The garden needs work.",
    )
    hits = index.search("drinking at the pub", FlatEmbedder(), limit=3)
    assert hits[0].window_id == 1
    assert hits[0].score > hits[1].score
    assert hits[1].score == hits[2].score  # neither has a query word


def test_it_prefers_rare_words_and_short_windows():
    index = index_of(
        "garden garden garden and the cigarettes",
        "garden",
        "cigarettes",
        "garden and more garden",
    )
    hits = index.search("garden cigarettes", FlatEmbedder(), limit=4)
    # "cigarettes" is in two windows, "garden" in three: the rarer word weighs more
    assert hits[0].window_id == 0
    assert hits[1].window_id == 2


def test_it_ignores_queries_of_only_stop_words():
    index = index_of("We talked about it.", "Yes we did.")
    scores = {hit.score for hit in index.search("yeah, you know", FlatEmbedder())}
    assert len(scores) == 1


def test_it_scores_words_against_all_the_sessions_searched_together():
    common = index_of("anxiety again", "anxiety and sleep", "more anxiety")
    rare = index_of("sleep and anxiety", "work", "family")
    together = search_many({"a": common, "b": rare}, "anxiety", FlatEmbedder(), limit=6)
    alone = search_many({"b": rare}, "anxiety", FlatEmbedder(), limit=1)
    assert {hit.session for hit in together} == {"a", "b"}
    # with more windows holding the word, it weighs less than in session b alone
    best_b = max(h.score for h in together if h.session == "b")
    assert best_b < alone[0].score
