"""The one decode of a request: anything audio-like in, checked 16 kHz float32 samples out."""

from __future__ import annotations

import numpy as np

from ser.audio import SAMPLE_RATE, load_audio


def decode(audio, *, max_duration: float, allow_silence: bool = False) -> np.ndarray:
    """Decode and check ``audio`` once, at a pipeline's entry; everything below takes the result.

    Parameters
    ----------
    audio : path, bytes, file-like, ``(rate, array)`` or numpy.ndarray
        Anything :func:`ser.audio.load_audio` reads; a bare array is 16 kHz.
    max_duration : float
        The request's limit in seconds (:attr:`pipelines.settings.Settings.max_duration_s`).
    allow_silence : bool
        Accept silence (the timeline finds no speech in it and answers empty).

    Returns
    -------
    numpy.ndarray
        Shape (n,), float32, 16 kHz.

    Raises
    ------
    ser.audio.AudioTooLong, ser.audio.AudioError
        Over ``max_duration``, or not usable audio.
    """
    rate = SAMPLE_RATE if isinstance(audio, np.ndarray) else None
    return load_audio(audio, rate, max_duration=max_duration, allow_silence=allow_silence)


def seconds(samples: np.ndarray) -> float:
    """Duration of 16 kHz samples, in seconds (3 decimals, as every result reports it)."""
    return round(samples.size / SAMPLE_RATE, 3)
