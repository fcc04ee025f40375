"""The one mapping of errors per face: UI message, HTTP status and JSON body, CLI exit code.

Every package's user-facing exception is one kind of :class:`ser.errors.StudioError`
(bad audio, bad parameter, too large, unavailable, cancelled), so a face asks
for the kind, never for a list of classes.  A plain ``ValueError`` is a bad
parameter (``fuse``'s weight, numpy's and scikit-learn's argument checks);
``FileNotFoundError`` (a corpus folder named on the command line) too.
Anything else is a bug: the faces log it and answer without details.
"""

from __future__ import annotations

import sys
from typing import Callable

from ser.errors import (KINDS, BadAudio, BadParameter, Cancelled, StudioError, TooLarge,  # noqa: F401 - re-exported
                        Unavailable)

#: HTTP status of each kind (REST): 400 unusable audio, 413 over a limit, 422 bad parameters,
#: 503 a model or backend unavailable (and a job stopped before it answered).
HTTP_STATUS = {"bad_audio": 400, "too_large": 413, "bad_parameter": 422, "unavailable": 503, "cancelled": 503}
#: What counts as the user's error (one of the kinds); anything else is a bug.  A face that
#: catches errors itself (the Gradio handlers) catches these, and shows :func:`ui_message`.
USER_ERRORS = (StudioError, ValueError, FileNotFoundError)
#: The exit status of every ``python -m ser|asr|tts`` command for an error a user can act on.
#: 2, as argparse's own for bad arguments.
EXIT_CODE = 2


def error_kind(error: BaseException) -> str | None:
    """The kind of a user-facing error (one of :data:`ser.errors.KINDS`), or ``None`` for a bug.

    Examples
    --------
    >>> from ser.audio import AudioTooLong
    >>> error_kind(AudioTooLong(600)), error_kind(ValueError("bad")), error_kind(KeyError("x"))
    ('too_large', 'bad_parameter', None)
    """
    if isinstance(error, StudioError):
        return error.kind
    return "bad_parameter" if isinstance(error, USER_ERRORS) else None


def ui_message(error: BaseException) -> str | None:
    """The text of the ``gr.Error`` the UI shows for ``error``; ``None`` for a bug (let it raise)."""
    return str(error) if error_kind(error) else None


def http_error(error: BaseException) -> tuple[int, dict] | None:
    """``(status, {"error": message})`` the REST API answers for ``error``; ``None`` for a bug (500)."""
    kind = error_kind(error)
    return (HTTP_STATUS[kind], {"error": str(error)}) if kind else None


def exit_code(error: BaseException) -> int | None:
    """The exit status a CLI ends with for ``error`` (after printing ``error: message``); ``None`` for a bug."""
    return EXIT_CODE if error_kind(error) else None


def run_command(command: Callable[[], int]) -> int:
    """Run one CLI command: a user's error is printed as ``error: message`` and ends with :data:`EXIT_CODE`.

    Every ``python -m ser|asr|tts`` ends this way.  ``OSError`` counts as the
    user's too on the command line (an output path that cannot be written);
    anything else is a bug and raises with its traceback.
    """
    try:
        return command()
    except Exception as error:  # noqa: BLE001 - sorted just below; bugs are raised again
        if exit_code(error) is None and not isinstance(error, OSError):
            raise
        sys.stderr.write(f"error: {error}\n")
        return EXIT_CODE
