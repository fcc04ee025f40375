"""pocketsphinx backend: the bundled US-English model, a light fallback
(about 45 % WER on RAVDESS, against 2 % for Whisper base) that gives word
timings.  Segments are cut at pauses of :data:`PAUSE` seconds or more.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import numpy as np

from ser.audio import SAMPLE_RATE

from .transcript import Segment, Transcript, Word

NAME = "pocketsphinx"
MODEL = "en-us"
PAUSE = 0.5
_ALTERNATE_PRONUNCIATION = re.compile(r"\(\d+\)$")
# One decoder holds one utterance at a time.
_decode_lock = threading.Lock()


def availability() -> str | None:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return "pocketsphinx is not installed (pip install pocketsphinx)."
    return None


def model_choices() -> list[tuple[str, bool, str]]:
    return [(MODEL, True, "")]


@lru_cache(maxsize=1)
def load_decoder():
    """The decoder with the bundled en-us model, created once."""
    from pocketsphinx import Decoder

    return Decoder(loglevel="FATAL")


def transcribe(samples: np.ndarray, model: str | None = None, language: str | None = None) -> Transcript:
    """Transcribe 16 kHz mono samples with the bundled US-English model."""
    if model not in (None, MODEL):
        raise ValueError(f"pocketsphinx has only the bundled model {MODEL!r}, not {model!r}.")
    if language not in (None, "en"):
        raise ValueError(f"pocketsphinx's bundled model is English only, not {language!r}.")
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    decoder = load_decoder()
    frame_rate = int(decoder.config["frate"])
    with _decode_lock:
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        words = [
            Word(s.start_frame / frame_rate, (s.end_frame + 1) / frame_rate,
                 _ALTERNATE_PRONUNCIATION.sub("", s.word), s.prob)
            for s in decoder.seg()
            if not s.word.startswith(("<", "[", "+"))  # <s>, <sil>, [NOISE], ++FILLER++
        ]
    segments = tuple(
        Segment(group[0].start, group[-1].end, " ".join(w.word for w in group), tuple(group))
        for group in _split_at_pauses(words, PAUSE)
    )
    return Transcript(
        text=" ".join(s.text for s in segments),
        language="en",
        segments=segments,
        backend=NAME,
        model=MODEL,
        duration=samples.size / SAMPLE_RATE,
    )


def _split_at_pauses(words: list[Word], pause: float) -> list[list[Word]]:
    groups: list[list[Word]] = []
    for word in words:
        if groups and word.start - groups[-1][-1].end < pause:
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups
