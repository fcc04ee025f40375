"""Voice presets: an engine voice plus a pitch and formant transform.

The seed's four voices are made from the bundled Piper voice (an adult US
male) by shifting F0 and warping the spectral envelope.  Formant frequencies
scale with vocal-tract length: adult women's are about 15–20 % and young
children's about 25–35 % higher than adult men's, and their F0 about an
octave higher (Peterson & Barney 1952; Hillenbrand et al. 1995), so a shifted
F0 alone would sound like a squeaky man; both move together here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from ser.errors import BadParameter

from .engine import Voice
from .engines import PRESET_LANGUAGE, espeak_languages
from .hub import HUB_VOICE_NAME, cached_voices
from .registry import ENGINES, engine_for

__all__ = ["HUB_VOICE_NAME", "PRESET_LANGUAGE", "Voice", "VOICES", "SEED_VOICES", "resolve_voice", "voice_choices",
           "voice_language", "voice_for_gender", "voice_for_language", "espeak_languages", "espeak_voice_for",
           "NoVoiceForLanguage"]

#: One Piper voice per language in rhasspy/piper-voices, fetched only when the Hub is reachable;
#: offline, a cached voice of the language or espeak-ng's voice speaks instead.
PIPER_VOICE_FOR_LANGUAGE = {
    "de": "de_DE-thorsten-medium", "es": "es_ES-davefx-medium", "fr": "fr_FR-siwis-medium",
    "it": "it_IT-paola-medium", "pt": "pt_BR-faber-medium", "ru": "ru_RU-irina-medium",
    "zh": "zh_CN-huayan-medium",
}
# Whisper's language codes that espeak-ng spells otherwise.
ESPEAK_ALIASES = {"zh": "cmn", "no": "nb", "jw": "jv"}


class _Presets(Mapping):
    """Name -> :class:`Voice` of every registered engine's presets, read from the registry at each use."""

    def _all(self) -> dict[str, Voice]:
        return {v.name: v for engine in ENGINES.values() for v in engine.voices}

    def __getitem__(self, name: str) -> Voice:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"VOICES({', '.join(self)})"


#: The preset voices of every engine in :data:`tts.registry.ENGINES` (Piper's four made from
#: the bundled voice, espeak-ng's two), in registry order.
VOICES: Mapping[str, Voice] = _Presets()

#: The seed project's voices, in its order.
SEED_VOICES = ("youngwoman", "youngman", "smallgirl", "middlemale")


def resolve_voice(voice: "str | Voice", *, files: bool = True) -> Voice:
    """A :class:`Voice` from a preset name, or a name (or, with ``files``, a path) an engine accepts.

    Parameters
    ----------
    voice : str or Voice
        A preset of :data:`VOICES` (any case), a Piper Hub voice name or a
        path to a Piper ``.onnx`` file.
    files : bool
        Whether paths are accepted; a remote caller's names never are.

    Raises
    ------
    ValueError
        No engine knows the name.

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
    presets = {key.lower(): v for key, v in VOICES.items()}
    if name.lower() in presets:
        return presets[name.lower()]
    for engine in ENGINES.values():
        found = engine.resolve(name, files=files)
        if found is not None:
            return found
    shown = name if len(name) <= 40 else name[:40] + "…"  # a message, not an echo of any size
    raise ValueError(
        f"Unknown voice {shown!r}: choose one of {', '.join(VOICES)}"
        + (", a Piper voice name such as en_US-amy-medium, or a path to a Piper .onnx file." if files
           else " or a Piper voice name such as en_US-amy-medium.")
    )


def voice_for_gender(gender: str | None) -> str:
    """The seed voice closest to a recognised speaker gender."""
    return "youngwoman" if gender == "female" else "youngman"


def voice_choices() -> list[tuple[str, str]]:
    """``(label, name)`` pairs for a voice menu: presets, then Hub voices cached locally."""
    presets = [(f"{v.name} — {v.description}", v.name) for v in VOICES.values()]
    return presets + [(f"{name} — Piper voice from the Hub (cached)", name) for name in cached_voices()]


def voice_language(voice: Voice) -> str | None:
    """The language ``voice`` speaks (ISO 639-1), or None when it cannot be told (an ``.onnx`` file).

    Examples
    --------
    >>> voice_language(VOICES["youngwoman"]), voice_language(resolve_voice("de_DE-thorsten-medium"))
    ('en', 'de')
    """
    return engine_for(voice).language(voice)


def espeak_voice_for(language: str) -> str | None:
    """espeak-ng's voice for a Whisper language code (``"de"``, ``"fr"`` → ``"fr-fr"``), or None."""
    code = ESPEAK_ALIASES.get(language, language)
    installed = espeak_languages()
    for name in (code, f"{code}-{code}"):  # "fr-fr" before "fr-be"
        if name in installed:
            return name
    return next((name for name in installed if name.startswith(f"{code}-")), None)


class NoVoiceForLanguage(BadParameter, ValueError):
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
