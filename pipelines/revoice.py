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
from ser.audio import SAMPLE_RATE, resample
from ser.hub import hub_offline
from tts.conversion import DEFAULT_CONVERSION, check_method
from tts.revoice import convert_emotion
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
    heard : object or None
        The same recognizer's result for the *output*: what emotion the result carries.
    method : str
        The conversion method (:data:`tts.conversion.CONVERSIONS`).
    original : ndarray or None
        The decoded input (16 kHz), for :meth:`pitch_contours`.
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
    heard: Any = None
    method: str = DEFAULT_CONVERSION
    original: np.ndarray | None = field(default=None, repr=False)

    @property
    def keep_voice(self) -> bool:
        return self.voice == OWN_VOICE

    def to_dict(self) -> dict:
        """Everything but the samples: what was heard, what was made, and the timings."""
        def plain(result):
            return result.to_dict() if hasattr(result, "to_dict") else dict(vars(result))

        return {"transcript": self.transcript, "language": self.language, "emotion": self.emotion,
                "intensity": self.intensity, "voice": self.voice, "method": self.method,
                "recognized": plain(self.recognized),
                "result_heard_as": plain(self.heard) if self.heard is not None else None,
                "duration": round(self.audio.size / self.sample_rate, 3), "sample_rate": self.sample_rate,
                "timings": self.timings, "note": self.note}

    def write(self, path: str | Path) -> Path:
        """Write a 16-bit WAV file and return its path."""
        return write_wav(path, self.audio, self.sample_rate)

    def summary(self) -> str:
        """Markdown for a UI: what was heard, what was made, and what the result is heard as."""
        heard = self.recognized
        gender = f", {heard.gender} speaker" if getattr(heard, "gender", None) else ""
        made = "your own voice" if self.keep_voice else f"voice **{self.voice}**"
        judged = ""
        if self.heard is not None:
            label = getattr(self.heard, "label", "") or self.heard.emotion
            verdict = "as asked" if self.heard.emotion == self.emotion else f"not {self.emotion}"
            judged = f"  \nThe recognizer hears the result as **{label}** ({verdict})."
        return (
            f"Recognised **{heard.emotion}** ({heard.confidence:.0%}){gender} → rendered **{self.emotion}**"
            f" at intensity {self.intensity:g} in {made} by the {self.method} method"
            f" ({self.audio.size / self.sample_rate:.1f} s of audio, made in {sum(self.timings.values()):.1f} s)."
            + judged + (f"  \n{self.note}" if self.note else "")
        )

    def pitch_contours(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{"input": (seconds, Hz), "result": (seconds, Hz)}``: F0 every 10 ms, NaN where unvoiced."""
        from tts.prosody import track_pitch

        contours = {}
        for name, samples, rate in (("input", self.original, SAMPLE_RATE), ("result", self.audio, self.sample_rate)):
            if samples is None or samples.size < rate // 10:
                continue
            times = np.arange(0.0, samples.size / rate, 0.01)
            f0 = track_pitch(samples, rate, times)
            contours[name] = (times, np.where(f0 > 0, f0, np.nan))
        return contours


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
        How the emotion is given, in both modes: a name of :data:`tts.conversion.CONVERSIONS`
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
    check_method(method)
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
    if keep_voice and target == canonical_emotion(recognized.emotion):
        note = (f"The recording is already heard as {target}, and the conversion changes it from the emotion "
                "heard to the one asked, so its prosody is barely changed: choose another emotion to hear a "
                "difference.")
    if keep_voice:
        stage(last, f"giving the recording {target} prosody", 0.45, 0.95)
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
        sentences = stage(last, f"speaking in {target}", 0.45, 0.95)
        speech = synthesize(text, target, intensity, chosen, speed, progress=sentences, method=method)
        audio, rate, voice_name = speech.audio, speech.sample_rate, speech.voice
    timings["synthesize"] = time.perf_counter() - start
    report(0.96, f"Stage {STAGES[last]} of 4: listening to the result")
    start = time.perf_counter()
    heard = (recognizer or default_recognizer()).recognize_samples(
        resample(audio, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else audio, check_speech=False)
    timings["judge"] = time.perf_counter() - start
    report(1.0, "Done")
    return Revoice(audio, rate, text, transcript.language, target, intensity, voice_name, recognized, timings, note,
                   heard=heard, method=method, original=samples)
