"""Text to speech with emotion and voice control, and the prosody conversion of recordings.

Re-voicing a recording (recognise, transcribe, say again) crosses packages: :func:`pipelines.revoice`.

>>> from tts import synthesize
>>> audio, rate = synthesize("Dogs are sitting by the door.", "sad", voice="smallgirl")  # doctest: +SKIP
"""

from .engine import Engine
from .engines import EngineError
from .hub import HubVoiceError
from .prosody import EMOTION_RULES, ProsodyRule
from .registry import ENGINES, available_engines, register_engine
from .revoice import convert_emotion
from .synthesis import (DEFAULT_INTENSITY, EMOTIONS, MAX_AUDIO_SECONDS, MAX_TEXT, BudgetError, Synthesis,
                        check_budget, synthesize)
from .voices import SEED_VOICES, VOICES, Voice

__all__ = [
    "BudgetError",
    "DEFAULT_INTENSITY",
    "EMOTIONS",
    "EMOTION_RULES",
    "ENGINES",
    "Engine",
    "EngineError",
    "HubVoiceError",
    "MAX_AUDIO_SECONDS",
    "MAX_TEXT",
    "ProsodyRule",
    "SEED_VOICES",
    "Synthesis",
    "VOICES",
    "Voice",
    "available_engines",
    "check_budget",
    "convert_emotion",
    "register_engine",
    "synthesize",
]
