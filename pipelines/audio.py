"""The one decode of a request: anything audio-like in, checked 16 kHz float32 samples out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ser.audio import SAMPLE_RATE, AudioTooLong, load_audio


@dataclass(frozen=True)
class Decoded:
    """Samples a face has already decoded and checked (the REST API decodes before a job is queued).

    A pipeline handed one does not check it again when its own limit is at
    least ``max_duration`` and it allows no less than ``allow_silence`` did.
    """

    samples: np.ndarray
    max_duration: float
    allow_silence: bool = False

    @property
    def seconds(self) -> float:
        return self.samples.size / SAMPLE_RATE


def decode(audio, *, max_duration: float, allow_silence: bool = False) -> np.ndarray:
    """Decode and check ``audio`` once, at a pipeline's entry; everything below takes the result.

    Parameters
    ----------
    audio : path, bytes, file-like, ``(rate, array)``, numpy.ndarray or Decoded
        Anything :func:`ser.audio.load_audio` reads; a bare array is 16 kHz;
        :class:`Decoded` samples are not checked a second time.
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
    if isinstance(audio, Decoded):
        if audio.seconds > max_duration:
            raise AudioTooLong(max_duration, audio.seconds)
        if audio.max_duration <= max_duration and (allow_silence or not audio.allow_silence):
            return audio.samples  # checked once already, with a limit no larger than this one
        audio = audio.samples
    rate = SAMPLE_RATE if isinstance(audio, np.ndarray) else None
    return load_audio(audio, rate, max_duration=max_duration, allow_silence=allow_silence)


def seconds(samples: np.ndarray) -> float:
    """Duration of 16 kHz samples, in seconds (3 decimals, as every result reports it)."""
    return round(samples.size / SAMPLE_RATE, 3)
