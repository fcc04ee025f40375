"""Speech to text, the emotion of the words, and its fusion with the voice's.

>>> from ser import load_audio
>>> from asr import transcribe, text_emotion, fuse
>>> transcript = transcribe(load_audio("clip.wav"))          # doctest: +SKIP
>>> words = text_emotion(transcript.text)                    # doctest: +SKIP
>>> fuse(voice_probabilities, words.probabilities)           # doctest: +SKIP
"""

from .errors import ASRUnavailable
from .emotion import TEXT_WEIGHT, TextEmotion, fuse, text_emotion
from .api import (
    AUTO_LANGUAGE,
    BACKENDS,
    DEFAULT_BACKEND,
    LANGUAGES,
    Backend,
    available_backends,
    model_choices,
    transcribe,
)
from .transcript import Segment, Transcript, Word

__all__ = [
    "ASRUnavailable",
    "AUTO_LANGUAGE",
    "BACKENDS",
    "DEFAULT_BACKEND",
    "LANGUAGES",
    "TEXT_WEIGHT",
    "Backend",
    "Segment",
    "TextEmotion",
    "Transcript",
    "Word",
    "available_backends",
    "fuse",
    "model_choices",
    "text_emotion",
    "transcribe",
]
