"""Recognize: the emotion and gender of one utterance, the same for the UI, REST and ``python -m ser``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

from ser.choice import ModelChoice
from ser.recognizer import EmotionRecognizer, Recognition, get_recognizer

from .audio import decode, seconds
from .settings import Settings


@dataclass(frozen=True)
class RecognizeRequest:
    """What to recognise with.

    Attributes
    ----------
    emotions : sequence of str, optional
        Tell only these apart (probabilities renormalised over them).
    model : str or ModelChoice
        ``"default"``, or what :meth:`ser.choice.ModelPolicy.choose` allowed a
        remote caller; the local CLI may name a folder or a Hub repo id.
    """

    emotions: Sequence[str] | None = None
    model: str | ModelChoice = "default"

    def to_dict(self) -> dict:
        model = self.model.name if isinstance(self.model, ModelChoice) else str(self.model)
        return {"emotions": list(self.emotions) if self.emotions else None, "model": model}


@dataclass(frozen=True)
class RecognizeResult:
    """The one recognition shape every face shows: :class:`ser.recognizer.Recognition` and the duration."""

    emotion: str
    confidence: float
    gender: str | None
    gender_confidence: float | None
    probabilities: dict[str, float]
    sure: bool = field(default=True, metadata={"description": "False when the calibrated confidence is below "
                                               "the model's 'not sure' threshold (see the model card)."})
    label: str = field(default="", metadata={"description": "What to show: the emotion, or "
                                             "'not sure — closest: sad (41 %)'."})
    full_emotion: str | None = field(default=None, metadata={"description": "With an emotion subset: the "
                                     "whole model's best emotion (the subset's probabilities are its own, "
                                     "renormalised)."})
    full_confidence: float | None = field(default=None, metadata={"description": "Its probability."})
    none_fits: bool = field(default=False, metadata={"description": "With an emotion subset: none of it fits "
                            "well (the whole model hears another emotion, or the subset's best is not sure)."})
    duration: float = field(default=0.0, metadata={"description": "Seconds of audio recognised."})

    @classmethod
    def of(cls, recognition: Recognition, duration: float) -> "RecognizeResult":
        return cls(**recognition.to_dict(), none_fits=recognition.none_fits, duration=duration)

    def to_dict(self) -> dict:
        return asdict(self)


def recognizer_for(model: str | ModelChoice | EmotionRecognizer) -> EmotionRecognizer:
    """The shared recognizer of ``model`` (loaded once per model)."""
    return model if isinstance(model, EmotionRecognizer) else get_recognizer(model)


def recognize(audio, request: RecognizeRequest | None = None, *,
              settings: Settings | None = None) -> RecognizeResult:
    """Emotion and gender of one utterance.

    Parameters
    ----------
    audio : path, bytes, ``(rate, array)`` or numpy.ndarray
        Decoded once (:func:`pipelines.audio.decode`); a bare array is 16 kHz.
    request : RecognizeRequest, optional
        Emotions and model (default: all emotions of the default model).
    settings : Settings, optional
        Limits (``max_duration_s``); from the environment by default.

    Returns
    -------
    RecognizeResult

    Examples
    --------
    >>> recognize("clip.wav", RecognizeRequest(emotions=["sad", "happy"])).emotion   # doctest: +SKIP
    'happy'
    """
    request = request or RecognizeRequest()
    settings = settings or Settings()
    samples = decode(audio, max_duration=settings.max_duration_s)
    recognition = recognizer_for(request.model).recognize_samples(samples, request.emotions)
    return RecognizeResult.of(recognition, seconds(samples))
