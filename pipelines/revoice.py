"""Re-voice: recognise a recording's emotion and words, say them again.

Two modes share one entry point, :func:`revoice`:

* new voice — emotion and gender (``ser``) → transcript (``asr``) →
  :func:`tts.synthesize` in the chosen emotion and voice;
* keep my voice — :func:`tts.revoice.convert_emotion` changes the prosody of
  the speaker's own recording to the target emotion; voice and words stay.

The recording is decoded once (:func:`pipelines.audio.decode`) and the same
samples go to the recognizer, the ASR and the conversion.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from asr import LANGUAGES, transcribe
from ser.audio import SAMPLE_RATE
from ser.hub import hub_offline
from tts.revoice import CONVERSIONS, DEFAULT_CONVERSION, convert_emotion
from tts.synthesis import DEFAULT_INTENSITY, canonical_emotion, check_budget, synthesize, write_wav
from tts.voices import resolve_voice, voice_for_gender, voice_for_language

from .audio import decode
from .recognize import recognizer_for
from .settings import Settings

OWN_VOICE = "own voice"
#: The stages :func:`revoice` reports, by number: the fourth is "convert" with ``keep_voice``.
STAGES = {"decode": 1, "recognize": 2, "transcribe": 3, "synthesize": 4, "convert": 4}


@dataclass
class Revoice:
    """Result of :func:`revoice`.

    Attributes
    ----------
    audio, sample_rate
        The re-voiced speech (float32).
    transcript : str
        What the recording says, as the ASR heard it.
    language : str or None
        Language the ASR detected or was given.
    emotion : str
        The emotion rendered.
    voice : str
        Voice preset used, or ``"own voice"`` when the recording was converted.
    recognized : object
        The recognizer's result for the input (``.emotion``, ``.confidence``,
        ``.gender``, ``.probabilities``).
    timings : dict
        Seconds spent per stage.
    note : str
        What was changed and why, e.g. another voice for the transcript's language.
    """

    audio: np.ndarray
    sample_rate: int
    transcript: str
    language: str | None
    emotion: str
    intensity: float
    voice: str
    recognized: Any
    timings: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @property
    def keep_voice(self) -> bool:
        return self.voice == OWN_VOICE

    def to_dict(self) -> dict:
        """Everything but the samples: what was heard, what was made, and the timings."""
        heard = self.recognized.to_dict() if hasattr(self.recognized, "to_dict") else dict(vars(self.recognized))
        return {"transcript": self.transcript, "language": self.language, "emotion": self.emotion,
                "intensity": self.intensity, "voice": self.voice, "recognized": heard,
                "duration": round(self.audio.size / self.sample_rate, 3), "sample_rate": self.sample_rate,
                "timings": self.timings, "note": self.note}

    def write(self, path: str | Path) -> Path:
        """Write a 16-bit WAV file and return its path."""
        return write_wav(path, self.audio, self.sample_rate)

    def summary(self) -> str:
        """One Markdown line for a UI: what was heard and what was made."""
        heard = self.recognized
        gender = f", {heard.gender} speaker" if getattr(heard, "gender", None) else ""
        made = "your own voice" if self.keep_voice else f"voice **{self.voice}**"
        return (
            f"Recognised **{heard.emotion}** ({heard.confidence:.0%}){gender} → rendered **{self.emotion}**"
            f" at intensity {self.intensity:g} in {made} ({self.audio.size / self.sample_rate:.1f} s of audio,"
            f" made in {sum(self.timings.values()):.1f} s)." + (f"  \n{self.note}" if self.note else "")
        )


def default_recognizer():
    """The project's emotion recognizer with its bundled model, shared with the app."""
    return recognizer_for("default")


def revoice(
    source,
    emotion: str | None = None,
    voice: str | None = None,
    *,
    intensity: float = DEFAULT_INTENSITY,
    keep_voice: bool = False,
    speed: float = 1.0,
    language: str | None = None,
    asr_backend: str = "faster-whisper",
    recognizer=None,
    progress: Callable[[float, str], None] | None = None,
    settings: Settings | None = None,
    method: str = DEFAULT_CONVERSION,
) -> Revoice:
    """Recognise, transcribe and re-voice a recording.

    Parameters
    ----------
    source
        Anything :func:`ser.audio.load_audio` reads: a path, bytes, an array
        with its rate as ``(rate, array)`` (Gradio's format).
    emotion : str, optional
        Target emotion; the recognised one by default.
    voice : str, optional
        Voice preset or Hub voice for the new voice; by default the seed voice
        matching the recognised gender.  When the transcript is in a language
        the voice does not speak (the presets speak English), a voice of that
        language speaks in its character (:func:`tts.voices.voice_for_language`),
        and :attr:`Revoice.note` says so.  Ignored with ``keep_voice``.
    intensity : float
        0–1 strength of the target emotion.
    keep_voice : bool
        Convert the recording itself instead of synthesising a new voice.
    speed : float
        Speaking-rate factor of the new voice.
    language : str, optional
        Language for the ASR; detected when None.
    asr_backend : str
        ASR backend passed to :func:`asr.transcribe`.
    recognizer : object, optional
        An object with ``recognize_samples(samples)``; the bundled recognizer by default.
    progress : callable, optional
        Called as ``progress(fraction, message)``; the message names the
        stage ("Stage 3 of 4: transcribing"), and synthesis reports each
        sentence.
    settings : Settings, optional
        Limits (``max_duration_s``) and ``offline``; from the environment by default.
    method : str
        How ``keep_voice`` converts: a name of :data:`tts.revoice.CONVERSIONS`
        (``"rules"`` or ``"learned"``).

    Returns
    -------
    Revoice

    Raises
    ------
    ser.audio.AudioError
        The input is not usable speech audio.
    tts.BudgetError
        ``keep_voice`` and the conversion would be longer than the budget.
    ValueError
        Unknown emotion or voice, or no words recognised for a new voice;
        :class:`tts.voices.NoVoiceForLanguage` when no voice speaks the
        transcript's language.
    """
    settings = settings or Settings()
    if method not in CONVERSIONS:
        raise ValueError(f"Unknown conversion method {method!r}; choose one of {', '.join(CONVERSIONS)}.")
    report = progress or (lambda fraction, message: None)
    last = "convert" if keep_voice else "synthesize"

    def stage(name: str, message: str, start: float, end: float):
        # Each stage owns a share of the bar, measured on a 4 s clip (2 cores): decoding is instant,
        # recognition and transcription about a fifth each, the WORLD rendering the rest.
        number = STAGES[name]
        report(start, f"Stage {number} of 4: {message}")
        return lambda fraction, detail: report(start + (end - start) * fraction,
                                               f"Stage {number} of 4: {message} — {detail}")

    timings: dict[str, float] = {}
    target = canonical_emotion(emotion) if emotion else None

    stage("decode", "decoding the audio", 0.0, 0.05)
    start = time.perf_counter()
    samples = decode(source, max_duration=settings.max_duration_s)
    timings["load"] = time.perf_counter() - start
    if keep_voice:  # a new voice's text is checked by synthesize once it is transcribed
        check_budget(samples.size / SAMPLE_RATE, target, intensity)

    stage("recognize", "recognising the emotion", 0.05, 0.2)
    start = time.perf_counter()
    recognized = (recognizer or default_recognizer()).recognize_samples(samples)
    timings["recognize"] = time.perf_counter() - start
    target = target or canonical_emotion(recognized.emotion)

    stage("transcribe", "transcribing", 0.2, 0.45)
    start = time.perf_counter()
    # Checked at the decode above, with this request's limit: no second limit below.
    transcript = transcribe(samples, backend=asr_backend, language=language, max_duration=math.inf)
    timings["transcribe"] = time.perf_counter() - start
    text = transcript.text.strip()

    note = ""
    start = time.perf_counter()
    if keep_voice:
        stage(last, f"giving the recording {target} prosody", 0.45, 1.0)
        audio = convert_emotion(samples, target, intensity, source_emotion=canonical_emotion(recognized.emotion),
                                method=method)
        rate, voice_name = SAMPLE_RATE, OWN_VOICE
    else:
        if not text:
            raise ValueError(
                "No words were recognised in the recording, so there is nothing to say in a new"
                " voice. Try 'keep my voice', which needs no transcript."
            )
        chosen = resolve_voice(voice or voice_for_gender(getattr(recognized, "gender", None)))
        spoken = transcript.language or language
        chosen, note = voice_for_language(chosen, spoken, language_name=LANGUAGES.get(spoken),
                                          online=bool(spoken) and spoken != "en"
                                          and not (settings.offline or hub_offline()))
        sentences = stage(last, f"speaking in {target}", 0.45, 1.0)
        speech = synthesize(text, target, intensity, chosen, speed, progress=sentences)
        audio, rate, voice_name = speech.audio, speech.sample_rate, speech.voice
    timings["synthesize"] = time.perf_counter() - start
    report(1.0, "Done")
    return Revoice(audio, rate, text, transcript.language, target, intensity, voice_name, recognized, timings, note)
