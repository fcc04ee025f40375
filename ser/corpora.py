"""Readers for labelled emotional-speech corpora, mapped onto one label set.

Each reader yields :class:`Utterance` records (path, emotion, speaker, gender,
corpus); labels come from file and folder names only.

Canonical labels and the mapping from each corpus:

=========  =======  ===========  ======  =======  =====  ====  =====================
label      RAVDESS  TESS         EMO-DB  CREMA-D  SAVEE  ASED  custom (aliases)
=========  =======  ===========  ======  =======  =====  ====  =====================
neutral    01       neutral      N       NEU      n      n1    neutral
calm       02       —            —       —        —      —     calm
happy      03       happy        F       HAP      h      h3    happy, happiness, joy
sad        04       sad          T       SAD      sa     s4    sad, sadness
angry      05       angry        W       ANG      a      a5    angry, anger
fearful    06       fear         A       FEA      f      f2    fear, fearful
disgust    07       disgust      E       DIS      d      —     disgust
surprised  08       ps           —       —        su     —     surprised, surprise, ps
boredom    —        —            L       —        —      —     boredom, bored
=========  =======  ===========  ======  =======  =====  ====  =====================

RAVDESS' calm and EMO-DB's boredom have no counterpart in the other corpora.
ASED (Amharic) has the five emotions every corpus shares.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised", "boredom")
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".webm", ".m4a", ".opus"}

ALIASES = {
    **{e: e for e in EMOTIONS},
    "happiness": "happy", "joy": "happy",
    "sadness": "sad",
    "anger": "angry", "mad": "angry",
    "fear": "fearful", "anxiety": "fearful", "afraid": "fearful",
    "disgusted": "disgust",
    "surprise": "surprised", "ps": "surprised", "pleasant_surprise": "surprised",
    "pleasant_surprised": "surprised",
    "bored": "boredom",
}
RAVDESS_CODES = dict(zip(("01", "02", "03", "04", "05", "06", "07", "08"), EMOTIONS[:8]))
EMODB_CODES = {"N": "neutral", "F": "happy", "T": "sad", "W": "angry", "A": "fearful", "E": "disgust", "L": "boredom"}
EMODB_MALE = {"03", "10", "11", "12", "15"}
CREMAD_CODES = {"NEU": "neutral", "HAP": "happy", "SAD": "sad", "ANG": "angry", "FEA": "fearful", "DIS": "disgust"}
ASED_CODES = {"n1": "neutral", "f2": "fearful", "h3": "happy", "s4": "sad", "a5": "angry"}
ASED_GENDERS = {"01": "female", "02": "male"}
SAVEE_CODES = {"n": "neutral", "h": "happy", "sa": "sad", "a": "angry", "f": "fearful", "d": "disgust", "su": "surprised"}

RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
EMODB_NAME = re.compile(r"^(\d\d)([a-z]\d\d)([NFTWAEL])([a-z])$")
CREMAD_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
TESS_NAME = re.compile(r"^(OAF|YAF)_.+_([a-z_]+)$", re.IGNORECASE)
# xN-SS-RR-GG-PP: emotion letter + folder number, sentence, repetition, gender, speaker.
# One file spells its emotion letter in upper case (S4-04-02-01-29).
ASED_NAME = re.compile(r"^([nfhsa][1-5])-(\d\d)-(\d\d)-(0[12])-(\d\d)$", re.IGNORECASE)
SAVEE_NAME = re.compile(r"^(?:(DC|JE|JK|KL)_)?(sa|su|[adfhn])(\d\d)$")


@dataclass(frozen=True)
class Utterance:
    path: Path
    emotion: str
    speaker: str | None
    gender: str | None  # "male", "female" or None when the corpus does not say
    corpus: str


def canonical_emotion(name: str) -> str | None:
    """Map a label as written in a corpus or file name to the canonical set."""
    return ALIASES.get(name.strip().lower().replace(" ", "_").replace("-", "_"))


def audio_files(root: str | Path) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"No such corpus folder: {root}")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def parse_ravdess(path: Path) -> Utterance | None:
    match = RAVDESS_NAME.match(path.stem)
    if not match or match.group(2) != "01" or match.group(3) not in RAVDESS_CODES:
        return None  # song (vocal channel 02) or not RAVDESS
    actor = int(match.group(7))
    return Utterance(path, RAVDESS_CODES[match.group(3)], f"ravdess-{actor:02d}",
                     "male" if actor % 2 else "female", "ravdess")


def parse_emodb(path: Path) -> Utterance | None:
    match = EMODB_NAME.match(path.stem)
    if not match:
        return None
    speaker = match.group(1)
    return Utterance(path, EMODB_CODES[match.group(3)], f"emodb-{speaker}",
                     "male" if speaker in EMODB_MALE else "female", "emodb")


def parse_tess(path: Path) -> Utterance | None:
    match = TESS_NAME.match(path.stem)
    emotion = canonical_emotion(match.group(2)) if match else None
    if not emotion:
        return None
    return Utterance(path, emotion, f"tess-{match.group(1).upper()}", "female", "tess")


def parse_savee(path: Path) -> Utterance | None:
    match = SAVEE_NAME.match(path.stem)
    speaker = (match.group(1) or path.parent.name) if match else None
    if not match or speaker not in {"DC", "JE", "JK", "KL"}:
        return None
    return Utterance(path, SAVEE_CODES[match.group(2)], f"savee-{speaker}", "male", "savee")


def parse_cremad(path: Path, genders: dict[str, str] | None = None) -> Utterance | None:
    match = CREMAD_NAME.match(path.stem)
    if not match or match.group(3) not in CREMAD_CODES:
        return None
    actor = match.group(1)
    return Utterance(path, CREMAD_CODES[match.group(3)], f"cremad-{actor}",
                     (genders or {}).get(actor), "cremad")


def parse_ased(path: Path, genders: dict[str, str] | None = None) -> Utterance | None:
    """An ASED file; ``genders`` (speaker id -> gender) overrides the file's own gender code.

    Five speakers (09, 15, 21, 23, 25) carry both gender codes across their
    files; :func:`read_corpus` passes each speaker's majority.
    """
    match = ASED_NAME.match(path.stem)
    emotion = ASED_CODES.get(match.group(1).lower()) if match else None
    if not emotion:
        return None  # letter and folder number disagree (e.g. "n4")
    speaker = match.group(5)
    gender = (genders or {}).get(speaker) or ASED_GENDERS[match.group(4)]
    return Utterance(path, emotion, f"ased-{speaker}", gender, "ased")


def parse_custom(path: Path) -> Utterance | None:
    """Seed convention ``anything_<emotion>.wav``, else the parent folder's name."""
    emotion = canonical_emotion(path.stem.rsplit("_", 1)[-1]) if "_" in path.stem else None
    emotion = emotion or canonical_emotion(path.parent.name)
    if not emotion:
        return None
    return Utterance(path, emotion, None, None, "custom")


def _cremad_genders(root: Path) -> dict[str, str]:
    # CREMA-D ships actor sex in VideoDemographics.csv; use it when present.
    for table in root.rglob("VideoDemographics.csv"):
        with table.open(newline="") as handle:
            return {row["ActorID"]: row["Sex"].strip().lower() for row in csv.DictReader(handle)}
    return {}


def _ased_genders(files: list[Path]) -> dict[str, str]:
    votes: dict[str, Counter] = {}
    for path in files:
        match = ASED_NAME.match(path.stem)
        if match:
            votes.setdefault(match.group(5), Counter())[ASED_GENDERS[match.group(4)]] += 1
    # Ties (none in ASED v1) go to the alphabetically first gender, so reading is deterministic.
    return {speaker: min(c, key=lambda g: (-c[g], g)) for speaker, c in votes.items()}


PARSERS = {
    "ravdess": parse_ravdess,
    "ased": parse_ased,
    "emodb": parse_emodb,
    "tess": parse_tess,
    "savee": parse_savee,
    "cremad": parse_cremad,
    "custom": parse_custom,
}


def detect_corpus(root: str | Path) -> str:
    """Guess which corpus a folder holds from its file names."""
    files = audio_files(root)
    if not files:
        raise ValueError(f"No audio files under {root}.")
    sample = files[:: max(1, len(files) // 200)]
    best, hits = "custom", 0
    for name, parse in PARSERS.items():
        if name == "custom":
            continue
        count = sum(parse(p) is not None for p in sample)
        if count > hits:
            best, hits = name, count
    return best if hits >= len(sample) / 2 else "custom"


def read_corpus(root: str | Path, corpus: str | None = None) -> Iterator[Utterance]:
    """Yield the labelled utterances under ``root`` (corpus auto-detected if not named).

    Files the corpus' naming does not label are skipped.

    Examples
    --------
    >>> items = list(read_corpus("../shared/datasets/emodb"))   # doctest: +SKIP
    >>> items[0].emotion, items[0].speaker                       # doctest: +SKIP
    ('happy', 'emodb-03')
    """
    root = Path(root)
    corpus = corpus or detect_corpus(root)
    if corpus not in PARSERS:
        raise ValueError(f"Unknown corpus {corpus!r}; choose one of {', '.join(PARSERS)}.")
    files = audio_files(root)
    genders = _cremad_genders(root) if corpus == "cremad" else _ased_genders(files) if corpus == "ased" else None
    for path in files:
        item = PARSERS[corpus](path, genders) if genders is not None else PARSERS[corpus](path)
        if item is not None:
            yield item
