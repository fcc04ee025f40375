"""``synthesize``: text to emotional speech in a chosen voice."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ser.errors import TooLarge

from .conversion import CONVERSIONS, DEFAULT_CONVERSION, check_method
from .engine import Voice
from .engines import EngineError
from .prosody import EMOTION_RULES, REFERENCE_LEVEL, emotion_rule, render, set_level
from .registry import engine_for
from .voices import resolve_voice

logger = logging.getLogger(__name__)

#: Emotions :func:`synthesize` renders: RAVDESS' eight plus EMO-DB's boredom.
EMOTIONS = tuple(EMOTION_RULES)
DEFAULT_INTENSITY = 1.0
#: The budget of one call, checked before any work (:func:`check_budget`).  Synthesis costs about
#: 0.37 s of CPU per second of audio (WORLD analysis and resynthesis; 239 characters took 5.0 s
#: for 13 s of audio, bored 7.2 s for 19.8 s), so 60 s of audio bound a call to about 25 s of CPU;
#: 2000 characters once cost 90 s.
MAX_TEXT = 600
MAX_AUDIO_SECONDS = 60.0
# The bundled voice speaks 18 characters per second at neutral tempo (17.9 and 18.4 measured);
# a lower figure overestimates the audio, so the budget errs on the side of refusing.
CHARS_PER_SECOND = 15.0


@dataclass
class Synthesis:
    """Synthesised speech; unpacks as ``audio, sample_rate = synthesize(...)``."""

    audio: np.ndarray
    sample_rate: int
    text: str
    emotion: str
    intensity: float
    voice: str
    engine: str

    @property
    def duration(self) -> float:
        return self.audio.size / self.sample_rate

    def __iter__(self):
        return iter((self.audio, self.sample_rate))

    def write(self, path: str | Path) -> Path:
        """Write a 16-bit WAV file and return its path."""
        return write_wav(path, self.audio, self.sample_rate)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    import soundfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.clip(audio, -1.0, 1.0), sample_rate, subtype="PCM_16")
    return path


def canonical_emotion(emotion: str) -> str:
    """Map a user's emotion name (``"HAPPY"``, ``"disgusted"``, ``"fear"``) to a label."""
    from ser.corpora import canonical_emotion as canonical

    label = canonical(str(emotion))
    if label not in EMOTION_RULES:
        raise ValueError(f"Unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}.")
    return label


def synthesize(
    text: str,
    emotion: str = "neutral",
    intensity: float = DEFAULT_INTENSITY,
    voice: str | Voice = "youngman",
    speed: float = 1.0,
    *,
    seed: int = 0,
    progress: Callable[[float, str], None] | None = None,
    method: str = DEFAULT_CONVERSION,
) -> Synthesis:
    """Speak ``text`` in ``emotion`` with ``voice``.

    Parameters
    ----------
    text : str
        What to say (up to :data:`MAX_TEXT` characters and :data:`MAX_AUDIO_SECONDS` of audio).
    emotion : str
        One of :data:`EMOTIONS` or a common alias (``"joy"``, ``"fear"`` …).
    intensity : float
        0 (neutral) to 1 (the full rule, like RAVDESS' *strong* takes); 0.5 is
        a moderate, RAVDESS *normal*-like expression.
    voice : str or Voice
        A preset from :data:`tts.voices.VOICES` (every registered engine's,
        :data:`tts.registry.ENGINES`), a Piper voice name from the Hub
        (``"en_US-amy-medium"``) or a path to a Piper ``.onnx`` file.
    speed : float
        Speaking-rate factor on top of the emotion's tempo (2 = twice as fast).
    seed : int
        Seed of the random parts of the prosody transform.
    progress : callable, optional
        Called as ``progress(fraction, message)`` after the engine and after
        each sentence's prosody (the costly part: WORLD resynthesis).
    method : str
        How the emotion is given (:data:`tts.conversion.CONVERSIONS`): ``"rules"``
        renders the engine's speech with the emotion's prosody rule; any other
        method has the engine speak neutrally (in the voice's pitch and timbre)
        and converts that to ``emotion``.

    Returns
    -------
    Synthesis
        Float32 audio at the engine's rate (22 050 Hz for Piper and espeak-ng).

    Raises
    ------
    ValueError
        Empty text, an unknown emotion or voice, a speed outside 0.25–4;
        :class:`BudgetError` over the budget.
    tts.EngineError
        The voice's engine is missing or failed (and has no fallback).

    Examples
    --------
    >>> audio, rate = synthesize("Kids are talking by the door.", "happy", voice="youngwoman")  # doctest: +SKIP
    """
    text = " ".join(str(text).split())
    if not text:
        raise ValueError("There is no text to speak.")
    if not 0.25 <= speed <= 4:
        raise ValueError(f"Speed {speed} is outside 0.25–4.")
    emotion = canonical_emotion(emotion)
    intensity = float(np.clip(intensity, 0.0, 1.0))
    check_budget(len(text) / CHARS_PER_SECOND, emotion, intensity, speed, characters=len(text))
    check_method(method)
    voice = resolve_voice(voice)
    by_rules = method == "rules"
    rule = emotion_rule(emotion if by_rules else "neutral", intensity)
    report = progress or (lambda fraction, message: None)
    report(0.0, "speaking the text")
    start = time.perf_counter()
    sentences, sample_rate, engine = _engine_sentences(text, voice, rule.duration / speed, rule.variability,
                                                       seed=seed)
    rendered = []
    for i, sentence in enumerate(sentences):
        # The engine took about a tenth of the time; WORLD's analysis and resynthesis the rest.
        report(0.1 + 0.9 * i / len(sentences), f"giving sentence {i + 1} of {len(sentences)} its {emotion} prosody")
        if by_rules or voice.pitch_shift or voice.formant_shift != 1.0:
            sentence = render(sentence, sample_rate, rule, pitch_shift=voice.pitch_shift,
                              formant_shift=voice.formant_shift, seed=seed + i)
        if not by_rules:
            sentence = CONVERSIONS[method](set_level(sentence, sample_rate, REFERENCE_LEVEL), emotion, intensity,
                                           "neutral", sample_rate, seed + i)
        rendered.append(sentence)
    report(1.0, "spoken")
    audio = np.concatenate(rendered)
    if by_rules:
        audio = set_level(audio, sample_rate, REFERENCE_LEVEL + rule.energy)
    logger.info("synthesised %.1f s of %s speech (%s, %s) in %.2f s", audio.size / sample_rate, emotion,
                voice.name, engine, time.perf_counter() - start)
    return Synthesis(audio, sample_rate, text, emotion, intensity, voice.name, engine)


class BudgetError(TooLarge, ValueError):
    """A request over the per-call budget of :func:`synthesize` (text length or seconds of audio)."""


def check_budget(seconds: float, emotion: str | None = "neutral", intensity: float = DEFAULT_INTENSITY,
                 speed: float = 1.0, *, characters: int | None = None) -> float:
    """Refuse, before any work, a call that would render more than the budget.

    Parameters
    ----------
    seconds : float
        Seconds of speech at neutral tempo: the text's length over
        :data:`CHARS_PER_SECOND`, or a recording's duration for a conversion.
    emotion, intensity, speed
        The rendering: the emotion's tempo (boredom is 1.5 times as long) and
        the speed stretch the audio.  ``emotion=None`` (not known yet: the
        recognised one) counts the slowest.
    characters : int, optional
        The text's length, checked against :data:`MAX_TEXT`.

    Returns
    -------
    float
        The estimated seconds of audio.

    Raises
    ------
    BudgetError
        Over :data:`MAX_TEXT` characters or :data:`MAX_AUDIO_SECONDS` of audio.
    """
    if characters is not None and characters > MAX_TEXT:
        raise BudgetError(f"The text is {characters} characters long; the limit is {MAX_TEXT} characters "
                          "a request.")
    emotions = [canonical_emotion(emotion)] if emotion else EMOTIONS
    audio = seconds * max(emotion_rule(e, intensity).duration for e in emotions) / speed
    if audio > MAX_AUDIO_SECONDS:
        raise BudgetError(f"That would be about {audio:.0f} s of audio; the limit is {MAX_AUDIO_SECONDS:.0f} s "
                          "a request (use less text or a faster speed).")
    return audio


def _engine_sentences(text: str, voice: Voice, tempo: float, variability: float, *, seed: int = 0):
    """Run the voice's engine, or the voice its engine falls back to when it fails (Piper → espeak-ng)."""
    engine = engine_for(voice)
    try:
        sentences, rate = engine.synthesize(text, voice, tempo=tempo, variability=variability, seed=seed)
        return sentences, rate, engine.label
    except EngineError as error:
        instead = engine.fallback(voice)
        if instead is None:
            raise
        fallback = engine_for(instead)
        logger.warning("%s failed for voice %s (%s); speaking with %s's %s instead", engine.label, voice.name,
                       error, fallback.label, instead.model)
    sentences, rate = fallback.synthesize(text, instead, tempo=tempo, variability=variability, seed=seed)
    return sentences, rate, fallback.label
