"""Arousal and valence from categorical emotion probabilities (the circumplex of affect).

Each emotion has a fixed place on the valence (unpleasant … pleasant) and
arousal (calm … excited) plane; an utterance's place is the probability-weighted
mean of those places.  A pure function of the recognizer's probabilities: no
model of its own, so it is only as good as the categories it averages.

>>> dims = arousal_valence({"angry": 0.5, "neutral": 0.5})
>>> round(dims.arousal, 2), round(dims.valence, 2)
(0.49, -0.08)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping


def _on_circle(degrees: float) -> tuple[float, float]:
    angle = math.radians(degrees)
    return round(math.cos(angle), 3), round(math.sin(angle), 3)


# (valence, arousal) per emotion, both in [-1, 1].  Russell (1980), "A circumplex model of
# affect", J. Personality and Social Psychology 39(6), 1161-1178: the angles of the direct
# circular scaling of 28 affect words (0 deg = pleasure, 90 deg = arousal), placed on the
# unit circle.  Words used: happy 7.8, astonished 69.8 (for surprised), angry 99.0,
# afraid 116.0 (fearful), sad 207.5, bored 241.0 (boredom), calm 316.2.  Disgust is not one
# of Russell's words: it is placed as in Scherer (2005), "What are emotions? And how can they
# be measured?", Social Science Information 44(4), 695-729, in its valence-arousal plot of
# emotion terms (disgusted: unpleasant, moderately aroused), read off as valence -0.6,
# arousal +0.35 (approximate).  Neutral is the
# origin.
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "neutral": (0.0, 0.0),
    "happy": _on_circle(7.8),
    "surprised": _on_circle(69.8),
    "angry": _on_circle(99.0),
    "fearful": _on_circle(116.0),
    "sad": _on_circle(207.5),
    "boredom": _on_circle(241.0),
    "calm": _on_circle(316.2),
    "disgust": (-0.6, 0.35),
}


@dataclass(frozen=True)
class Dimensions:
    """An utterance's place on the circumplex.

    Attributes
    ----------
    arousal, valence : float
        In [-1, 1]: the probability-weighted mean of :data:`CIRCUMPLEX`.
    coverage : float
        The share of the probability on emotions with a place (labels a
        custom bundle invented are left out and the rest renormalised).
    """

    arousal: float
    valence: float
    coverage: float

    def to_dict(self) -> dict:
        return {"arousal": self.arousal, "valence": self.valence, "coverage": self.coverage}


def arousal_valence(probabilities: Mapping[str, float]) -> Dimensions | None:
    """Arousal and valence of an utterance from its emotion probabilities.

    Parameters
    ----------
    probabilities : mapping of str to float
        Emotion → probability (need not sum to 1; negative values count as 0).

    Returns
    -------
    Dimensions or None
        None when no emotion with a place in :data:`CIRCUMPLEX` has any
        probability.

    Examples
    --------
    >>> arousal_valence({"sad": 1.0}).valence
    -0.887
    >>> arousal_valence({"ecstatic": 1.0}) is None
    True
    """
    total = sum(max(float(p), 0.0) for p in probabilities.values())
    known = {label: max(float(p), 0.0) for label, p in probabilities.items() if label in CIRCUMPLEX}
    mass = sum(known.values())
    if mass <= 0 or not math.isfinite(mass):
        return None
    valence = sum(p * CIRCUMPLEX[label][0] for label, p in known.items()) / mass
    arousal = sum(p * CIRCUMPLEX[label][1] for label, p in known.items()) / mass
    clip = lambda value: max(-1.0, min(1.0, value))  # noqa: E731
    return Dimensions(arousal=clip(arousal), valence=clip(valence), coverage=mass / total)
