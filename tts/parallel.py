"""Parallel emotional speech: the same speaker saying the same text neutrally and in an emotion.

The training data of learned emotion conversion (issue 15).  Three corpora
record every text by every speaker in several emotions:

* RAVDESS — 2 statements × 2 repetitions per actor; a neutral take and, per
  other emotion, a normal and a strong take of each;
* EMO-DB — 10 texts per speaker, each in some of 7 emotions, sometimes in
  several versions (``a``, ``b`` …);
* ASED — 2 sentences × repetitions per speaker in 5 emotions.

:func:`parallel_pairs` pairs every emotional take with the neutral take of the
same speaker, text and (where the corpus has them) repetition, else the first
neutral take of that speaker and text.  Whole speakers can be held out
(``speakers``/``exclude``) so that a conversion is scored on voices it never
learned from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ser.corpora import ASED_NAME, EMODB_NAME, RAVDESS_NAME, detect_corpus, read_corpus


@dataclass(frozen=True)
class Pair:
    """A neutral take and an emotional take of the same text by the same speaker."""

    neutral: Path
    emotional: Path
    emotion: str
    speaker: str  # as :class:`ser.corpora.Utterance` names it, e.g. "ravdess-01"
    text: str  # the corpus' code of the text said, e.g. "ravdess-01" (statement), "emodb-a01"
    corpus: str


def _text_and_take(path: Path, corpus: str) -> tuple[str, str]:
    """The text code and the repetition/version of a file of ``corpus``."""
    if corpus == "ravdess":
        match = RAVDESS_NAME.match(path.stem)
        return f"ravdess-{match.group(5)}", match.group(6)
    if corpus == "emodb":
        match = EMODB_NAME.match(path.stem)
        return f"emodb-{match.group(2)}", match.group(4)
    if corpus == "ased":
        match = ASED_NAME.match(path.stem)
        return f"ased-{match.group(2)}", match.group(3)
    raise ValueError(f"{corpus!r} has no parallel takes; use ravdess, emodb or ased.")


PARALLEL_CORPORA = ("ravdess", "emodb", "ased")


def parallel_pairs(
    root: str | Path,
    corpus: str | None = None,
    *,
    speakers: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> list[Pair]:
    """Every (neutral, emotional) pair of one corpus folder, sorted by speaker, text and file.

    Parameters
    ----------
    root : path
        A corpus folder (``../shared/datasets/ravdess``).
    corpus : str, optional
        ``"ravdess"``, ``"emodb"`` or ``"ased"``; detected from the file names when None.
    speakers : iterable of str, optional
        Keep only these speakers (``"ravdess-01"``).
    exclude : iterable of str
        Leave these speakers out (the held-out ones).

    Raises
    ------
    ValueError
        The corpus has no parallel takes.
    """
    corpus = corpus or detect_corpus(root)
    if corpus not in PARALLEL_CORPORA:
        raise ValueError(f"{corpus!r} has no parallel takes; use one of {', '.join(PARALLEL_CORPORA)}.")
    keep = set(speakers) if speakers is not None else None
    drop = set(exclude)
    neutral: dict[tuple[str, str], dict[str, Path]] = {}
    emotional = []
    for item in read_corpus(root, corpus):
        if item.speaker in drop or (keep is not None and item.speaker not in keep):
            continue
        text, take = _text_and_take(item.path, corpus)
        if item.emotion == "neutral":
            neutral.setdefault((item.speaker, text), {})[take] = item.path
        else:
            emotional.append((item, text, take))
    pairs = []
    for item, text, take in emotional:
        takes = neutral.get((item.speaker, text))
        if not takes:
            continue  # this speaker never said this text neutrally (some EMO-DB texts)
        source = takes.get(take) or takes[min(takes)]
        pairs.append(Pair(source, item.path, item.emotion, item.speaker, text, corpus))
    return sorted(pairs, key=lambda p: (p.speaker, p.text, p.emotional.name))
