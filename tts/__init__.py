"""Text to speech with emotion and voice control, and re-voicing of recordings.

>>> from tts import synthesize
>>> audio, rate = synthesize("Dogs are sitting by the door.", "sad", voice="smallgirl")  # doctest: +SKIP
"""

from .engines import EngineError
from .hub import HubVoiceError
from .prosody import EMOTION_RULES, ProsodyRule
from .revoice import Revoice, convert_emotion, revoice
from .synthesis import DEFAULT_INTENSITY, EMOTIONS, Synthesis, synthesize
from .voices import SEED_VOICES, VOICES, Voice

__all__ = [
    "DEFAULT_INTENSITY",
    "EMOTIONS",
    "EMOTION_RULES",
    "EngineError",
    "HubVoiceError",
    "ProsodyRule",
    "Revoice",
    "SEED_VOICES",
    "Synthesis",
    "VOICES",
    "Voice",
    "convert_emotion",
    "revoice",
    "synthesize",
]
