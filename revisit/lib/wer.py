"""Word error rate: word-level Levenshtein distance over the reference length, on normalised text.

Normalisation lower-cases, folds typographic apostrophes, and drops punctuation other than
apostrophes inside words, so "Hello, world!" and "hello world" compare equal. Numbers are not
spelled out: keep digits out of reference texts, or expect "3" and "three" to count as an error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def normalise(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    return _WORD.findall(folded)


@dataclass(frozen=True)
class WordErrors:
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def rate(self) -> float:
        errors = self.substitutions + self.deletions + self.insertions
        if self.reference_words == 0:
            return 0.0 if errors == 0 else 1.0
        return errors / self.reference_words


def word_errors(reference: str, hypothesis: str) -> WordErrors:
    """Count substitutions, deletions and insertions on a minimal word-level alignment."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    # previous[j] = (cost, substitutions, deletions, insertions) aligning ref[:i] with hyp[:j]
    previous = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i, ref_word in enumerate(ref, start=1):
        current = [(i, 0, i, 0)]
        for j, hyp_word in enumerate(hyp, start=1):
            cost, subs, dels, ins = previous[j - 1]
            diagonal = (cost, subs, dels, ins)
            if ref_word != hyp_word:
                diagonal = (cost + 1, subs + 1, dels, ins)
            up = previous[j]
            left = current[j - 1]
            current.append(
                min(
                    diagonal,
                    (up[0] + 1, up[1], up[2] + 1, up[3]),
                    (left[0] + 1, left[1], left[2], left[3] + 1),
                )
            )
        previous = current
    _cost, subs, dels, ins = previous[-1]
    return WordErrors(subs, dels, ins, len(ref))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` (0.0 is perfect; may exceed 1)."""
    return word_errors(reference, hypothesis).rate
