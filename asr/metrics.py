"""Word and character error rates, for the benchmark and the tests."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w\s']|_")


def normalize_text(text: str) -> str:
    """Lower case, punctuation removed (apostrophes kept), spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def edit_distance(reference: list, hypothesis: list) -> int:
    """Levenshtein distance between two sequences (substitutions, insertions, deletions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: total word edits over total reference words, after :func:`normalize_text`.

    >>> word_error_rate(["Kids are talking by the door"], ["kids are talking at the door."])
    0.16666666666666666
    """
    return _error_rate(references, hypotheses, str.split)


def character_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus CER over characters without spaces (for Chinese, which has no word spaces)."""
    return _error_rate(references, hypotheses, lambda text: list(text.replace(" ", "")))


def _error_rate(references, hypotheses, split) -> float:
    if len(references) != len(hypotheses):
        raise ValueError("references and hypotheses differ in length")
    edits = total = 0
    for reference, hypothesis in zip(references, hypotheses):
        ref, hyp = split(normalize_text(reference)), split(normalize_text(hypothesis))
        edits += edit_distance(ref, hyp)
        total += len(ref)
    if total == 0:
        raise ValueError("the references contain no words")
    return edits / total
