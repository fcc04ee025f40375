"""The emotion of the words, and its fusion with the emotion of the voice.

Two classifiers, both mapped onto the project's labels
(:data:`LABELS` ⊂ :data:`ser.corpora.EMOTIONS`):

* ``"transformer"``: j-hartmann/emotion-english-distilroberta-base (the
  seed's model) through ``transformers``; used when ``transformers`` is
  installed and the model is in the Hugging Face cache or the Hub answers.
* ``"lexicon"``: the NRC emotion lexicon bundled in ``nrclex``, no download.
  Each emotional word spreads one vote over its NRC emotions; a neutral
  prior of :data:`NEUTRAL_PRIOR` votes keeps a sentence with one emotional
  word from reading as certain.  Words under a negation ("not happy") are
  skipped: the lexicon cannot say what their opposite is.

``classifier="auto"`` tries the transformer and falls back to the lexicon;
the result's ``source`` says which one answered and its ``note`` why the
transformer did not.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ser.corpora import EMOTIONS

from . import hub
from .errors import ASRUnavailable

logger = logging.getLogger(__name__)

LABELS = ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
TRANSFORMER_MODEL = "j-hartmann/emotion-english-distilroberta-base"
# Weights for TensorFlow, Flax, ONNX and Rust that a PyTorch pipeline never reads.
OTHER_FRAMEWORKS = ["*.h5", "*.msgpack", "*.onnx", "*.ot", "tf_*", "flax_*", "rust_*", "onnx/*"]
# The transformer's labels (Ekman's six plus neutral) and NRC's emotions.
TRANSFORMER_LABELS = {
    "neutral": "neutral", "joy": "happy", "sadness": "sad", "anger": "angry",
    "fear": "fearful", "disgust": "disgust", "surprise": "surprised",
}
NRC_LABELS = {k: v for k, v in TRANSFORMER_LABELS.items() if k != "neutral"}
# NRC's trust, anticipation, positive and negative are not emotions of our
# set and carry no vote.
NEUTRAL_PRIOR = 1.0
# Weight of the words in fuse(); see its docstring for why the voice gets more.
TEXT_WEIGHT = 0.3
NEGATION_WINDOW = 3
NEGATIONS = {"not", "no", "never", "nothing", "nobody", "neither", "nor", "without", "hardly"}
# Common emotion words that nrclex's bundled lexicon lacks.
SUPPLEMENT = {
    "sad": ("sadness",), "tears": ("sadness",), "heartbroken": ("sadness",), "miss": ("sadness",),
    "scared": ("fear",), "terrified": ("fear",), "panicked": ("fear",),
    "great": ("joy",), "fantastic": ("joy",), "awesome": ("joy",), "thrilled": ("joy",),
    "amazing": ("joy", "surprise"), "amazed": ("surprise",), "wow": ("surprise",),
    "shocked": ("surprise",), "astonished": ("surprise",), "startled": ("surprise", "fear"),
    "annoyed": ("anger",), "irritated": ("anger",), "screamed": ("anger", "fear"),
    "disgusted": ("disgust",), "yuck": ("disgust",),
}
TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Suffix rules tried in order when a word is not in the lexicon as written.
SUFFIXES = (("ies", "y"), ("ied", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
            ("es", ""), ("s", ""), ("ly", ""))

_pipeline_lock = threading.Lock()


@dataclass(frozen=True)
class TextEmotion:
    """The emotion of a text.

    Attributes
    ----------
    emotion : str
        The most probable label.
    probabilities : dict
        Label → probability over :data:`LABELS`, summing to 1.
    source : str
        ``"transformer: <model>"`` or ``"lexicon: NRC (nrclex)"``.
    note : str
        Why the lexicon answered when the transformer was asked for, else ``""``.
    words : tuple of str
        The emotional words the lexicon counted (empty for the transformer).
    """

    emotion: str
    probabilities: dict
    source: str
    note: str = ""
    words: tuple[str, ...] = ()


def text_emotion(text: str, classifier: str = "auto", model: str = TRANSFORMER_MODEL) -> TextEmotion:
    """Classify the emotion of ``text``.

    Parameters
    ----------
    text : str
        English text (a transcript).
    classifier : {"auto", "transformer", "lexicon"}
        ``"auto"`` uses the transformer when it can be loaded, else the lexicon.
    model : str
        Hub repo id or local folder of the transformer.

    Raises
    ------
    ASRUnavailable
        ``classifier="transformer"`` and it cannot be loaded.

    Examples
    --------
    >>> text_emotion("I am so happy today", classifier="lexicon").emotion
    'happy'
    """
    if classifier not in ("auto", "transformer", "lexicon"):
        raise ValueError(f"Unknown classifier {classifier!r}; choose auto, transformer or lexicon.")
    note = ""
    if classifier != "lexicon":
        try:
            return transformer_emotion(text, model)
        except ASRUnavailable as error:
            if classifier == "transformer":
                raise
            note = str(error)
            _log_fallback(note)
    result = lexicon_emotion(text)
    return TextEmotion(result.emotion, result.probabilities, result.source, note, result.words)


@lru_cache(maxsize=None)
def _log_fallback(reason: str) -> None:
    # Once per reason: every sentence would otherwise repeat it.
    logger.warning("text emotion falls back to the NRC lexicon: %s", reason)


def lexicon_emotion(text: str) -> TextEmotion:
    """Emotion of ``text`` from the bundled NRC lexicon (no download)."""
    from nrclex import NRCLex

    tokens = TOKEN.findall(text.lower())
    lexicon = NRCLex()  # the bundled lexicon, parsed once per process by nrclex
    votes = dict.fromkeys(LABELS, 0.0)
    votes["neutral"] = NEUTRAL_PRIOR
    counted = []
    for index, token in enumerate(tokens):
        window = tokens[max(0, index - NEGATION_WINDOW):index]
        if any(w in NEGATIONS or w.endswith("n't") for w in window):
            continue
        labels = _lexicon_labels(lexicon, token)
        for label in labels:
            votes[label] += 1.0 / len(labels)
        if labels:
            counted.append(token)
    total = sum(votes.values())
    probabilities = {label: votes[label] / total for label in LABELS}
    return TextEmotion(_top(probabilities), probabilities, "lexicon: NRC (nrclex)", "", tuple(counted))


def _lexicon_labels(lexicon, token: str) -> tuple[str, ...]:
    """Our labels for one word, through nrclex's token API and light stemming."""
    for candidate in _candidates(token):
        if candidate in SUPPLEMENT:
            affects = SUPPLEMENT[candidate]
        else:
            lexicon.load_token_list([candidate])
            affects = lexicon.affect_list
        labels = tuple(dict.fromkeys(NRC_LABELS[a] for a in affects if a in NRC_LABELS))
        if affects:
            return labels
    return ()


def _candidates(token: str):
    yield token
    for suffix, replacement in SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            yield token[: -len(suffix)] + replacement


def transformer_emotion(text: str, model: str = TRANSFORMER_MODEL) -> TextEmotion:
    """Emotion of ``text`` from a Hub text classifier (raises :class:`ASRUnavailable`)."""
    classify = load_classifier(model)
    scores = classify(text, truncation=True)
    if scores and isinstance(scores[0], list):  # one list per input text
        scores = scores[0]
    probabilities = dict.fromkeys(LABELS, 0.0)
    for item in scores:
        label = TRANSFORMER_LABELS.get(item["label"].lower())
        if label is None:
            raise ASRUnavailable(f"The model {model} has a label {item['label']!r} outside {LABELS}.")
        probabilities[label] += float(item["score"])
    total = sum(probabilities.values()) or 1.0
    probabilities = {k: v / total for k, v in probabilities.items()}
    return TextEmotion(_top(probabilities), probabilities, f"transformer: {model}")


@lru_cache(maxsize=2)
def load_classifier(model: str = TRANSFORMER_MODEL):
    """A ``transformers`` text-classification pipeline, loaded once.

    ``model`` is a local folder (``save_pretrained`` output) or a Hub repo id,
    resolved through :func:`asr.hub.snapshot` so it never waits on a dead
    network.
    """
    try:
        import transformers
    except ImportError:
        raise ASRUnavailable(
            "The transformer text classifier needs transformers and torch"
            " (pip install transformers torch)."
        ) from None
    path = Path(model).expanduser()
    if not path.is_dir():
        path = hub.snapshot(model, ignore_patterns=OTHER_FRAMEWORKS)
    with _pipeline_lock:
        try:
            return transformers.pipeline("text-classification", model=str(path), top_k=None, device="cpu")
        except Exception as error:
            raise ASRUnavailable(f"The text classifier {model} could not be loaded: {error}") from error



def fuse(voice: dict, text: dict, text_weight: float = TEXT_WEIGHT) -> dict:
    """Weighted average of the voice's and the words' emotion probabilities.

    ``fused[label] = (1 - w) * voice[label] + w * text[label]`` over the union
    of labels (a label missing from one side counts 0 there), renormalised to
    sum to 1.  Each side is normalised first, so scores that do not sum to 1
    are accepted; an empty side counts as no evidence and the other side is
    returned alone.

    The default ``w = 0.3`` trusts the voice more: acoustic recognition is
    measured (UA ≈ 0.7 speaker-independent on RAVDESS) while everyday
    sentences are mostly lexically neutral, and acted corpora say the same
    sentence in every emotion; the words still move the result when they
    carry a clear sentiment.

    Parameters
    ----------
    voice, text : dict
        Label → probability, e.g. ``ser`` recognition's ``probabilities`` and
        :attr:`TextEmotion.probabilities`.
    text_weight : float
        Weight ``w`` of the words, between 0 and 1.

    Returns
    -------
    dict
        Label → probability, labels in the canonical order.

    Examples
    --------
    >>> fuse({"angry": 1.0}, {"neutral": 1.0}, text_weight=0.25)
    {'neutral': 0.25, 'angry': 0.75}
    """
    if not 0.0 <= text_weight <= 1.0:
        raise ValueError(f"text_weight must be between 0 and 1, got {text_weight}.")
    voice, text = _normalised(voice, "voice"), _normalised(text, "text")
    if not voice or not text:
        return voice or text
    order = {label: i for i, label in enumerate(EMOTIONS)}
    labels = sorted(voice.keys() | text.keys(), key=lambda label: (order.get(label, len(order)), label))
    fused = {label: (1 - text_weight) * voice.get(label, 0.0) + text_weight * text.get(label, 0.0)
             for label in labels}
    total = sum(fused.values())
    return {label: p / total for label, p in fused.items()}


def _normalised(probabilities: dict, name: str) -> dict:
    values = {label: float(p) for label, p in (probabilities or {}).items()}
    if any(not (p >= 0.0) or p == float("inf") for p in values.values()):
        raise ValueError(f"The {name} probabilities must be finite and non-negative.")
    total = sum(values.values())
    return {label: p / total for label, p in values.items()} if total > 0 else {}


def _top(probabilities: dict) -> str:
    return max(probabilities, key=probabilities.get)
