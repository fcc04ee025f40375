"""The project's one error root and its kinds, at the bottom so every package can subclass them.

Each package keeps its own exceptions (:class:`ser.audio.AudioError`,
:class:`asr.ASRUnavailable`, :class:`tts.BudgetError` …) and each is one of
the five kinds below, so the faces (UI, REST, CLIs) map errors by kind once
(:mod:`pipelines.errors`) instead of by a list of every package's classes.
This module imports nothing: ``asr`` and ``tts`` import it without loading
anything of ``ser``'s.
"""

from __future__ import annotations


class StudioError(Exception):
    """Something a user can act on; the message says what and how.  ``kind`` names the class of problem."""

    kind = "bad_parameter"


class BadAudio(StudioError):
    """The audio (or an upload of audio) cannot be used: unreadable, empty, silent, no speech."""

    kind = "bad_audio"


class BadParameter(StudioError):
    """A parameter is missing or invalid: an unknown emotion, voice, model or backend."""

    kind = "bad_parameter"


class TooLarge(StudioError):
    """The input is over a limit: audio too long, text or rendering over the budget, an upload too big."""

    kind = "too_large"


class Unavailable(StudioError):
    """A model, backend or engine cannot be used here (not installed, not cached and offline …)."""

    kind = "unavailable"


class Cancelled(StudioError):
    """The user stopped the job; nothing was kept."""

    kind = "cancelled"


KINDS = ("bad_audio", "bad_parameter", "too_large", "unavailable", "cancelled")
