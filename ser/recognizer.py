"""EmotionRecognizer: audio in, emotion and gender with probabilities out."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from .audio import SAMPLE_RATE, AudioError, load_audio
from .bundle import BundleError, ModelBundle, load_bundle
from .choice import DEFAULT, ModelChoice
from .features import extract
from .hub import looks_like_repo_id, snapshot
from .models import restrict_proba
from .vad import require_speech

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "assets" / "models" / "default"
BUNDLE_FILES = ["bundle.json", "weights.safetensors", "*.skops", "*.keras", "README.md"]
# Bundles trained before calibration carry no "not sure" threshold of their own.
UNCALIBRATED_SURE_THRESHOLD = 0.5


def sure_label(emotion: str, confidence: float, threshold: float) -> tuple[bool, str]:
    """The honest answer: the emotion when ``confidence`` reaches ``threshold``, else "not sure".

    Examples
    --------
    >>> sure_label("sad", 0.41, 0.55)
    (False, 'not sure — closest: sad (41 %)')
    """
    if confidence >= threshold:
        return True, emotion
    return False, f"not sure — closest: {emotion} ({confidence:.0%})".replace("%", " %")


@dataclass
class Recognition:
    """The result of :meth:`EmotionRecognizer.recognize`.

    ``sure`` is False when the (calibrated) confidence is below the bundle's
    ``sure_threshold``; ``label`` is then "not sure — closest: sad (41 %)",
    else the emotion itself.  Show ``label`` to people, use ``emotion`` in code.
    """

    emotion: str
    confidence: float
    gender: str | None
    gender_confidence: float | None
    probabilities: dict[str, float]
    sure: bool = True
    label: str = ""
    # With an emotion subset: the whole model's best emotion and its confidence (from the same
    # features; the subset's probabilities are these renormalised), else None.
    full_emotion: str | None = None
    full_confidence: float | None = None

    @property
    def none_fits(self) -> bool:
        """With a subset: the whole model hears an emotion outside it, or the subset's best is not sure."""
        return self.full_emotion is not None and (self.full_emotion not in self.probabilities or not self.sure)

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_model(model: str | Path | ModelChoice | ModelBundle | None = None) -> ModelBundle:
    """Load a bundle from ``"default"``, a local folder, a Hub repo id (``org/name``) or a checked choice.

    Strings and paths are the local Python API (the owner's own code and
    CLI), so folders are accepted.  A server passes what a remote caller sent
    through :func:`ser.choice.choose_model` first and hands over the
    resulting :class:`~ser.choice.ModelChoice`, which never names an
    arbitrary path.
    """
    if isinstance(model, ModelBundle):
        return model
    if isinstance(model, ModelChoice):
        if model.kind == "bundle":
            return load_bundle(model.path)
        if model.kind == "hub":
            return _load_hub(model.name)
        model = DEFAULT
    if model is None or str(model) == DEFAULT:
        if not DEFAULT_MODEL.is_dir():
            raise BundleError(f"The default model is missing from {DEFAULT_MODEL}; "
                              "train it with `python -m ser train --default`.")
        return load_bundle(DEFAULT_MODEL)
    try:
        is_folder = Path(model).is_dir()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        is_folder = False
    if is_folder:
        return load_bundle(model)
    if looks_like_repo_id(str(model)):
        return _load_hub(str(model))
    raise BundleError(f"No model bundle at {str(model)[:200]!r} (not a folder, not a Hub repo id).")


def _load_hub(repo_id: str) -> ModelBundle:
    folder = snapshot(repo_id, allow_patterns=BUNDLE_FILES)
    # A cache snapshot links each file into the repo's blobs/ folder, two levels up.
    return load_bundle(folder, confine=folder.parent.parent)


class EmotionRecognizer:
    """Recognize the emotion and gender of a speaker.

    Parameters
    ----------
    model : str, Path, ModelChoice or ModelBundle
        ``"default"`` (the bundled model), a bundle folder, a Hugging Face
        Hub repo id holding a bundle, or what :func:`ser.choice.choose_model`
        allowed a remote caller.
    emotions : sequence of str, optional
        Restrict predictions to these labels (e.g. ``["angry", "neutral",
        "sad"]``); probabilities are renormalised over them.

    Examples
    --------
    >>> recognizer = EmotionRecognizer()                       # doctest: +SKIP
    >>> recognizer.recognize("clip.wav").emotion               # doctest: +SKIP
    'happy'
    """

    def __init__(self, model: str | Path | ModelChoice | ModelBundle | None = "default",
                 emotions: Sequence[str] | None = None):
        self.bundle = resolve_model(model)
        self.emotions = self._check_subset(emotions)
        self._lock = threading.Lock()

    @property
    def labels(self) -> list[str]:
        """All emotions the model knows."""
        return self.bundle.labels

    def _check_subset(self, emotions):
        if not emotions:
            return None
        unknown = [e for e in emotions if e not in self.labels]
        if unknown:
            raise ValueError(f"This model does not know {', '.join(unknown)}; "
                             f"choose from {', '.join(self.labels)}.")
        if len(set(emotions)) < 2:
            raise ValueError("Choose at least two emotions to tell apart.")
        return list(dict.fromkeys(emotions))

    def features(self, samples: np.ndarray) -> np.ndarray:
        return extract(samples, self.bundle.feature_set)[None, :]

    def recognize(self, audio, emotions: Sequence[str] | None = None,
                  sample_rate: int | None = None, *, max_duration: float | None = None,
                  check_speech: bool = True) -> Recognition:
        """Emotion and gender of one utterance.

        Parameters
        ----------
        audio : path, bytes, array or ``(rate, array)``
            Anything :func:`ser.audio.load_audio` reads; a bare array is taken
            as 16 kHz unless ``sample_rate`` says otherwise.
        emotions : sequence of str, optional
            Overrides the recognizer's subset for this call.
        max_duration : float, optional
            Longest accepted audio in seconds (see :func:`ser.audio.load_audio`).
        check_speech : bool
            Refuse audio without speech (:func:`ser.vad.require_speech`); off
            only for callers whose audio was cut from speech already.

        Raises
        ------
        ser.vad.NoSpeechError
            Noise, a tone, a constant or random data instead of speech.
        ser.audio.AudioError
            Unusable audio of any other kind.
        """
        if isinstance(audio, np.ndarray) and sample_rate is None:
            sample_rate = SAMPLE_RATE
        return self.recognize_samples(load_audio(audio, sample_rate, max_duration=max_duration), emotions,
                                      check_speech=check_speech)

    @property
    def sure_threshold(self) -> float:
        """The confidence below which the answer is "not sure" (the bundle's, or the uncalibrated default)."""
        return float(self.bundle.info.get("sure_threshold", UNCALIBRATED_SURE_THRESHOLD))

    def recognize_samples(self, samples: np.ndarray, emotions: Sequence[str] | None = None, *,
                          check_speech: bool = True) -> Recognition:
        """Emotion and gender of decoded audio: mono float32 samples (n,) at 16 kHz, already checked.

        What :meth:`recognize` does after decoding; the pipelines (:mod:`pipelines`)
        decode a request once and call this.

        Parameters
        ----------
        samples : numpy.ndarray
            Shape (n,), float32, 16 kHz, as :func:`ser.audio.load_audio` returns.
        emotions : sequence of str, optional
            Overrides the recognizer's subset for this call.
        check_speech : bool
            Refuse audio without speech (:func:`ser.vad.require_speech`).

        Examples
        --------
        >>> EmotionRecognizer().recognize_samples(load_audio("clip.wav")).emotion   # doctest: +SKIP
        'happy'
        """
        if check_speech:
            require_speech(samples)
        with self._lock:
            x = self.features(samples)
            if not np.all(np.isfinite(x)):
                raise AudioError("The audio gave invalid (NaN or infinite) features; it cannot be recognised.")
            proba = self.bundle.emotion_model.predict_proba(x)
            gender_proba = (self.bundle.gender_model.predict_proba(x)[0]
                            if self.bundle.gender_model is not None else None)
        subset = self._check_subset(emotions) or self.emotions or self.labels
        classes = [str(c) for c in self.bundle.emotion_model.classes_]
        full_emotion = full_confidence = None
        if set(classes) - set(subset):
            top = int(np.argmax(proba[0]))
            full_emotion, full_confidence = classes[top], float(proba[0, top])
        proba, labels = restrict_proba(proba, classes, subset)
        best = int(np.argmax(proba[0]))
        gender = gender_conf = None
        if gender_proba is not None:
            g = int(np.argmax(gender_proba))
            gender, gender_conf = str(self.bundle.gender_model.classes_[g]), float(gender_proba[g])
        sure, answer = sure_label(labels[best], float(proba[0, best]), self.sure_threshold)
        return Recognition(
            emotion=labels[best], confidence=float(proba[0, best]), gender=gender,
            gender_confidence=gender_conf,
            probabilities={label: float(p) for label, p in zip(labels, proba[0])},
            sure=sure, label=answer, full_emotion=full_emotion, full_confidence=full_confidence,
        )


@lru_cache(maxsize=4)
def get_recognizer(model: str | ModelChoice = "default") -> EmotionRecognizer:
    """A shared recognizer per model (a name, folder or :class:`~ser.choice.ModelChoice`), loaded once."""
    return EmotionRecognizer(model)


def recognize(audio, emotions: Sequence[str] | None = None, model: str = "default") -> Recognition:
    """Shortcut: :meth:`EmotionRecognizer.recognize` with a shared recognizer."""
    return get_recognizer(model).recognize(audio, emotions)
