"""Speech emotion recognition: audio in, emotion and gender probabilities out."""

from .audio import SAMPLE_RATE, AudioError, load_audio
from .corpora import EMOTIONS, Utterance, read_corpus

__all__ = ["SAMPLE_RATE", "AudioError", "load_audio", "EMOTIONS", "Utterance", "read_corpus"]
