"""Keyword and meaning search over session transcripts.

A session's index holds overlapping windows of a few sentences (``size`` sentences every
``stride``), each with its sentence embedding (float16) and, worked out again from its text when
loaded, its word counts for BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework:
BM25 and Beyond", Foundations and Trends in IR 3(4), 2009; k1 = 1.2, b = 0.75). Words are
lower-cased, stop words dropped and simple endings removed, so "drinking" finds "drink".

A window's score is the cosine between the query's embedding and the window's, plus
``keyword_weight`` times its BM25 score squashed into [0, 1) (``bm25 / (bm25 + 2)``), plus
``context_weight`` times the cosine between the query and the whole session (the mean of its
windows), so a passage from a session that is about the query as a whole ranks above a passing
mention elsewhere. :func:`search_many` scores the sessions a caller may see together, with
BM25 statistics over all of them, so scores compare across sessions.

:meth:`SearchIndex.to_bytes` gives a self-contained binary form for sealed storage: a header
(magic, version, JSON of window times and texts) and the embedding matrix, little-endian
float16. No Django, no pickle.
"""

from __future__ import annotations

import json
import math
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from revisit.lib.chapters import (
    STOP_WORDS,
    Sentence,
    SentenceEmbedder,
    sentences_from_transcript,
    stem,
    tokens,
)
from revisit.lib.stt import Transcript

MAGIC = b"RVSX"
VERSION = 1
K1 = 1.2
B = 0.75
SQUASH = 2.0
_HEADER = struct.Struct(">4sBI")  # magic, version, JSON length
_MAX_HEADER = 64 * 1024 * 1024

Vectors = npt.NDArray[np.float16]


class IndexFormatError(Exception):
    """Bytes that are not a search index this version can read."""


@dataclass(frozen=True)
class Window:
    id: int
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Hit:
    window_id: int
    start: float
    end: float
    text: str
    score: float
    session: str | None = None  # the key the caller gave in search_many


@dataclass(frozen=True)
class Weights:
    keyword_weight: float = 0.3
    context_weight: float = 0.5


def terms(text: str) -> list[str]:
    """The words of ``text`` that keyword search counts: lower-cased, hyphenated words and
    stutters ("and-and") taken apart, possessives dropped, stop words left out, stemmed."""
    out = []
    for token in tokens(text):
        for part in token.split("-"):
            word = part.removesuffix("'s").removesuffix("\u2019s").rstrip("'")
            if len(word) > 1 and word not in STOP_WORDS:
                out.append(stem(word))
    return out


def make_windows(sentences: Sequence[Sentence], *, size: int = 3, stride: int = 2) -> list[Window]:
    """Windows of ``size`` sentences starting every ``stride`` sentences (the last one reaches
    the end)."""
    if size < 1 or stride < 1:
        raise ValueError("size and stride must be at least 1")
    out: list[Window] = []
    begin = 0
    while begin < len(sentences):
        part = sentences[begin : begin + size]
        text = " ".join(s.text for s in part)
        out.append(Window(len(out), part[0].start, max(s.end for s in part), text))
        if begin + size >= len(sentences):
            break
        begin += stride
    return out


@dataclass
class _Stats:
    documents: int
    average_length: float
    frequency: dict[str, int]


@dataclass
class SearchIndex:
    windows: tuple[Window, ...]
    embeddings: Vectors  # (windows, dims) unit rows, float16
    _counts: list[Counter[str]] = field(init=False, repr=False)
    _lengths: npt.NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.embeddings.ndim != 2 or self.embeddings.shape[0] != len(self.windows):
            raise IndexFormatError("one embedding row per window is required")
        self.embeddings = self.embeddings.astype(np.float16)
        self._counts = [Counter(terms(w.text)) for w in self.windows]
        self._lengths = np.array([sum(c.values()) for c in self._counts], dtype=np.float64)

    @classmethod
    def build(
        cls,
        sentences: Sequence[Sentence],
        embedder: SentenceEmbedder,
        *,
        size: int = 3,
        stride: int = 2,
    ) -> SearchIndex:
        windows = make_windows(sentences, size=size, stride=stride)
        vectors = embedder.embed([w.text for w in windows]) if windows else np.zeros((0, 384))
        return cls(tuple(windows), np.asarray(vectors, dtype=np.float16))

    @classmethod
    def from_transcript(cls, transcript: Transcript, embedder: SentenceEmbedder) -> SearchIndex:
        return cls.build(sentences_from_transcript(transcript), embedder)

    @property
    def centre(self) -> npt.NDArray[np.float32]:
        """The session's mean window embedding, unit length (zeros when empty)."""
        mean = self.embeddings.astype(np.float32).mean(axis=0) if self.windows else None
        if mean is None or not np.linalg.norm(mean):
            return np.zeros(self.embeddings.shape[1], dtype=np.float32)
        unit: npt.NDArray[np.float32] = mean / np.linalg.norm(mean)
        return unit

    # --- scoring -------------------------------------------------------------------------

    def keyword_scores(self, query_terms: Sequence[str], stats: _Stats) -> npt.NDArray[np.float64]:
        scores = np.zeros(len(self.windows))
        norm = K1 * (1 - B + B * self._lengths / max(stats.average_length, 1e-9))
        for term in set(query_terms):
            df = stats.frequency.get(term, 0)
            if df == 0:
                continue
            idf = math.log(1 + (stats.documents - df + 0.5) / (df + 0.5))
            tf = np.array([counts.get(term, 0) for counts in self._counts], dtype=np.float64)
            scores += idf * tf * (K1 + 1) / (tf + norm)
        return scores

    def _score(
        self,
        vector: npt.NDArray[np.float32],
        query_terms: Sequence[str],
        stats: _Stats,
        weights: Weights,
    ) -> npt.NDArray[np.float64]:
        semantic = self.embeddings.astype(np.float32) @ vector
        bm25 = self.keyword_scores(query_terms, stats)
        context = float(self.centre @ vector)
        combined: npt.NDArray[np.float64] = (
            semantic.astype(np.float64)
            + weights.keyword_weight * bm25 / (bm25 + SQUASH)
            + weights.context_weight * context
        )
        return combined

    def search(
        self,
        query: str,
        embedder: SentenceEmbedder,
        *,
        limit: int = 10,
        weights: Weights | None = None,
    ) -> list[Hit]:
        return search_many({"": self}, query, embedder, limit=limit, weights=weights)

    # --- bytes ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "dims": int(self.embeddings.shape[1]),
                "windows": [[w.id, w.start, w.end, w.text] for w in self.windows],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        matrix = np.ascontiguousarray(self.embeddings, dtype="<f2").tobytes()
        return _HEADER.pack(MAGIC, VERSION, len(header)) + header + matrix

    @classmethod
    def from_bytes(cls, data: bytes) -> SearchIndex:
        if len(data) < _HEADER.size:
            raise IndexFormatError("too short to be a search index")
        magic, version, length = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise IndexFormatError("not a search index")
        if version != VERSION:
            raise IndexFormatError(f"unsupported search index version {version}")
        if length > min(_MAX_HEADER, len(data) - _HEADER.size):
            raise IndexFormatError("truncated search index header")
        try:
            header: Any = json.loads(data[_HEADER.size : _HEADER.size + length])
            dims = int(header["dims"])
            windows = tuple(
                Window(int(i), float(start), float(end), str(text))
                for i, start, end, text in header["windows"]
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexFormatError(f"bad search index header: {exc}") from exc
        body = data[_HEADER.size + length :]
        if dims <= 0 or len(body) != len(windows) * dims * 2:
            raise IndexFormatError("the embedding matrix does not match the header")
        matrix = np.frombuffer(body, dtype="<f2").reshape(len(windows), dims).astype(np.float16)
        return cls(windows, matrix)


def search_many(
    indexes: Mapping[str, SearchIndex],
    query: str,
    embedder: SentenceEmbedder,
    *,
    limit: int = 10,
    weights: Weights | None = None,
) -> list[Hit]:
    """The best ``limit`` hits for ``query`` across ``indexes`` (session key -> index), which
    must be only the sessions the caller may see; each hit names its session key (an empty
    key gives ``session=None``)."""
    if not query.strip() or limit <= 0 or not indexes:
        return []
    chosen = weights or Weights()
    vector = np.asarray(embedder.embed([query])[0], dtype=np.float32)
    query_terms = terms(query)
    frequency: Counter[str] = Counter()
    documents = 0
    total_length = 0.0
    for index in indexes.values():
        for counts in index._counts:
            frequency.update(t for t in query_terms if t in counts)
        documents += len(index.windows)
        total_length += float(index._lengths.sum())
    stats = _Stats(documents, total_length / max(documents, 1), dict(frequency))
    hits: list[Hit] = []
    for key, index in indexes.items():
        if not index.windows:
            continue
        scores = index._score(vector, query_terms, stats, chosen)
        for row in np.argsort(-scores, kind="stable")[:limit]:
            window = index.windows[int(row)]
            hit = Hit(
                window.id, window.start, window.end, window.text, round(float(scores[row]), 4)
            )
            hits.append(hit if not key else _named(hit, key))
    hits.sort(key=lambda h: -h.score)
    return hits[:limit]


def _named(hit: Hit, key: str) -> Hit:
    return Hit(hit.window_id, hit.start, hit.end, hit.text, hit.score, key)
