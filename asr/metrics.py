"""Word and character error rates, for the benchmark and the tests."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^\w\s']|_")
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\w,])|(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_POWERS = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def spell_number(number: int) -> str:
    """An integer in English words (years too: 1905 is "one thousand nine hundred five").

    >>> spell_number(11), spell_number(42), spell_number(1905), spell_number(2_000_017)
    ('eleven', 'forty two', 'one thousand nine hundred five', 'two million seventeen')
    """
    if number < 20:
        return _ONES[number]
    if number < 100:
        return _TENS[number // 10] + ("" if number % 10 == 0 else " " + _ONES[number % 10])
    for size, name in _POWERS:
        if number >= size:
            rest = number % size
            return f"{spell_number(number // size)} {name}" + (f" {spell_number(rest)}" if rest else "")
    raise AssertionError("unreachable")


def _spell(match: re.Match) -> str:
    whole, _, decimals = match.group().replace(",", "").partition(".")
    if len(whole) > 12:
        return match.group()
    words = spell_number(int(whole))
    return words + (" point " + " ".join(_ONES[int(d)] for d in decimals) if decimals else "")


def normalize_text(text: str) -> str:
    """Lower case, English numerals spelled out, punctuation removed (apostrophes kept).

    Whisper writes "It's 11 o'clock." for "It's eleven o'clock."; both
    normalise to the same words.

    >>> normalize_text("It's 11 o'clock, not 3.5!")
    "it's eleven o'clock not three point five"
    """
    text = _NUMBER.sub(_spell, unicodedata.normalize("NFKC", text).lower())
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
