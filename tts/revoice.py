"""Re-voicing's own part of speech synthesis: a recording's prosody changed to another emotion.

The whole flow (recognise, transcribe, say again) crosses packages and is
:func:`pipelines.revoice.revoice`; here are the parts that need only ``tts``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .conversion import CONVERSIONS, DEFAULT_CONVERSION, check_method
from .synthesis import DEFAULT_INTENSITY, canonical_emotion


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
    check_method(method)
    intensity = float(np.clip(intensity, 0.0, 1.0))
    return CONVERSIONS[method](samples, canonical_emotion(emotion), intensity, canonical_emotion(source_emotion),
                               sample_rate, seed)


def next_output_path(folder: str | Path = "output") -> Path:
    """``folder/N.wav`` with the next free N (1, 2, …), as the seed's ``detect.py``."""
    folder = Path(folder)
    taken = [int(p.stem) for p in folder.glob("*.wav") if p.stem.isdigit()] if folder.is_dir() else []
    return folder / f"{max(taken, default=0) + 1}.wav"
