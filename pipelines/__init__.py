"""The use cases: every flow that crosses ``ser``, ``asr`` and ``tts``, one function each.

The faces (``app.py``, ``server.py``, ``python -m ser|asr|tts``) parse input,
call these and format what they return; nothing below this package imports
it.  Each function takes anything audio-like (a path, bytes, ``(rate, array)``,
a 16 kHz array), decodes it once (:func:`pipelines.audio.decode`) with the
limits of a :class:`~pipelines.settings.Settings`, and returns a result
dataclass with ``to_dict``.

>>> from pipelines import recognize, words, analyze_timeline, revoice
>>> recognize("clip.wav").to_dict()                          # doctest: +SKIP
"""

from .errors import error_kind, exit_code, http_error, ui_message
from .recognize import RecognizeRequest, RecognizeResult, recognize
from .revoice import Revoice, revoice
from .settings import Settings
from .timeline import TimelineResult, analyze_timeline, timeline
from .words import WordsRequest, WordsResult, words

__all__ = ["RecognizeRequest", "RecognizeResult", "Revoice", "Settings", "TimelineResult", "WordsRequest",
           "WordsResult", "analyze_timeline", "error_kind", "exit_code", "http_error", "recognize", "revoice",
           "timeline", "ui_message", "words"]
