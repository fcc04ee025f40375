"""Speech emotion recognition: audio in, emotion and gender probabilities out.

The names below load on first use (PEP 562), so ``import asr`` or
``from ser.audio import load_audio`` does not pull in openSMILE and
scikit-learn (1.3 s and about 90 MB) for a caller that only decodes audio.
``from ser import EmotionRecognizer`` works as before.
"""

from __future__ import annotations

import importlib

# Where each public name lives.
_EXPORTS = {
    "SAMPLE_RATE": "audio", "AudioError": "audio", "load_audio": "audio",
    "EMOTIONS": "corpora", "Utterance": "corpora", "read_corpus": "corpora",
    "EmotionRecognizer": "recognizer", "Recognition": "recognizer", "recognize": "recognizer",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
