"""Continuous wavelet transform of an F0 contour (issue 15: learned emotion conversion).

The emotional-voice-conversion literature maps F0 per time scale rather than as
one offset: log-F0 is interpolated through unvoiced frames, normalised, and
decomposed with a Mexican-hat wavelet into :data:`SCALES` scales one octave
apart, from phone (10 ms) to phrase level (about 5 s) (Suni et al. 2013,
"Wavelets for intonation modeling in HMM speech synthesis", SSW8; Ming et
al. 2016, "Exemplar-based sparse representation of timbre and prosody for
voice conversion", ICASSP).  A conversion changes each scale and sums them
back (:func:`reconstruct`).
"""

from __future__ import annotations

import numpy as np

#: Scales, one octave apart.
SCALES = 10
#: The finest scale in frames (2 frames = 10 ms at 5 ms frames).
FINEST = 2.0


def interpolate_log_f0(f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-F0 linearly interpolated through unvoiced frames, and the voiced mask.

    Raises
    ------
    ValueError
        No voiced frame at all.
    """
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = f0 > 0
    if not voiced.any():
        raise ValueError("The take has no voiced frame, so it has no F0 contour to transform.")
    index = np.arange(f0.size)
    return np.interp(index, index[voiced], np.log(f0[voiced])), voiced


def _mexican_hat(width: float, length: int) -> np.ndarray:
    t = np.arange(-length, length + 1) / width
    wavelet = (1 - t ** 2) * np.exp(-t ** 2 / 2)
    return wavelet / np.sqrt(width)


def decompose(contour: np.ndarray) -> np.ndarray:
    """``(SCALES, frames)`` wavelet coefficients of a zero-mean contour, finest scale first."""
    contour = np.asarray(contour, dtype=np.float64)
    frames = contour.size
    out = np.empty((SCALES, frames))
    for i in range(SCALES):
        width = FINEST * 2 ** i
        half = int(min(5 * width, 4 * frames))
        # Mirror the ends so the coarse scales do not read the contour's edges as movements.
        padded = np.pad(contour, half, mode="symmetric") if half < frames else np.pad(contour, half, mode="wrap")
        out[i] = np.convolve(padded, _mexican_hat(width, half), mode="same")[half:half + frames]
    return out


def reconstruct(coefficients: np.ndarray) -> np.ndarray:
    """The contour back from :func:`decompose`'s scales (Suni et al.'s weighted sum), up to a gain.

    The gain is fixed (the same for every contour), so :func:`normalised_reconstruction` can undo it.
    """
    weights = (np.arange(SCALES) + 2.5) ** -2.5
    return (weights[:, None] * coefficients).sum(axis=0)


def normalised_reconstruction(coefficients: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """:func:`reconstruct`, scaled so that ``reference``'s own scales give back its standard deviation."""
    back = reconstruct(decompose(reference))
    gain = np.std(reference) / max(np.std(back), 1e-12)
    return gain * reconstruct(coefficients)
