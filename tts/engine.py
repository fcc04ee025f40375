"""The contract of a synthesis engine, and the voice it speaks with.

An engine turns text into one float32 array per sentence; it knows nothing of
emotions (:mod:`tts.synthesis` maps those onto its controls).  What it must
declare is what menus and checks are built from: its ``name``, its preset
``voices``, the ``languages`` it speaks, its ``sample_rate`` and whether it
is usable here.  A new engine is one module with an :class:`Engine` subclass
plus one line in :data:`tts.registry.ENGINES` (or a :func:`tts.registry.register_engine`
call from outside the package).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Voice:
    """A speaking voice.

    Attributes
    ----------
    name : str
        Preset name users pick.
    description : str
        One line for menus.
    gender : str
        ``"female"``, ``"male"`` or ``"unknown"`` (custom Hub voices).
    engine : str
        Name of the :class:`Engine` that speaks it (``"piper"``, ``"espeak"`` …).
    model : str
        The engine's own voice: for Piper ``"bundled"``, a Hub voice name
        (``"en_US-amy-medium"``) or a path to an ``.onnx`` file; for espeak an
        espeak-ng voice with variant.
    pitch_shift : float
        F0 shift in semitones.
    formant_shift : float
        Factor on formant frequencies.
    speaker_id : int, optional
        Speaker of a multi-speaker Piper voice.
    """

    name: str
    description: str
    gender: str
    engine: str = "piper"
    model: str = "bundled"
    pitch_shift: float = 0.0
    formant_shift: float = 1.0
    speaker_id: int | None = None


class Engine(ABC):
    """What a text-to-waveform engine declares and does.

    Attributes
    ----------
    name : str
        Registry key, the value of :attr:`Voice.engine`.
    label : str
        The engine as results report it (:attr:`tts.Synthesis.engine`).
    description : str
        One line for menus.
    sample_rate : int
        Rate of the audio it returns.
    """

    name: str
    label: str
    description: str
    sample_rate: int

    @property
    def voices(self) -> tuple[Voice, ...]:
        """Preset voices the engine offers (menus, :data:`tts.voices.VOICES`)."""
        return ()

    @property
    def languages(self) -> tuple[str, ...]:
        """ISO 639-1 codes the engine can speak here."""
        return ()

    def availability(self) -> str | None:
        """``None`` when the engine is usable here, else the reason in words."""
        return None

    def resolve(self, name: str, *, files: bool = False) -> Voice | None:
        """A :class:`Voice` for a name that is no preset (a model name, a file when ``files``), or None."""
        return None

    def language(self, voice: Voice) -> str | None:
        """The language ``voice`` speaks, or None when it cannot be told."""
        return None

    def fallback(self, voice: Voice) -> Voice | None:
        """The voice to speak with instead when this engine fails for ``voice`` (None: fail)."""
        return None

    @abstractmethod
    def synthesize(self, text: str, voice: Voice, *, tempo: float = 1.0, variability: float = 1.0,
                   seed: int = 0) -> tuple[list[np.ndarray], int]:
        """Speak ``text`` with ``voice``.

        Parameters
        ----------
        text : str
            Text to speak (whitespace already collapsed).
        voice : Voice
            A voice of this engine.
        tempo : float
            Wanted duration factor (> 1 slower).
        variability : float
            Factor on the engine's own randomness (phoneme durations …), 1 = its default.
        seed : int
            Seed of that randomness: the same call gives the same samples.

        Returns
        -------
        (list of numpy.ndarray, int)
            Float32 sentences and their sample rate.
        """
