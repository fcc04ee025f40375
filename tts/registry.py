"""The engines :func:`tts.synthesize` can speak with, and the one place that adds one.

Like :mod:`asr.api`'s backends: menus, voice lists and checks are built from
:data:`ENGINES`, so a new engine is one module (an :class:`~tts.engine.Engine`
subclass declaring its voices, languages and rate) plus one line below, or
:func:`register_engine` from outside the package.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import engines
from .engine import Engine, Voice

ENGINES: dict[str, Engine] = {
    engines.PiperEngine.name: engines.PiperEngine(),
    engines.EspeakEngine.name: engines.EspeakEngine(),
}
DEFAULT_ENGINE = engines.PiperEngine.name


@dataclass(frozen=True)
class EngineInfo:
    """One engine as a menu shows it."""

    name: str
    available: bool
    reason: str
    description: str
    voices: tuple[str, ...]
    languages: tuple[str, ...]
    sample_rate: int


def register_engine(engine: Engine) -> Engine:
    """Add ``engine`` (an :class:`~tts.engine.Engine`) to :data:`ENGINES`; its presets join the voices.

    Raises
    ------
    TypeError
        ``engine`` does not follow the contract.
    ValueError
        Its name or one of its preset names is taken.
    """
    if not isinstance(engine, Engine):
        raise TypeError(f"{engine!r} is not a tts.engine.Engine.")
    if engine.name in ENGINES:
        raise ValueError(f"A TTS engine named {engine.name!r} is registered already.")
    taken = {v.name for e in ENGINES.values() for v in e.voices} & {v.name for v in engine.voices}
    if taken:
        raise ValueError(f"Voice names {', '.join(sorted(taken))} are taken by another engine.")
    ENGINES[engine.name] = engine
    return engine


def engine_for(voice: Voice | str) -> Engine:
    """The engine of ``voice`` (a :class:`~tts.engine.Voice` or an engine name)."""
    name = voice.engine if isinstance(voice, Voice) else voice
    if name not in ENGINES:
        raise ValueError(f"Unknown TTS engine {name!r}; choose one of {', '.join(ENGINES)}.")
    return ENGINES[name]


def available_engines() -> list[EngineInfo]:
    """Every engine with its capabilities and, when not usable here, the reason in words."""
    out = []
    for engine in ENGINES.values():
        reason = engine.availability()
        out.append(EngineInfo(engine.name, reason is None, reason or "", engine.description,
                              tuple(v.name for v in engine.voices), engine.languages, engine.sample_rate))
    return out
