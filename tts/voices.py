"""Voice presets: an engine voice plus a pitch and formant transform.

The seed's four voices are made from the bundled Piper voice (an adult US
male) by shifting F0 and warping the spectral envelope.  Formant frequencies
scale with vocal-tract length: adult women's are about 15–20 % and young
children's about 25–35 % higher than adult men's, and their F0 about an
octave higher (Peterson & Barney 1952; Hillenbrand et al. 1995), so a shifted
F0 alone would sound like a squeaky man; both move together here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Piper's voice naming on the Hub: <lang>_<REGION>-<name>-<quality>.
HUB_VOICE_NAME = re.compile(r"^[a-z]{2,3}_[A-Z]{2}-[A-Za-z0-9_]+-(x_low|low|medium|high)$")


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
        ``"piper"`` or ``"espeak"``.
    model : str
        Piper: ``"bundled"``, a Hub voice name (``"en_US-amy-medium"``) or a
        path to an ``.onnx`` file.  espeak: an espeak-ng voice with variant.
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


VOICES: dict[str, Voice] = {
    v.name: v
    for v in (
        # The bundled voice speaks at 85-110 Hz, low even for a man; men
        # average about 120 Hz, women 210 Hz, girls near 270 Hz.
        Voice("youngman", "Young man (Piper 'joe', 3 st higher)", "male", pitch_shift=3.0, formant_shift=1.03),
        Voice("middlemale", "Middle-aged man (joe, 1 st lower, longer vocal tract)", "male",
              pitch_shift=-1.0, formant_shift=0.93),
        Voice("youngwoman", "Young woman (joe, 14 st higher, formants x1.18)", "female",
              pitch_shift=14.0, formant_shift=1.18),
        Voice("smallgirl", "Small girl (joe, 20 st higher, formants x1.3)", "female",
              pitch_shift=20.0, formant_shift=1.30),
        Voice("espeak-female", "espeak-ng US English, female variant f3 (robotic)", "female",
              engine="espeak", model="en-us+f3"),
        Voice("espeak-male", "espeak-ng US English, male variant m3 (robotic)", "male",
              engine="espeak", model="en-us+m3"),
    )
}

#: The seed project's voices, in its order.
SEED_VOICES = ("youngwoman", "youngman", "smallgirl", "middlemale")


def resolve_voice(voice: "str | Voice") -> Voice:
    """A :class:`Voice` from a preset name, a Hub voice name or an ``.onnx`` path.

    Examples
    --------
    >>> resolve_voice("YoungWoman").pitch_shift
    14.0
    >>> resolve_voice("en_US-amy-medium").model
    'en_US-amy-medium'
    """
    if isinstance(voice, Voice):
        return voice
    name = str(voice).strip()
    if name.lower() in VOICES:
        return VOICES[name.lower()]
    if HUB_VOICE_NAME.match(name):
        return Voice(name, f"Piper voice {name} from the Hugging Face Hub", "unknown", model=name)
    if name.endswith(".onnx") and Path(name).is_file():
        return Voice(Path(name).stem, f"Piper voice file {name}", "unknown", model=name)
    raise ValueError(
        f"Unknown voice {name!r}: choose one of {', '.join(VOICES)}, a Piper voice name"
        " such as en_US-amy-medium, or a path to a Piper .onnx file."
    )


def voice_for_gender(gender: str | None) -> str:
    """The seed voice closest to a recognised speaker gender."""
    return "youngwoman" if gender == "female" else "youngman"


def voice_choices() -> list[tuple[str, str]]:
    """``(label, name)`` pairs for a voice menu: presets, then Hub voices cached locally."""
    from .hub import cached_voices

    presets = [(f"{v.name} — {v.description}", v.name) for v in VOICES.values()]
    return presets + [(f"{name} — Piper voice from the Hub (cached)", name) for name in cached_voices()]
