"""PaddleSpeech backend, as the seed project used it (``ASRExecutor``).

Optional: ``pip install -r requirements-paddle.txt`` (it pins an old opencv,
so it is kept out of the main requirements).  Its weights come from Baidu's
object store on first use; when they are neither cached (under
``$PPSPEECH_HOME`` or ``~/.paddlespeech``) nor downloadable, the caller gets
:class:`ASRUnavailable` naming the reason, before PaddleSpeech is started.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from ser.audio import SAMPLE_RATE

from . import hub
from .errors import ASRUnavailable
from .transcript import Segment, Transcript

NAME = "paddlespeech"
# PaddleSpeech's offline ASR models for 16 kHz audio, and their language.
MODELS = {"conformer_wenetspeech": "zh", "transformer_librispeech": "en"}
DEFAULT_MODEL = {"zh": "conformer_wenetspeech", "en": "transformer_librispeech"}
INSTALL_HINT = "pip install -r requirements-paddle.txt"
# ASRExecutor keeps state between calls (it is not re-entrant).
_lock = threading.Lock()


def availability() -> str | None:
    if importlib.util.find_spec("paddlespeech") is None:
        return f"PaddleSpeech is not installed ({INSTALL_HINT})."
    return None


def model_choices() -> list[tuple[str, bool, str]]:
    reason = availability()
    return [(name, reason is None, reason or "") for name in MODELS]


@lru_cache(maxsize=len(MODELS))
def load_executor(model: str, lang: str):
    """One ``ASRExecutor`` per model: an executor keeps the first model it loads."""
    reason = availability()
    if reason:
        raise ASRUnavailable(reason)
    try:
        from paddlespeech.cli.asr.infer import ASRExecutor
    except Exception as error:  # an installed but broken paddle (numpy/opencv ABI) lands here
        raise ASRUnavailable(f"PaddleSpeech is installed but cannot be imported: {error}") from error
    _ensure_weights(model, lang)
    return ASRExecutor()


def _ensure_weights(model: str, lang: str) -> None:
    """Fail fast unless the weights are cached or their host answers."""
    from paddlespeech.resource import CommonTaskResource
    from paddlespeech.utils.env import MODEL_HOME

    tag = f"{model}-{lang}-16k"
    resource = CommonTaskResource(task="asr", model_format="dynamic")
    if tag not in resource.pretrained_models:
        raise ASRUnavailable(f"PaddleSpeech has no ASR model {tag}.")
    version = resource.get_versions(tag)[-1]
    url = resource.pretrained_models[tag][version]["url"]
    archive = Path(MODEL_HOME, tag, version, os.path.basename(urlparse(url).path))
    host = urlparse(url).hostname
    if not archive.is_file() and not hub.host_reachable(host, 443):
        raise ASRUnavailable(
            f"PaddleSpeech's weights for {tag} are not cached ({archive.parent}) and {host},"
            " where they are downloaded from, cannot be reached. Fetch them once while"
            " online, or use the faster-whisper backend."
        )


def transcribe(samples: np.ndarray, model: str | None = None, language: str | None = None) -> Transcript:
    """Transcribe 16 kHz mono samples; Chinese by default (the seed's use).

    PaddleSpeech gives no timings, so the transcript has one segment.
    """
    if model is not None and model not in MODELS:
        raise ValueError(f"Unknown PaddleSpeech model {model!r}; choose one of {', '.join(MODELS)}.")
    language = language or (MODELS[model] if model else "zh")
    if language not in DEFAULT_MODEL:
        raise ValueError(f"PaddleSpeech's models here cover zh and en, not {language!r}.")
    model = model or DEFAULT_MODEL[language]
    if MODELS[model] != language:
        raise ValueError(f"The PaddleSpeech model {model} is for {MODELS[model]!r}, not {language!r}.")
    executor = load_executor(model, language)
    import soundfile

    with _lock, tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "input.wav")
        soundfile.write(path, samples, SAMPLE_RATE, subtype="PCM_16")
        try:
            text = executor(audio_file=path, model=model, lang=language, sample_rate=SAMPLE_RATE,
                            force_yes=True, device="cpu")
        except (Exception, SystemExit) as error:  # ASRExecutor calls sys.exit on bad input
            raise ASRUnavailable(f"PaddleSpeech could not transcribe the audio: {error!r}") from error
    duration = samples.size / SAMPLE_RATE
    text = str(text or "").strip()
    return Transcript(
        text=text,
        language=language,
        segments=(Segment(0.0, duration, text),) if text else (),
        backend=NAME,
        model=model,
        duration=duration,
    )
