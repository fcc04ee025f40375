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
import shutil
import subprocess
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

# Piper's voice naming on the Hub: <lang>_<REGION>-<name>-<quality>.
HUB_VOICE_NAME = re.compile(r"^[a-z]{2,3}_[A-Z]{2}-[A-Za-z0-9_]+-(x_low|low|medium|high)$")
#: Language the presets speak: the bundled Piper voice (joe) and the espeak presets are US English.
PRESET_LANGUAGE = "en"
#: One Piper voice per language in rhasspy/piper-voices, fetched only when the Hub is reachable;
#: offline, a cached voice of the language or espeak-ng's voice speaks instead.
PIPER_VOICE_FOR_LANGUAGE = {
    "de": "de_DE-thorsten-medium", "es": "es_ES-davefx-medium", "fr": "fr_FR-siwis-medium",
    "it": "it_IT-paola-medium", "pt": "pt_BR-faber-medium", "ru": "ru_RU-irina-medium",
    "zh": "zh_CN-huayan-medium",
}
# Whisper's language codes that espeak-ng spells otherwise.
ESPEAK_ALIASES = {"zh": "cmn", "no": "nb", "jw": "jv"}


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


def voice_language(voice: Voice) -> str | None:
    """The language ``voice`` speaks (ISO 639-1), or None when it cannot be told (an ``.onnx`` file).

    Examples
    --------
    >>> voice_language(VOICES["youngwoman"]), voice_language(resolve_voice("de_DE-thorsten-medium"))
    ('en', 'de')
    """
    if voice.model == "bundled":
        return PRESET_LANGUAGE
    if voice.engine == "espeak":
        return voice.model.split("+")[0].split("-")[0]
    if HUB_VOICE_NAME.match(voice.model):
        return voice.model.split("_")[0]
    return None


@lru_cache(maxsize=1)
def espeak_languages() -> tuple[str, ...]:
    """The languages of the installed espeak-ng (``espeak-ng --voices``); empty without espeak-ng."""
    if shutil.which("espeak-ng") is None:
        return ()
    try:
        listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.split()[1] for line in listing.splitlines()[1:] if len(line.split()) > 1)


def espeak_voice_for(language: str) -> str | None:
    """espeak-ng's voice for a Whisper language code (``"de"``, ``"fr"`` → ``"fr-fr"``), or None."""
    code = ESPEAK_ALIASES.get(language, language)
    installed = espeak_languages()
    for name in (code, f"{code}-{code}"):  # "fr-fr" before "fr-be"
        if name in installed:
            return name
    return next((name for name in installed if name.startswith(f"{code}-")), None)


class NoVoiceForLanguage(ValueError):
    """No voice here speaks the transcript's language; the message says what would."""


def voice_for_language(voice: Voice, language: str | None, *, language_name: str | None = None,
                       online: bool = False) -> tuple[Voice, str]:
    """A voice that speaks ``language``, in the character of ``voice``, and a note saying what changed.

    A voice that already speaks the language (or whose language cannot be
    told, an ``.onnx`` file the user chose) is kept.  Otherwise, in order: a
    Piper voice of the language already in the Hub cache, the one in
    :data:`PIPER_VOICE_FOR_LANGUAGE` when ``online``, espeak-ng's voice for
    it.  The preset's pitch and formant shifts carry over, so "youngwoman"
    stays a young woman.

    Parameters
    ----------
    voice : Voice
        The voice the user chose.
    language : str or None
        ISO 639-1 code of the text (Whisper's); None or English keeps ``voice``.
    language_name : str, optional
        The language's name for the note (``"German"``).
    online : bool
        Whether the Hub may be asked for a Piper voice.

    Returns
    -------
    (Voice, str)
        The voice to speak with and a one-line note ("" when ``voice`` is kept).

    Raises
    ------
    NoVoiceForLanguage
        No voice here speaks ``language``.
    """
    spoken = voice_language(voice)
    if not language or spoken in (None, language):
        return voice, ""
    name = language_name or language
    from .hub import cached_voices

    piper = next((v for v in cached_voices() if v.split("_")[0] == language), None)
    if piper is None and online:
        piper = PIPER_VOICE_FOR_LANGUAGE.get(language)
    if piper:
        chosen = replace(voice, name=f"{voice.name} ({name})", engine="piper", model=piper, speaker_id=None)
        return chosen, f"The words are {name}; {voice.name} speaks English, so the Piper voice {piper} said them."
    espeak = espeak_voice_for(language)
    if espeak is None:
        raise NoVoiceForLanguage(
            f"The words are {name}, and no voice here speaks it: the voices speak English and espeak-ng has no "
            f"{name} voice. Pick a Piper voice for {name} from the Hub (online), or use 'Keep my voice'.")
    variant = voice.model.partition("+")[2] if voice.engine == "espeak" else ""  # the f3 of espeak-female
    chosen = replace(voice, name=f"{voice.name} ({name})", engine="espeak",
                     model=f"{espeak}+{variant}" if variant else espeak, speaker_id=None)
    return chosen, (f"The words are {name}; {voice.name} speaks English, so espeak-ng's {name} voice said them "
                    f"(robotic; online, a Piper {name} voice would be used).")
