"""An index turns into bytes for sealed storage and back, unchanged; damaged bytes fail typed."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from revisit.lib.chapters import Sentence
from revisit.lib.search_index import IndexFormatError, SearchIndex


class RandomEmbedder:
    def embed(self, texts):
        rng = np.random.default_rng(len(texts))
        vectors = rng.normal(size=(len(texts), 384)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def index():
    sentences = [
        Sentence(i * 2.0, i * 2.0 + 1.5, f"Sentence {i} about the garden — «naïve»?")
        for i in range(7)
    ]
    return SearchIndex.build(sentences, RandomEmbedder())


def test_it_round_trips_windows_and_embeddings(index):
    data = index.to_bytes()
    back = SearchIndex.from_bytes(data)
    assert back.windows == index.windows
    assert back.embeddings.dtype == np.float16
    assert np.array_equal(back.embeddings, index.embeddings)
    assert back.to_bytes() == data
    query = RandomEmbedder()
    assert back.search("garden", query) == index.search("garden", query)


def test_it_stores_embeddings_as_float16(index):
    data = index.to_bytes()
    (length,) = struct.unpack_from(">I", data, 5)
    assert len(data) == 9 + length + len(index.windows) * 384 * 2


def test_it_round_trips_an_empty_index():
    empty = SearchIndex((), np.zeros((0, 384), dtype=np.float16))
    back = SearchIndex.from_bytes(empty.to_bytes())
    assert back.windows == ()
    assert back.search("anything", RandomEmbedder()) == []


def damaged(data):
    (length,) = struct.unpack_from(">I", data, 5)
    header = data[9 : 9 + length]
    yield "empty", b""
    yield "short", data[:6]
    yield "magic", b"XXXX" + data[4:]
    yield "version", data[:4] + b"\x02" + data[5:]
    yield "header length", data[:5] + struct.pack(">I", len(data)) + data[9:]
    yield "truncated body", data[:-1]
    yield "extra body", data + b"\x00\x00"
    yield "not json", data[:9] + b"{" * length + data[9 + length :]
    bad = json.dumps({"dims": 384, "windows": [[0, 1.0]]}).encode()
    yield "bad window", data[:5] + struct.pack(">I", len(bad)) + bad + data[9 + length :]
    zero = json.loads(header)
    zero["dims"] = 0
    raw = json.dumps(zero).encode()
    yield "zero dims", data[:5] + struct.pack(">I", len(raw)) + raw + data[9 + length :]


def test_it_refuses_damaged_bytes(index):
    for name, data in damaged(index.to_bytes()):
        with pytest.raises(IndexFormatError):  # noqa: PT012 - the fail names the case accepted
            SearchIndex.from_bytes(data)
            pytest.fail(f"accepted {name}")


def test_it_needs_one_embedding_per_window():
    with pytest.raises(IndexFormatError):
        SearchIndex((), np.zeros((2, 384), dtype=np.float16))
