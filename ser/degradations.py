"""Recording conditions a clip meets outside a studio, as pure array functions.

The robustness benchmark (``bench/ser_generalization.py``) scores the model
on clips passed through these; they take and return mono float32 audio at
16 kHz and are deterministic for a given ``seed``.

Examples
--------
>>> x = np.random.default_rng(0).standard_normal(16000).astype("float32") * 0.1
>>> y = add_noise(x, white_noise(len(x), seed=1), snr_db=10)
>>> round(snr(x, y - x), 1)
10.0
"""

from __future__ import annotations

import io

import numpy as np
from scipy import signal

from .audio import SAMPLE_RATE
from .features import active_power


def snr(speech: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio in dB: active-speech power over mean noise power."""
    return float(10 * np.log10(active_power(speech) / max(float(np.mean(noise.astype(np.float64) ** 2)), 1e-20)))


def apply_gain(samples: np.ndarray, db: float) -> np.ndarray:
    """Amplify by ``db`` and clip at full scale, as an overdriven input does."""
    return np.clip(samples * np.float32(10 ** (db / 20)), -1.0, 1.0).astype(np.float32)


def white_noise(n: int, *, seed: int = 0) -> np.ndarray:
    """Gaussian white noise of unit variance."""
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32)


def babble_noise(talkers: list[np.ndarray], n: int, *, seed: int = 0) -> np.ndarray:
    """Sum of several talkers, each looped to ``n`` samples from a random start, equal levels."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=np.float64)
    for clip in talkers:
        clip = clip / np.sqrt(active_power(clip))
        looped = np.tile(clip, int(np.ceil((n + len(clip)) / len(clip))))
        start = int(rng.integers(0, len(clip)))
        out += looped[start:start + n]
    return out.astype(np.float32)


def add_noise(samples: np.ndarray, noise: np.ndarray, *, snr_db: float) -> np.ndarray:
    """Mix ``noise`` in at ``snr_db`` relative to the clip's active speech (not clipped)."""
    noise = noise[: len(samples)].astype(np.float64)
    scale = np.sqrt(active_power(samples) / max(float(np.mean(noise ** 2)), 1e-20) / 10 ** (snr_db / 10))
    return (samples + scale * noise).astype(np.float32)


def room_response(*, rt60: float = 0.5, seed: int = 0, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A synthetic room impulse response: direct path plus exponentially decaying noise.

    The energy decays by 60 dB in ``rt60`` seconds (amplitude ``exp(-6.9 t / rt60)``).
    """
    t = np.arange(int(rt60 * 1.2 * rate)) / rate
    tail = np.random.default_rng(seed).standard_normal(len(t)) * np.exp(-6.908 * t / rt60)
    tail[: int(0.002 * rate)] = 0.0  # first reflections arrive a few ms after the direct sound
    response = 0.3 * tail
    response[0] = 1.0
    return response / np.sqrt(np.sum(response ** 2))


def reverberate(samples: np.ndarray, *, rt60: float = 0.5, seed: int = 0) -> np.ndarray:
    """Convolve with :func:`room_response`; the active-speech level is kept."""
    wet = signal.fftconvolve(samples.astype(np.float64), room_response(rt60=rt60, seed=seed))[: len(samples)]
    wet *= np.sqrt(active_power(samples) / max(active_power(wet), 1e-20))
    return wet.astype(np.float32)


def telephone(samples: np.ndarray) -> np.ndarray:
    """Narrow-band telephone: 8 kHz sampling, 300-3400 Hz band, back at 16 kHz."""
    narrow = signal.resample_poly(samples.astype(np.float64), 1, 2)
    band = signal.butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    return signal.resample_poly(signal.sosfilt(band, narrow), 2, 1)[: len(samples)].astype(np.float32)


def opus_webm(samples: np.ndarray, *, bitrate: int = 24_000) -> bytes:
    """Encode as a browser's recorder does: 48 kHz mono Opus in WebM at ``bitrate``.

    Decode the result with :func:`ser.audio.load_audio` to hear what the app hears.
    """
    import av

    upsampled = signal.resample_poly(samples.astype(np.float64), 3, 1).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libopus", rate=48_000)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        for start in range(0, len(upsampled), 960):
            frame = av.AudioFrame.from_ndarray(upsampled[None, start:start + 960], format="flt", layout="mono")
            frame.sample_rate = 48_000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


#: What :func:`augment` draws from, for training copies of clips.
AUGMENTATIONS = ("babble", "white noise", "reverberation", "telephone")


def augment(samples: np.ndarray, talkers: list[np.ndarray], *, seed: int) -> tuple[np.ndarray, str]:
    """One recording condition drawn at random, for a training copy of a clip.

    Babble (three to six of ``talkers``) or white noise at 5-25 dB SNR, a room
    with RT60 0.3-1.0 s, or the telephone band; wider ranges than the
    benchmark's fixed conditions, so a model is not taught one SNR or one room.
    Returns the degraded clip and a description of what was done.
    """
    rng = np.random.default_rng(seed)
    talkers = [t for t in talkers if len(t) and active_power(t) > 0]
    kind = AUGMENTATIONS[int(rng.integers(len(AUGMENTATIONS)))]
    if kind in ("babble", "white noise"):
        snr_db = float(rng.uniform(5, 25))
        if kind == "babble" and talkers:
            chosen = rng.choice(len(talkers), size=min(len(talkers), int(rng.integers(3, 7))), replace=False)
            noise = babble_noise([talkers[i] for i in chosen], len(samples), seed=int(rng.integers(2**31)))
        else:
            kind, noise = "white noise", white_noise(len(samples), seed=int(rng.integers(2**31)))
        return add_noise(samples, noise, snr_db=snr_db), f"{kind} {snr_db:.0f} dB"
    if kind == "reverberation":
        rt60 = float(rng.uniform(0.3, 1.0))
        return reverberate(samples, rt60=rt60, seed=int(rng.integers(2**31))), f"reverberation RT60 {rt60:.1f} s"
    return telephone(samples), "telephone"
