"""Topical chapters for a session transcript, with short titles, and the edits a therapist makes.

Finding boundaries:

1. The transcript becomes sentences (:func:`sentences_from_transcript`), and the sentences
   become units: one per speaker turn, a long turn cut into pieces of about ``unit_words``
   words (:func:`speaker_units`). A chapter can only start where a unit starts, so where
   someone starts speaking.
2. Each unit is embedded (all-MiniLM-L6-v2, :mod:`revisit.lib.embed`); the session's mean is
   subtracted, so what all of the session shares (the way people talk in counselling) drops
   out and what sets one stretch apart remains.
3. Dynamic programming picks the split that minimises, over all chapters, the spread of their
   units around the chapter's own mean (each unit weighted by its words, at most
   ``weight_cap``, so "Mm-hmm." counts for little), plus a fixed price per chapter. Units that
   belong together sit close to their mean; a new topic pulls away from it. The segmentation
   is optimal for that objective, not greedy. Each chapter keeps ``min_units`` units and
   ``min_seconds``. A boundary where the therapist takes the turn pays 30% less
   (``turn_bonus``: counsellors usually lead a change of topic), and one after an unusually
   long pause (more than two standard deviations above the session's mean) up to 30% less
   (``pause_bonus``).

This global segmentation replaced a TextTiling-style local one (Hearst, Computational
Linguistics 23(1), 1997: depth of dips in the similarity of neighbouring windows), which on the
same sessions found fewer true boundaries and many more spurious ones; the cost is that of
Alemi & Ginsparg's embedding-based segmentation (arXiv:1503.05543, 2015) in its k-means form.

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
    started keep kept put done doing does yourself okay alright mhmm suppose supposed happen
    happens happened remember understand wonder wondering believe agree call called ask asked
    leave stay live guy guys stuff person people part parts place reason idea point fact
    six seven eight nine ten twenty hundred thousand half couple month months hour hours minute
    minutes ate eat eats led lead caught catch bought buy brought bring sent send spent spend
    drove wrote ran run sat sit stood lost lose won win paid pay met meet moved move open stop
    stopping taking getting putting letting
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
    penalty: float = 1.35  # the price of a boundary (see find_boundaries)
    unit_words: int = 80  # a longer speaker turn is cut into pieces of about this size
    weight_cap: float = 40.0  # a unit counts for at most this many words
    min_units: int = 6  # speaker turns (or pieces) in a chapter, at least
    min_seconds: float = 60.0  # length of a chapter, at least
    turn_bonus: float = 0.3  # share of the price waived where the therapist takes the turn
    pause_bonus: float = 0.1  # share waived per standard deviation a pause is beyond 2


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


def stem(token: str) -> str:
    """A light suffix stripper: plurals, -ing, -ed, -ly (with a doubled consonant undone), so
    "drinking", "drinks" and "drink" count as one word."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", "")):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            if suffix == "s" and token.endswith(("ss", "us", "is")):
                return token
            if suffix == "es" and not token.endswith(("ches", "shes", "sses", "xes")):
                continue
            root = token[: -len(suffix)] + keep
            if keep == "" and len(root) > 3 and root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]
            return root
    return token


def _content(token: str) -> bool:
    """A word that can be part of a key phrase: not a stop word, not a past-tense verb (most
    words ending in -ed), not a stutter ("i-i") or a contraction."""
    parts = token.split("-")
    return (
        len(token) > 2
        and not (len(token) > 4 and token.endswith("ed") and not token.endswith("eed"))
        and token not in STOP_WORDS
        and "'" not in token
        and all(len(p) > 1 and p not in STOP_WORDS for p in parts)
        and len(set(parts)) == len(parts)
    )


# --- boundaries ------------------------------------------------------------------------------


def speaker_units(sentences: Sequence[Sentence], *, max_words: int) -> list[tuple[int, int]]:
    """Sentence ranges ``[a, b)``: one per speaker turn, a long turn cut into pieces of at most
    about ``max_words`` words at sentence ends."""
    units: list[tuple[int, int]] = []
    start, words = 0, 0
    for index, sentence in enumerate(sentences):
        count = len(sentence.text.split())
        new_turn = index > 0 and sentence.speaker != sentences[index - 1].speaker
        if index > start and (new_turn or words + count > max_words):
            units.append((start, index))
            start, words = index, 0
        words += count
    if sentences:
        units.append((start, len(sentences)))
    return units


def _segment(
    vectors: Floats, weights: Floats, bonus: Floats, latest_start: npt.NDArray[np.intp], cost: float
) -> list[int]:
    """Optimal cut points (unit indexes, never 0) by dynamic programming.

    A segment ``[i, j)`` costs its weighted sum of squared distances to its own mean vector;
    each segment adds ``cost`` less the ``bonus`` of the unit it starts at. ``latest_start[j]``
    is the last ``i`` for which ``[i, j)`` is long enough. Prefix sums make each segment's cost
    O(1): sum w|v|^2 - |sum w v|^2 / sum w.
    """
    n = len(weights)
    prefix = np.vstack([np.zeros(vectors.shape[1]), np.cumsum(weights[:, None] * vectors, axis=0)])
    gram = prefix @ prefix.T
    diagonal = np.diag(gram)
    mass = np.concatenate([[0.0], np.cumsum(weights)])
    squares = np.concatenate([[0.0], np.cumsum(weights * (vectors * vectors).sum(axis=1))])
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=np.intp)
    for j in range(1, n + 1):
        starts = np.arange(0, latest_start[j] + 1)
        if starts.size == 0:
            continue
        spread = squares[j] - squares[starts]
        spread -= (diagonal[j] + diagonal[starts] - 2 * gram[j, starts]) / (mass[j] - mass[starts])
        total = best[starts] + spread + cost - np.where(starts > 0, bonus[starts], 0.0)
        pick = int(np.argmin(total))
        best[j], back[j] = total[pick], starts[pick]
    if not np.isfinite(best[n]):
        return []
    cuts: list[int] = []
    j = n
    while j > 0:
        j = int(back[j])
        if j > 0:
            cuts.append(j)
    return sorted(cuts)


def find_boundaries(
    sentences: Sequence[Sentence],
    embedder: SentenceEmbedder,
    options: ChapterOptions | None = None,
) -> list[int]:
    """Indexes of the sentences that start a new chapter (never 0), in order."""
    opts = options or ChapterOptions()
    units = speaker_units(sentences, max_words=opts.unit_words)
    if len(units) < 2 * opts.min_units:
        return []
    texts = [" ".join(s.text for s in sentences[a:b]) for a, b in units]
    vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
    weights = np.array([max(1.0, min(opts.weight_cap, len(t.split()))) for t in texts])
    vectors -= (weights[:, None] * vectors).sum(axis=0) / weights.sum()
    # The price of a boundary: ``penalty`` times the spread of one average unit around the
    # session's mean, times log(units). Splitting pure noise gains about one unit's spread per
    # dimension that the split happens to favour, and the best of n places to split gains
    # more as n grows, roughly like log n; so the price keeps up with both.
    spread = float((weights * (vectors * vectors).sum(axis=1)).sum() / weights.sum())
    cost = opts.penalty * spread * float(weights.mean()) * math.log(len(units))
    starts = np.array([sentences[a].start for a, _ in units])
    ends = np.array([sentences[b - 1].end for _, b in units])
    latest = np.full(len(units) + 1, -1, dtype=np.intp)
    for j in range(1, len(units) + 1):
        by_time = int(np.searchsorted(starts, ends[j - 1] - opts.min_seconds, side="right")) - 1
        latest[j] = min(j - opts.min_units, by_time)
    pauses = np.array([0.0, *(starts[1:] - ends[:-1])])
    calm = np.clip(_standard(pauses[1:]) - 2.0, 0.0, 3.0)
    therapist = np.array(
        [
            k > 0 and sentences[a].speaker == "therapist" != sentences[a - 1].speaker
            for k, (a, _) in enumerate(units)
        ]
    )
    bonus = cost * (opts.pause_bonus * np.concatenate([[0.0], calm]) + opts.turn_bonus * therapist)
    return [units[k][0] for k in _segment(vectors, weights, bonus, latest, cost)]


def _standard(values: Floats) -> Floats:
    spread = float(values.std())
    scaled: Floats = (values - values.mean()) / (spread if spread > 1e-12 else 1.0)
    return scaled


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
            key = tuple(stem(t) for t in phrase)
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
    embedder: SentenceEmbedder,
    options: ChapterOptions | None = None,
) -> list[Chapter]:
    """Chapters covering the sentences, each titled from its key phrases."""
    if not sentences:
        return []
    edges = [0, *find_boundaries(sentences, embedder, options), len(sentences)]
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
    return chapters_from_sentences(sentences_from_transcript(transcript), embedder, options)


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
