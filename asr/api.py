"""The entry point: one function over three backends, and what the UI offers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ser.audio import AudioError, check_audio

from . import paddle_backend, sphinx_backend, whisper_backend
from .errors import ASRUnavailable
from .transcript import Transcript

logger = logging.getLogger(__name__)

BACKENDS = {
    whisper_backend.NAME: whisper_backend,
    sphinx_backend.NAME: sphinx_backend,
    paddle_backend.NAME: paddle_backend,
}
DEFAULT_BACKEND = whisper_backend.NAME
AUTO_LANGUAGE = "auto"
DESCRIPTIONS = {
    whisper_backend.NAME: "Whisper (CTranslate2): bundled base (multilingual, default) and tiny.en (English, faster)",
    sphinx_backend.NAME: "CMU pocketsphinx: bundled US-English model, light fallback",
    paddle_backend.NAME: "PaddleSpeech ASRExecutor (Chinese / English), optional install",
}
# Language choices offered in the UI; any Whisper code is accepted by transcribe().
LANGUAGES = {
    "en": "English", "de": "German", "zh": "Chinese", "fr": "French", "es": "Spanish",
    "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "ja": "Japanese",
    "ko": "Korean", "ar": "Arabic", "hi": "Hindi", "tr": "Turkish", "pl": "Polish", "sv": "Swedish",
}


@dataclass(frozen=True)
class Backend:
    name: str
    available: bool
    reason: str
    description: str


def available_backends() -> list[Backend]:
    """Every backend, with ``available`` and, when not, the reason in words."""
    out = []
    for name, module in BACKENDS.items():
        reason = module.availability()
        out.append(Backend(name, reason is None, reason or "", DESCRIPTIONS[name]))
    return out


def model_choices(backend: str = DEFAULT_BACKEND) -> list[tuple[str, bool, str]]:
    """``(model, available, reason)`` for the models of ``backend``.

    The first is the backend's default.  faster-whisper also lists the Hub's
    faster-whisper sizes, available when cached or when the Hub answers.
    """
    return _backend(backend).model_choices()


def transcribe(
    audio: np.ndarray,
    backend: str = DEFAULT_BACKEND,
    model: str | None = None,
    language: str | None = None,
    task: str = "transcribe",
    max_duration: float | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Transcript:
    """Speech to text.

    Parameters
    ----------
    audio : numpy.ndarray
        Mono float32 samples at 16 kHz, as :func:`ser.audio.load_audio` returns.
    backend : {"faster-whisper", "pocketsphinx", "paddlespeech"}
        Recogniser to use.
    model : str, optional
        Backend model; ``None`` or ``"auto"`` is the backend's default
        (faster-whisper: the bundled base, every language).
        faster-whisper also takes any faster-whisper size, Hub repo id or
        local CTranslate2 folder.
    language : str, optional
        ISO 639-1 code; ``None`` (or ``"auto"``) detects it (faster-whisper)
        or uses the backend's language.
    task : {"transcribe", "translate"}
        ``"translate"`` writes English text for speech in any language
        (faster-whisper with a multilingual model only), e.g. to read the
        emotion of non-English words with the English text classifiers.
    max_duration : float, optional
        Longest audio accepted in seconds (default: :func:`ser.audio.load_audio`'s
        limit); the timeline, which has checked its recording, passes ``math.inf``.
    progress : callable, optional
        ``progress(fraction, message)`` after each decoded segment (faster-whisper);
        an exception it raises stops the decode there (a page that was closed).

    Returns
    -------
    Transcript

    Raises
    ------
    ser.audio.AudioError
        The samples are empty, silent, too short or too long.
    ASRUnavailable
        The backend or model cannot be used here (not installed, not cached
        and offline …); the message says why.
    ValueError
        An unknown model or a language the model does not cover.

    Examples
    --------
    >>> from ser.audio import load_audio
    >>> transcribe(load_audio("assets/examples/asr_en_happy.wav")).text  # doctest: +SKIP
    'I am so happy to see you again. This is wonderful news.'
    """
    module = _backend(backend)
    reason = module.availability()
    if reason:
        raise ASRUnavailable(reason)
    samples = np.asarray(audio)
    if samples.ndim != 1 or samples.dtype.kind != "f":
        raise AudioError("transcribe() takes mono float samples at 16 kHz; decode files with ser.load_audio.")
    check_audio(samples, **({} if max_duration is None else {"max_duration": max_duration}))
    language = (language or "").strip().lower()
    language = None if language in ("", AUTO_LANGUAGE) else language
    model = (model or "").strip()
    model = None if model in ("", whisper_backend.AUTO) else model  # "auto": each backend's default
    samples = samples.astype(np.float32, copy=False)
    if task != "transcribe" and module is not whisper_backend:
        raise ValueError(f"Only faster-whisper translates; {backend} transcribes.")
    start = time.perf_counter()
    # faster-whisper reports each segment (and stops where progress raises); the others answer at once.
    extra = {"progress": progress} if module is whisper_backend and progress is not None else {}
    transcript = (module.transcribe(samples, model=model, language=language, **extra) if task == "transcribe"
                  else module.transcribe(samples, model=model, language=language, task=task, **extra))
    logger.info("%s %.1f s of audio with %s/%s (%s) in %.2f s%s", task, samples.size / 16_000, transcript.backend,
                transcript.model, transcript.language, time.perf_counter() - start,
                "".join(f"; {note}" for note in transcript.notes))
    return transcript


def _backend(name: str):
    if name not in BACKENDS:
        raise ValueError(f"Unknown ASR backend {name!r}; choose one of {', '.join(BACKENDS)}.")
    return BACKENDS[name]
