"""Emotion conversion methods: how a neutral (or any) recording is given another emotion's prosody.

Both re-voice modes use them: :func:`tts.revoice.convert_emotion` on the
user's own recording, :func:`tts.synthesis.synthesize` on the engine's
neutral output.  A new method is a function with :func:`convert_by_rules`'
arguments and one line in :data:`CONVERSIONS`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .prosody import emotion_rule, render, set_level, speech_level


def convert_by_rules(samples, emotion, intensity, source_emotion, sample_rate, seed) -> np.ndarray:
    """The literature's prosody rules (:mod:`tts.prosody`), the first method and the baseline."""
    rule = emotion_rule(emotion, intensity).relative_to(emotion_rule(source_emotion, intensity))
    out = render(samples, sample_rate, rule, time_stretch=rule.duration, seed=seed)
    return set_level(out, sample_rate, speech_level(samples, sample_rate) + rule.energy)


def convert_learned(samples, emotion, intensity, source_emotion, sample_rate, seed) -> np.ndarray:
    """The conversion learned from parallel takes (:mod:`tts.learned`, the committed model)."""
    return learned_model().convert(samples, sample_rate, emotion, intensity, source=source_emotion)


@lru_cache(maxsize=1)
def learned_model():
    """The committed learned conversion (``assets/conversion``), loaded once."""
    from .learned import LearnedConversion

    return LearnedConversion.load()


#: Conversion methods by name.
CONVERSIONS = {"rules": convert_by_rules, "learned": convert_learned}
DEFAULT_CONVERSION = "rules"


def check_method(method: str) -> str:
    """``method`` if it names a conversion, else a ValueError that lists them."""
    if method not in CONVERSIONS:
        raise ValueError(f"Unknown conversion method {method!r}; choose one of {', '.join(CONVERSIONS)}.")
    return method
