"""Topical chapters for a session transcript, with short titles, and the edits a therapist makes.

Finding boundaries follows TextTiling (Hearst, "TextTiling: Segmenting Text into Multi-paragraph
Subtopic Passages", Computational Linguistics 23(1), 1997), with sentence embeddings beside
the word counts:

1. The transcript becomes sentences (:func:`sentences_from_transcript`).
2. At every gap between two sentences, the ``window_words`` words before it are compared with
   the ``window_words`` after it, twice: by the cosine of their mean sentence embedding (each
   sentence weighted by its word count, so "Mm-hmm." counts for little) and by the cosine of
   their TF-IDF vectors over content words. The two curves are standardised, mixed and
   smoothed.
3. A gap's depth is how far the curve climbs on each side of it before turning down; deep gaps
   are where the talk moves on. A gap where the therapist takes the turn, and a gap after a
   longer pause than usual, score a little higher.
4. Gaps deeper than the mean by ``threshold`` standard deviations become boundaries, deepest
   first, as long as every chapter keeps ``min_sentences`` sentences and ``min_seconds``.

Titles come from each chapter's key phrases: runs of content words (stop words and filler
removed) scored by TF-IDF with the session's chapters as the documents, so a phrase that marks
one chapter beats one heard all session long. No Django; numpy and an :class:`Embedder`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from revisit.lib.stt import Transcript, Word

Floats = npt.NDArray[np.float64]
MAX_TITLE_CHARS = 80

# English function words and the filler of spoken conversation, written for this module. Words
# here never start, end or make up a key phrase, and do not count for keyword search.
_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each either else ever every few for from further get gets
    getting got had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers
    herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it it's its
    itself just let's me might more most must mustn't my myself no nor not now of off on once
    only or other ought our ours ourselves out over own same shan't she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there there's
    these they they'd they'll they're they've this those through to too under until up upon us
    very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's
    whether which while who who's whom why why's will with won't would wouldn't yet you you'd
    you'll you're you've your yours yourself yourselves
    yeah yes yep no nope okay ok oh uh um uhm hmm mm mhm mm-hmm uh-huh huh ah hey well right sure
    like know knew known think thought thinking mean means meant guess kind sort really actually
    basically probably maybe perhaps anyway things thing stuff something anything nothing
    everything someone somebody anyone anybody everyone everybody lot lots bit little much many
    way ways going gonna wanna gotta go goes went gone come comes came coming say says said saying
    tell told talk talked talking see seen saw look looking want wanted wants need needs needed
    make makes made take takes took give gives gave feel feels felt try tried trying good great
    fine bad better best pretty quite still even though already always never often sometimes
    usually today now time times day days week weeks year years one two three four five first
    last next new old big small long whole able sounds sound seems seem kinda definitely exactly
    totally absolutely certainly hear heard help helps work works use used using let start
    started keep kept put done doing does yourself okay alright mhmm
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_TOKEN = re.compile(r"[a-z]+(?:['\u2019-][a-z]+)*")


class ChapterError(Exception):
    """A chapter edit that does not fit the chapters (bad index, time outside, empty title)."""


class SentenceEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str


@dataclass(frozen=True)
class ChapterOptions:
    window_words: int = 120
    embedding_weight: float = 0.5  # the rest goes to TF-IDF word overlap
    smoothing: int = 3  # gaps in the moving average
    threshold: float = 0.5  # standard deviations above the mean depth
    turn_bonus: float = 0.2  # in standard deviations of depth
    pause_bonus: float = 0.2  # per standard deviation of pause length above the mean
    min_sentences: int = 12
    min_seconds: float = 60.0


# --- sentences -------------------------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def sentences_from_transcript(transcript: Transcript) -> list[Sentence]:
    """Sentences ending at ".", "?" or "!" inside each segment, timed by its words (or, without
    word times, by their share of the segment's letters)."""
    out: list[Sentence] = []
    for segment in transcript.segments:
        if segment.words:
            group: list[Word] = []
            for word in segment.words:
                group.append(word)
                if word.text.endswith((".", "?", "!")) or word is segment.words[-1]:
                    text = " ".join(w.text for w in group)
                    out.append(Sentence(group[0].start, group[-1].end, text, segment.speaker))
                    group = []
            continue
        parts = split_sentences(segment.text)
        total = sum(len(p) for p in parts) or 1
        cursor = segment.start
        for part in parts:
            end = cursor + (segment.end - segment.start) * len(part) / total
            out.append(Sentence(cursor, end, part, segment.speaker))
            cursor = end
    return out


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold().replace("\u2019", "'"))


def _stem(token: str) -> str:
    """Plurals folded ("cigarettes" -> "cigarette"), enough to count a phrase's forms together."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _content(token: str) -> bool:
    return len(token) > 2 and token not in STOP_WORDS and "'" not in token


# --- boundaries ------------------------------------------------------------------------------


def _window_similarity(vectors: Floats, words: Floats, window: int) -> Floats:
    """Cosine between the word-weighted sums of the ``window`` words before and after each gap
    (gap ``g`` lies before sentence ``g``; the result has one value per gap 1..n-1)."""
    weighted = vectors * words[:, None]
    prefix = np.vstack([np.zeros(vectors.shape[1]), np.cumsum(weighted, axis=0)])
    counts = np.concatenate([[0.0], np.cumsum(words)])
    gaps = np.arange(1, len(words))
    left = np.searchsorted(counts, counts[gaps] - window, side="right") - 1
    right = np.searchsorted(counts, counts[gaps] + window, side="left")
    before = prefix[gaps] - prefix[np.maximum(left, 0)]
    after = prefix[np.minimum(right, len(words))] - prefix[gaps]
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    similarity: Floats = (before * after).sum(axis=1) / np.maximum(norms, 1e-12)
    return similarity


def _tfidf(sentences: Sequence[Sentence]) -> Floats:
    bags = [Counter(_stem(t) for t in tokens(s.text) if _content(t)) for s in sentences]
    vocabulary = {term: i for i, term in enumerate(sorted({t for bag in bags for t in bag}))}
    matrix = np.zeros((len(bags), max(len(vocabulary), 1)))
    for row, bag in enumerate(bags):
        for term, count in bag.items():
            matrix[row, vocabulary[term]] = count
    frequency = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(bags)) / (1 + frequency)) + 1.0
    return matrix


def _standard(values: Floats) -> Floats:
    spread = float(values.std())
    scaled: Floats = (values - values.mean()) / (spread if spread > 1e-12 else 1.0)
    return scaled


def _depths(curve: Floats) -> Floats:
    depth = np.zeros_like(curve)
    for i, value in enumerate(curve):
        left = i
        while left > 0 and curve[left - 1] >= curve[left]:
            left -= 1
        right = i
        while right < len(curve) - 1 and curve[right + 1] >= curve[right]:
            right += 1
        depth[i] = (curve[left] - value) + (curve[right] - value)
    return depth


def gap_scores(
    sentences: Sequence[Sentence], embeddings: npt.NDArray[np.float32], options: ChapterOptions
) -> Floats:
    """A score for each gap 1..n-1: higher where a new topic more likely starts."""
    words = np.array([max(1.0, min(40.0, len(s.text.split()))) for s in sentences])
    semantic = _window_similarity(embeddings.astype(np.float64), words, options.window_words)
    lexical = _window_similarity(_tfidf(sentences), words, options.window_words)
    mixed = options.embedding_weight * _standard(semantic)
    mixed += (1 - options.embedding_weight) * _standard(lexical)
    width = max(1, options.smoothing)
    smooth = np.convolve(np.pad(mixed, width // 2, mode="edge"), np.ones(width) / width, "valid")
    depth = _depths(smooth)
    spread = float(depth.std()) or 1.0
    pauses = np.array([b.start - a.end for a, b in itertools.pairwise(sentences)])
    turns = np.array(
        [
            b.speaker == "therapist" and a.speaker != b.speaker
            for a, b in itertools.pairwise(sentences)
        ]
    )
    bonus = options.turn_bonus * turns + options.pause_bonus * np.clip(_standard(pauses), 0, 3)
    scores: Floats = depth + spread * bonus
    return scores


def find_boundaries(
    sentences: Sequence[Sentence],
    embeddings: npt.NDArray[np.float32],
    options: ChapterOptions | None = None,
) -> list[int]:
    """Indexes of the sentences that start a new chapter (never 0), in order."""
    opts = options or ChapterOptions()
    n = len(sentences)
    if n < 2 * opts.min_sentences:
        return []
    scores = gap_scores(sentences, embeddings, opts)
    cut = float(scores.mean() + opts.threshold * scores.std())
    chosen: list[int] = []

    def fits(index: int) -> bool:
        edges = sorted([0, n, *chosen])
        at = next(i for i, e in enumerate(edges) if e > index)
        before, after = edges[at - 1], edges[at]
        end_before = sentences[index - 1].end
        return (
            index - before >= opts.min_sentences
            and after - index >= opts.min_sentences
            and end_before - sentences[before].start >= opts.min_seconds
            and sentences[after - 1].end - sentences[index].start >= opts.min_seconds
        )

    for gap in np.argsort(-scores, kind="stable"):
        if scores[gap] < cut:
            break
        index = int(gap) + 1
        if fits(index):
            chosen.append(index)
    return sorted(chosen)


# --- titles ----------------------------------------------------------------------------------


def _phrases(text: str, longest: int = 3) -> Iterable[tuple[str, ...]]:
    for sentence in split_sentences(text):
        run: list[str] = []
        for token in [*tokens(sentence), ""]:
            if token and _content(token):
                run.append(token)
                continue
            for size in range(1, longest + 1):
                for i in range(len(run) - size + 1):
                    yield tuple(run[i : i + size])
            run = []


def key_phrases(texts: Sequence[str], index: int, *, count: int = 3) -> list[str]:
    """The ``count`` best phrases of ``texts[index]`` against the other texts (TF-IDF)."""
    bags: list[Counter[tuple[str, ...]]] = []
    surface: dict[tuple[str, ...], Counter[tuple[str, ...]]] = {}
    for text in texts:
        bag: Counter[tuple[str, ...]] = Counter()
        for phrase in _phrases(text):
            key = tuple(_stem(t) for t in phrase)
            bag[key] += 1
            surface.setdefault(key, Counter())[phrase] += 1
        bags.append(bag)
    scored = []
    for key, tf in bags[index].items():
        df = sum(1 for bag in bags if key in bag)
        idf = math.log((1 + len(bags)) / df)
        scored.append(
            (tf * (0.5 + idf) * (1 + 0.5 * (len(key) - 1)) * (tf > 1 or len(key) == 1), key)
        )
    scored.sort(key=lambda item: (-item[0], item[1]))
    best: list[tuple[str, ...]] = []
    for score, key in scored:
        if score <= 0 or any(set(key) & set(b) for b in best):
            continue
        best.append(key)
        if len(best) == count:
            break
    return [" ".join(surface[key].most_common(1)[0][0]) for key in best]


def make_title(phrases: Sequence[str], *, max_words: int = 5) -> str:
    """ "Smoking and cigarettes": one or two phrases, 2-5 words, sentence case."""
    if not phrases:
        return "Conversation"
    words = phrases[0].split()
    if len(words) < 2 and len(phrases) > 1:
        words = [*words, "and", *phrases[1].split()]
    words = words[:max_words]
    words = ["I" if w == "i" else w for w in words]
    title = " ".join(words)
    return title[:1].upper() + title[1:]


def chapters_from_sentences(
    sentences: Sequence[Sentence],
    embeddings: npt.NDArray[np.float32],
    options: ChapterOptions | None = None,
) -> list[Chapter]:
    """Chapters covering the sentences, each titled from its key phrases."""
    if not sentences:
        return []
    edges = [0, *find_boundaries(sentences, embeddings, options), len(sentences)]
    texts = [" ".join(s.text for s in sentences[a:b]) for a, b in itertools.pairwise(edges)]
    return [
        Chapter(
            start=sentences[a].start,
            end=sentences[b - 1].end,
            title=make_title(key_phrases(texts, i)),
        )
        for i, (a, b) in enumerate(itertools.pairwise(edges))
    ]


def make_chapters(
    transcript: Transcript, embedder: SentenceEmbedder, options: ChapterOptions | None = None
) -> list[Chapter]:
    """Chapters for a transcript: sentences, their embeddings, boundaries, titles."""
    sentences = sentences_from_transcript(transcript)
    if not sentences:
        return []
    return chapters_from_sentences(sentences, embedder.embed([s.text for s in sentences]), options)


# --- edits -----------------------------------------------------------------------------------


def _check_index(chapters: Sequence[Chapter], index: int) -> None:
    if not 0 <= index < len(chapters):
        raise ChapterError(f"no chapter {index}; there are {len(chapters)}")


def _clean_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ChapterError("a chapter title cannot be empty")
    if len(cleaned) > MAX_TITLE_CHARS:
        raise ChapterError(f"a chapter title has at most {MAX_TITLE_CHARS} characters")
    return cleaned


def rename_chapter(chapters: Sequence[Chapter], *, index: int, title: str) -> list[Chapter]:
    _check_index(chapters, index)
    out = list(chapters)
    out[index] = replace(out[index], title=_clean_title(title))
    return out


def merge_chapters(chapters: Sequence[Chapter], *, index: int) -> list[Chapter]:
    """Chapter ``index`` and the one after it become one, keeping the first one's title."""
    _check_index(chapters, index)
    _check_index(chapters, index + 1)
    out = list(chapters)
    first, second = out[index], out[index + 1]
    out[index : index + 2] = [replace(first, end=max(first.end, second.end))]
    return out


def split_chapter(
    chapters: Sequence[Chapter],
    *,
    index: int,
    at: float,
    title: str | None = None,
    sentences: Sequence[Sentence] = (),
) -> list[Chapter]:
    """Chapter ``index`` split at time ``at``. The new second part is called ``title``; without
    one, it is titled from ``sentences`` (the session's) when given, else "Part 2" of the first.
    """
    _check_index(chapters, index)
    chapter = chapters[index]
    if not chapter.start < at < chapter.end:
        raise ChapterError("the split time must fall inside the chapter")
    if title is None:
        inside = [s for s in sentences if chapter.start <= s.start < chapter.end]
        texts = [
            " ".join(s.text for s in inside if s.start < at),
            " ".join(s.text for s in inside if s.start >= at),
        ]
        phrases = key_phrases(texts, 1) if all(texts) else []
        title = make_title(phrases) if phrases else f"{chapter.title} (part 2)"[:MAX_TITLE_CHARS]
    out = list(chapters)
    out[index : index + 1] = [
        replace(chapter, end=at),
        Chapter(start=at, end=chapter.end, title=_clean_title(title)),
    ]
    return out
