"""Words: what was said, how the words feel, and how that fuses with the voice.

One rule for every face (the UI's Transcribe tab, REST ``/transcribe`` and
``python -m asr --emotion``): the text classifiers read English, so speech in
another language is translated by Whisper first, and the emotion of the
words is fused with the voice's (:func:`asr.fuse`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

from asr import DEFAULT_BACKEND, TEXT_WEIGHT, TextEmotion, Transcript, fuse, text_emotion, transcribe
from ser.choice import ModelChoice

from .audio import decode, seconds
from .recognize import RecognizeResult, recognizer_for
from .settings import Settings


@dataclass(frozen=True)
class WordsRequest:
    """How to transcribe, and whether to read the emotion of the words.

    Attributes
    ----------
    backend, model, language, task
        As :func:`asr.transcribe` takes them (``language`` ``None`` or ``"auto"`` detects it).
    emotion : bool
        Also classify the words (in English), recognise the voice and fuse the two.
    text_weight : float
        Weight of the words in the fusion (0 voice only … 1 words only).
    voice_model : str or ModelChoice
        The emotion model that hears the voice.
    """

    backend: str = DEFAULT_BACKEND
    model: str | None = None
    language: str | None = None
    task: str = "transcribe"
    emotion: bool = True
    text_weight: float = TEXT_WEIGHT
    voice_model: str | ModelChoice = "default"

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["voice_model"] = getattr(self.voice_model, "name", self.voice_model)
        return out


@dataclass(frozen=True)
class WordsResult:
    """A transcript and, when asked for, the emotion of its words, of the voice and of both.

    Attributes
    ----------
    transcript : asr.Transcript
    english : str
        The text the classifiers read: the transcript, or its translation into English.
    text_emotion : asr.TextEmotion or None
    voice : RecognizeResult or None
    fused : dict or None
        Label → probability of voice and words together; the voice's alone when the
        words carry no evidence (:attr:`words_read`).
    """

    transcript: Transcript
    english: str = ""
    text_emotion: TextEmotion | None = None
    voice: RecognizeResult | None = None
    fused: dict[str, float] | None = None

    @property
    def words_read(self) -> bool:
        """Whether the words gave evidence: the transformer read them, or the lexicon found emotion words
        (its answer without any is its prior, "neutral", not something it read)."""
        found = self.text_emotion
        return found is not None and not (found.source.startswith("lexicon") and not found.words)

    @property
    def duration(self) -> float:
        return round(self.transcript.duration, 3)

    def to_dict(self, words: bool = False) -> dict:
        """The transcript's JSON (:meth:`asr.Transcript.to_dict`), its duration and notes, and the emotions."""
        out = {**self.transcript.to_dict(words=words), "duration": self.duration,
               "notes": list(self.transcript.notes)}
        if self.text_emotion is not None:
            found = self.text_emotion
            out.update(english=self.english, text_emotion={"emotion": found.emotion, "probabilities": found.probabilities,
                                                           "source": found.source, "note": found.note},
                       voice=self.voice.to_dict() if self.voice else None, fused=self.fused)
        return out


def words(audio, request: WordsRequest | None = None, *, settings: Settings | None = None,
          progress: Callable[[float, str], None] | None = None) -> WordsResult:
    """Transcribe ``audio``; with ``request.emotion`` also the emotion of the words and the voice, fused.

    Parameters
    ----------
    audio : path, bytes, ``(rate, array)`` or numpy.ndarray
        Decoded once (a bare array is 16 kHz).
    request : WordsRequest, optional
    settings : Settings, optional
        Limits (``max_duration_s``); from the environment by default.
    progress : callable, optional
        ``progress(fraction, message)`` at each stage.

    Returns
    -------
    WordsResult

    Examples
    --------
    >>> result = words("assets/examples/asr_de.wav")               # doctest: +SKIP
    >>> result.english, result.text_emotion.emotion                # doctest: +SKIP
    """
    request = request or WordsRequest()
    settings = settings or Settings()
    report = progress or (lambda fraction, message: None)
    report(0.05, "Decoding the audio")
    samples = decode(audio, max_duration=settings.max_duration_s)
    report(0.15, f"Transcribing with {request.backend}")
    # Checked at the decode above, with this request's limit: no second limit below.
    transcript = transcribe(samples, backend=request.backend, model=request.model, language=request.language,
                            task=request.task, max_duration=math.inf,
                            progress=lambda fraction, message: report(0.15 + 0.35 * fraction, message))
    if not request.emotion:
        return WordsResult(transcript)
    english = transcript.text
    if request.task != "translate" and transcript.language != "en" and english:  # the classifiers read English
        report(0.5, "Translating to English")
        english = transcribe(samples, language=transcript.language, task="translate", max_duration=math.inf).text
    report(0.7, "Reading the emotion of the words")
    found = text_emotion(english)
    report(0.85, "Hearing the emotion of the voice")
    voice = RecognizeResult.of(recognizer_for(request.voice_model).recognize_samples(samples), seconds(samples))
    result = WordsResult(transcript, english, found, voice)
    evidence = found.probabilities if result.words_read else {}  # no evidence: the voice alone
    return replace(result, fused=fuse(voice.probabilities, evidence, text_weight=request.text_weight))
