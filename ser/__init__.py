"""Speech emotion recognition: audio in, emotion and gender probabilities out."""

# openSMILE's native library must load before TensorFlow's (the Keras models of
# the workbench): in the other order eGeMAPS extraction corrupts the heap and
# aborts the process ("malloc(): invalid size").
import opensmile  # noqa: F401  isort: skip

from .audio import SAMPLE_RATE, AudioError, load_audio
from .corpora import EMOTIONS, Utterance, read_corpus
from .recognizer import EmotionRecognizer, Recognition, recognize

__all__ = ["SAMPLE_RATE", "AudioError", "load_audio", "EMOTIONS", "Utterance", "read_corpus",
           "EmotionRecognizer", "Recognition", "recognize"]
