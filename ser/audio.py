"""Decode any audio input into mono float32 at 16 kHz, once.

Every other module (features, models, ASR, TTS) takes the array this module
returns, never a path.  Bad input raises :class:`AudioError` with a message a
user can act on.
"""

from __future__ import annotations

import io
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BadAudio, TooLarge

SAMPLE_RATE = 16_000
MIN_DURATION = 0.3
# The default limit when neither the caller nor SER_MAX_DURATION gives one.
MAX_DURATION = 600.0
# Peak below this (about -66 dBFS) is treated as silence: dither and mic hiss
# sit there, speech never does.
SILENCE_PEAK = 5e-4
# Header limits, checked before any sample is decoded.  Decoding keeps the
# mono signal at the source rate until it is resampled, so memory is about
# 8 bytes x rate x max_duration: 230 MB at 48 kHz and the 600 s default,
# 0.9 GB at 192 kHz (the highest rate of common recorders; nothing above it
# carries more speech).  Each block read holds at most BLOCK_SAMPLES samples
# whatever the channel count.
MAX_CHANNELS = 32
MAX_SAMPLE_RATE = 192_000
BLOCK_SAMPLES = 1 << 20
# Longer files at more than 16 kHz are resampled while they are decoded (10 min at 48 kHz).
LONG_FRAMES = 600 * 48_000
# Float samples louder than this are not on the scale the models know (full
# scale is 1.0; int16 values cast to float reach 32768): they are scaled to a
# peak of 1.0, which also keeps the features finite (1e30 overflowed into NaN).
MAX_PEAK = 1e3
# libsndfile reports SF_COUNT_MAX frames when the header does not know the length.
_UNKNOWN_FRAMES = 1 << 62

logger = logging.getLogger(__name__)


class AudioError(BadAudio, ValueError):
    """The input cannot be used as speech audio; the message says why."""


class AudioTooLong(AudioError, TooLarge):
    """The audio is longer than the caller's limit (servers answer 413, not 400)."""

    kind = TooLarge.kind

    def __init__(self, limit: float, duration: float | None = None):
        self.limit, self.duration = limit, duration
        length = (f"is {duration:.0f} s long; the limit is {limit:.0f} s" if duration is not None
                  else f"is longer than the limit of {limit:.0f} s")
        super().__init__(f"The audio {length}. Use the timeline for long recordings.")


@dataclass(frozen=True)
class AudioInfo:
    duration: float
    source_rate: int
    source_channels: int


def default_max_duration() -> float:
    """The duration limit in seconds when a caller gives none: ``SER_MAX_DURATION`` or 600 s.

    Read at every call (not at import), so a limit set after start-up applies.
    """
    value = os.environ.get("SER_MAX_DURATION")
    return float(value) if value else MAX_DURATION


def load_audio(
    source,
    sample_rate: int | None = None,
    *,
    min_duration: float = MIN_DURATION,
    max_duration: float | None = None,
    allow_silence: bool = False,
) -> np.ndarray:
    """Decode ``source`` to mono float32 at 16 kHz and check it is usable.

    The cost is bounded by ``max_duration``, not by the input: the duration,
    channel count and sample rate in the file header are checked before
    anything is decoded, and decoding runs in blocks that stop as soon as the
    decoded audio passes the limit (headers can lie or, in streamed webm or
    flac, be absent).

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
        :func:`default_max_duration`: ``SER_MAX_DURATION`` or 600 s).
    allow_silence : bool
        Skip the silence check (for callers that segment long recordings).

    Returns
    -------
    numpy.ndarray
        1-D float32 samples at :data:`SAMPLE_RATE`.

    Raises
    ------
    AudioTooLong
        The audio (by its header or by what was decoded) is over ``max_duration``.
    AudioError
        Anything else that makes the input unusable.

    Examples
    --------
    >>> y = load_audio("clip.mp3")            # doctest: +SKIP
    >>> y = load_audio(samples, sample_rate=44_100)  # doctest: +SKIP
    """
    limit = default_max_duration() if max_duration is None else max_duration
    samples, rate = decode(source, sample_rate, max_duration=limit)
    samples = resample(samples, rate, SAMPLE_RATE)
    check_audio(samples, min_duration=min_duration, max_duration=limit, allow_silence=allow_silence)
    return samples


def decode(source, sample_rate: int | None = None, *,
           max_duration: float = math.inf) -> tuple[np.ndarray, int]:
    """Return ``(samples, rate)``: mono float32 samples (n,) at the source's rate.

    Raises :class:`AudioTooLong` as soon as the header or the decoded audio
    passes ``max_duration`` seconds.
    """
    if isinstance(source, tuple) and len(source) == 2 and np.isscalar(source[0]):
        sample_rate, source = int(source[0]), source[1]
    if isinstance(source, (list, np.ndarray)):
        if not sample_rate or sample_rate <= 0:
            raise AudioError("A raw sample array needs its sample rate.")
        return _array_to_float(np.asarray(source), int(sample_rate), max_duration), int(sample_rate)
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
    samples, rate = _decode_bytes(data, name, max_duration)
    return _finite_and_scaled(samples), rate


def _check_header(name: str, rate: int, channels: int, duration: float | None, max_duration: float) -> None:
    if channels > MAX_CHANNELS:
        raise AudioError(f"{name} has {channels} channels; at most {MAX_CHANNELS} are accepted.")
    if rate > MAX_SAMPLE_RATE:
        raise AudioError(f"{name} has a sample rate of {rate} Hz; at most {MAX_SAMPLE_RATE} Hz is accepted.")
    if rate < 1000:
        raise AudioError(f"A sample rate of {rate} Hz is too low for speech.")
    if duration is not None and duration > max_duration:
        raise AudioTooLong(max_duration, duration)


def _array_to_float(samples: np.ndarray, rate: int, max_duration: float) -> np.ndarray:
    if samples.size == 0:
        raise AudioError("The audio is empty.")
    if samples.ndim > 2:
        raise AudioError(f"Expected 1 or 2 dimensions of samples, got {samples.ndim}.")
    if samples.ndim == 2 and samples.shape[0] < samples.shape[1] and samples.shape[0] <= 8:
        samples = samples.T  # (channels, n) -> (n, channels)
    _check_header("The audio", rate, samples.shape[1] if samples.ndim == 2 else 1,
                  samples.shape[0] / rate, max_duration)
    if samples.dtype.kind in "iu":
        info = np.iinfo(samples.dtype)
        offset = (info.max + 1) / 2 if samples.dtype.kind == "u" else 0
        samples = (samples.astype(np.float64) - offset) / max(info.max - offset + 1, 1)
    elif samples.dtype.kind != "f":
        raise AudioError(f"Unsupported sample type {samples.dtype}.")
    else:
        samples = _finite_and_scaled(samples)  # before float32, where 1e300 would become inf
    return to_mono(samples.astype(np.float32, copy=False))


def _finite_and_scaled(samples: np.ndarray) -> np.ndarray:
    peak = max(float(np.max(samples)), -float(np.min(samples)))  # no full-size temporary
    if not math.isfinite(peak):
        raise AudioError("The audio contains invalid (NaN or infinite) samples.")
    if peak > MAX_PEAK:
        logger.info("samples peak at %.3g (full scale is 1.0); scaled to a peak of 1.0", peak)
        samples = samples / peak
    return samples


def _decode_bytes(data: bytes, name: str, max_duration: float) -> tuple[np.ndarray, int]:
    # libsndfile is fast for wav/flac/ogg/mp3; ffmpeg (through PyAV) reads the rest.
    import soundfile

    try:
        audio = soundfile.SoundFile(io.BytesIO(data))
    except Exception:
        return _decode_with_ffmpeg(data, name, max_duration)
    with audio:
        known = 0 <= audio.frames < _UNKNOWN_FRAMES
        _check_header(name, audio.samplerate, audio.channels,
                      audio.frames / audio.samplerate if known else None, max_duration)
        if known and audio.frames > LONG_FRAMES and audio.samplerate > SAMPLE_RATE:
            # Blocks at the file's own rate would all be held (and then copied once more)
            # before resampling: an hour at 192 kHz took 5.8 GB.  ffmpeg resamples as it
            # decodes, so only the 16 kHz result is held (bench/security_memory.py).
            return _decode_with_ffmpeg(data, name, max_duration)
        limit = max_duration * audio.samplerate
        blocks, size = [], 0
        try:
            for block in audio.blocks(blocksize=max(BLOCK_SAMPLES // audio.channels, 1), dtype="float32",
                                      always_2d=True):
                blocks.append(block.mean(axis=1, dtype=np.float32) if audio.channels > 1 else block[:, 0].copy())
                size += block.shape[0]
                if size > limit:
                    raise AudioTooLong(max_duration)
        except AudioError:
            raise
        except Exception:
            blocks = None
    if blocks is None:  # libsndfile opened it but could not read it through: let ffmpeg try
        return _decode_with_ffmpeg(data, name, max_duration)
    if not blocks:
        raise AudioError(f"{name} contains no audio samples.")
    return np.concatenate(blocks), int(audio.samplerate)


def _decode_with_ffmpeg(data: bytes, name: str, max_duration: float) -> tuple[np.ndarray, int]:
    import av

    chunks, decoded = [], 0
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{name} has no audio track.")
            stream = container.streams.audio[0]
            duration = (float(stream.duration * stream.time_base) if stream.duration and stream.time_base
                        else container.duration / av.time_base if container.duration else None)
            _check_header(name, stream.rate or SAMPLE_RATE, stream.channels or 1, duration, max_duration)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                # Whole samples: a sum of frame durations drifts past a limit the file meets exactly.
                decoded += frame.samples
                if decoded > max_duration * (frame.sample_rate or SAMPLE_RATE):
                    raise AudioTooLong(max_duration)
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
    return np.concatenate(chunks).astype(np.float32, copy=False), SAMPLE_RATE


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

    divisor = math.gcd(int(rate), int(target))
    # resample_poly keeps float32 input in float32: peak memory is the input plus
    # the output (measured: 600 s at 48 kHz adds nothing to the peak beyond them).
    out = resample_poly(samples, target // divisor, int(rate) // divisor)
    return out.astype(np.float32, copy=False)


def check_audio(
    samples: np.ndarray,
    *,
    min_duration: float = MIN_DURATION,
    max_duration: float | None = None,
    allow_silence: bool = False,
) -> None:
    """Raise :class:`AudioError` unless ``samples`` (16 kHz) are usable speech.

    ``max_duration`` defaults to :func:`default_max_duration`, read at the call.
    """
    duration = samples.size / SAMPLE_RATE
    limit = default_max_duration() if max_duration is None else max_duration
    if samples.size == 0:
        raise AudioError("The audio is empty.")
    if duration < min_duration:
        raise AudioError(
            f"The audio is {duration:.2f} s long; at least {min_duration:.1f} s of speech is needed."
        )
    if duration > limit:
        raise AudioTooLong(limit, duration)
    if not allow_silence and float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise AudioError("The audio is silent: no speech was found.")
