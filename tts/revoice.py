"""Re-voicing's own part of speech synthesis: a recording's prosody changed to another emotion.

The whole flow (recognise, transcribe, say again) crosses packages and is
:func:`pipelines.revoice.revoice`; here are the parts that need only ``tts``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .prosody import emotion_rule, render, set_level, speech_level
from .synthesis import DEFAULT_INTENSITY, canonical_emotion


def convert_by_rules(samples, emotion, intensity, source_emotion, sample_rate, seed) -> np.ndarray:
    """The literature's prosody rules (:mod:`tts.prosody`), the first method and the baseline."""
    rule = emotion_rule(emotion, intensity).relative_to(emotion_rule(source_emotion, intensity))
    out = render(samples, sample_rate, rule, time_stretch=rule.duration, seed=seed)
    return set_level(out, sample_rate, speech_level(samples, sample_rate) + rule.energy)


def convert_learned(samples, emotion, intensity, source_emotion, sample_rate, seed) -> np.ndarray:
    """The conversion learned from parallel takes (:mod:`tts.learned`, the committed model)."""
    return _learned_model().convert(samples, sample_rate, emotion, intensity, source=source_emotion)


@lru_cache(maxsize=1)
def _learned_model():
    from .learned import LearnedConversion

    return LearnedConversion.load()


#: Conversion methods by name: a new one is a function with :func:`convert_by_rules`' arguments
#: and one line here.
CONVERSIONS = {"rules": convert_by_rules, "learned": convert_learned}
DEFAULT_CONVERSION = "rules"


def convert_emotion(
    samples: np.ndarray,
    emotion: str,
    intensity: float = DEFAULT_INTENSITY,
    *,
    source_emotion: str = "neutral",
    sample_rate: int = 16_000,
    seed: int = 0,
    method: str = DEFAULT_CONVERSION,
) -> np.ndarray:
    """Give a recording the prosody of ``emotion``, keeping its voice and words.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono speech (16 kHz from :func:`ser.audio.load_audio` by default).
    emotion : str
        Target emotion.
    intensity : float
        0–1, as in :func:`tts.synthesize`.
    source_emotion : str
        Emotion the recording already shows.  Its rule is undone first (at the
        same intensity), so converting angry speech to sad lowers F0 from the
        angry level rather than from neutral.
    sample_rate : int
        Rate of ``samples``; the output has the same rate.
    seed : int
        Seed of the random parts of the transform.
    method : str
        A name of :data:`CONVERSIONS`: ``"rules"`` (the literature's prosody
        rules) or ``"learned"`` (learned from parallel emotional takes).

    Returns
    -------
    numpy.ndarray
        Float32 speech; duration changes by the rules' tempo ratio.

    Examples
    --------
    >>> sad = convert_emotion(load_audio("me.wav"), "sad")  # doctest: +SKIP
    """
    if method not in CONVERSIONS:
        raise ValueError(f"Unknown conversion method {method!r}; choose one of {', '.join(CONVERSIONS)}.")
    intensity = float(np.clip(intensity, 0.0, 1.0))
    return CONVERSIONS[method](samples, canonical_emotion(emotion), intensity, canonical_emotion(source_emotion),
                               sample_rate, seed)


def next_output_path(folder: str | Path = "output") -> Path:
    """``folder/N.wav`` with the next free N (1, 2, …), as the seed's ``detect.py``."""
    folder = Path(folder)
    taken = [int(p.stem) for p in folder.glob("*.wav") if p.stem.isdigit()] if folder.is_dir() else []
    return folder / f"{max(taken, default=0) + 1}.wav"
