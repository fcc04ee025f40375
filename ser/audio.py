"""Decode any audio input into mono float32 at 16 kHz, once.

Every other module (features, models, ASR, TTS) takes the array this module
returns, never a path.  Bad input raises :class:`AudioError` with a message a
user can act on.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
MIN_DURATION = 0.3
MAX_DURATION = float(os.environ.get("SER_MAX_DURATION", 600.0))
# Peak below this (about -66 dBFS) is treated as silence: dither and mic hiss
# sit there, speech never does.
SILENCE_PEAK = 5e-4


class AudioError(ValueError):
    """The input cannot be used as speech audio; the message says why."""


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    source_rate: int
    source_channels: int


def load_audio(
    source,
    sample_rate: int | None = None,
    *,
    min_duration: float = MIN_DURATION,
    max_duration: float | None = None,
    allow_silence: bool = False,
) -> np.ndarray:
    """Decode ``source`` to mono float32 at 16 kHz and check it is usable.

    Parameters
    ----------
    source : str, Path, bytes, file-like, numpy array or ``(rate, array)``
        A file in any format ffmpeg reads (wav, flac, mp3, ogg, webm, m4a …),
        its bytes, or samples.  A bare array needs ``sample_rate``; integer
        arrays are scaled from their full range; ``(rate, array)`` is what
        Gradio's audio component gives.
    sample_rate : int, optional
        Rate of a bare array.
    min_duration, max_duration : float
        Accepted duration range in seconds (``max_duration`` defaults to
        ``SER_MAX_DURATION`` or 600 s).
    allow_silence : bool
        Skip the silence check (for callers that segment long recordings).

    Returns
    -------
    numpy.ndarray
        1-D float32 samples at :data:`SAMPLE_RATE`.

    Examples
    --------
    >>> y = load_audio("clip.mp3")            # doctest: +SKIP
    >>> y = load_audio(samples, sample_rate=44_100)  # doctest: +SKIP
    """
    samples, rate = decode(source, sample_rate)
    samples = to_mono(samples)
    samples = resample(samples, rate, SAMPLE_RATE)
    check_audio(
        samples,
        min_duration=min_duration,
        max_duration=MAX_DURATION if max_duration is None else max_duration,
        allow_silence=allow_silence,
    )
    return samples


def decode(source, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Return ``(samples, rate)`` with samples float32, shape (n,) or (n, channels)."""
    if isinstance(source, tuple) and len(source) == 2 and np.isscalar(source[0]):
        sample_rate, source = int(source[0]), source[1]
    if isinstance(source, (list, np.ndarray)):
        if not sample_rate or sample_rate <= 0:
            raise AudioError("A raw sample array needs its sample rate.")
        return _array_to_float(np.asarray(source)), int(sample_rate)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise AudioError(f"No such audio file: {path}")
        if path.stat().st_size == 0:
            raise AudioError(f"The file {path.name} is empty.")
        data, name = path.read_bytes(), path.name
    elif isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), "the upload"
    elif hasattr(source, "read"):
        data, name = source.read(), getattr(source, "name", "the upload")
    else:
        raise AudioError(f"Cannot read audio from a {type(source).__name__}.")
    if not data:
        raise AudioError(f"{name} is empty.")
    return _decode_bytes(data, name)


def _array_to_float(samples: np.ndarray) -> np.ndarray:
    if samples.size == 0:
        raise AudioError("The audio is empty.")
    if samples.dtype.kind in "iu":
        info = np.iinfo(samples.dtype)
        offset = (info.max + 1) / 2 if samples.dtype.kind == "u" else 0
        samples = (samples.astype(np.float64) - offset) / max(info.max - offset + 1, 1)
    elif samples.dtype.kind != "f":
        raise AudioError(f"Unsupported sample type {samples.dtype}.")
    samples = samples.astype(np.float32, copy=False)
    if samples.ndim == 2 and samples.shape[0] < samples.shape[1] and samples.shape[0] <= 8:
        samples = samples.T  # (channels, n) -> (n, channels)
    if samples.ndim > 2:
        raise AudioError(f"Expected 1 or 2 dimensions of samples, got {samples.ndim}.")
    if not np.all(np.isfinite(samples)):
        raise AudioError("The audio contains invalid (NaN or infinite) samples.")
    return samples


def _decode_bytes(data: bytes, name: str) -> tuple[np.ndarray, int]:
    # libsndfile is fast for wav/flac/ogg; ffmpeg (through PyAV) reads the rest.
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=False)
        return _array_to_float(samples), int(rate)
    except AudioError:
        raise
    except Exception:
        pass
    return _decode_with_ffmpeg(data, name)


def _decode_with_ffmpeg(data: bytes, name: str) -> tuple[np.ndarray, int]:
    import av

    chunks = []
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{name} has no audio track.")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except Exception as error:
        raise AudioError(
            f"{name} is not a readable audio file (wav, flac, mp3, ogg, webm, m4a …)."
        ) from error
    if not chunks:
        raise AudioError(f"{name} contains no audio samples.")
    return np.concatenate(chunks).astype(np.float32), SAMPLE_RATE


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of an (n, channels) array."""
    return samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling from ``rate`` to ``target`` Hz."""
    if rate == target:
        return np.ascontiguousarray(samples, dtype=np.float32)
    if rate < 1000:
        raise AudioError(f"A sample rate of {rate} Hz is too low for speech.")
    from scipy.signal import resample_poly

    divisor = gcd(int(rate), int(target))
    out = resample_poly(samples, target // divisor, int(rate) // divisor)
    return out.astype(np.float32)


def check_audio(
    samples: np.ndarray,
    *,
    min_duration: float = MIN_DURATION,
    max_duration: float = MAX_DURATION,
    allow_silence: bool = False,
) -> None:
    """Raise :class:`AudioError` unless ``samples`` (16 kHz) are usable speech."""
    duration = samples.size / SAMPLE_RATE
    if samples.size == 0:
        raise AudioError("The audio is empty.")
    if duration < min_duration:
        raise AudioError(
            f"The audio is {duration:.2f} s long; at least {min_duration:.1f} s of speech is needed."
        )
    if duration > max_duration:
        raise AudioError(
            f"The audio is {duration:.0f} s long; the limit is {max_duration:.0f} s."
            " Use the timeline for long recordings."
        )
    if not allow_silence and float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise AudioError("The audio is silent: no speech was found.")
