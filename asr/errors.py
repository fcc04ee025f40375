"""The one error the asr package adds to :class:`ser.audio.AudioError`."""

from ser.errors import Unavailable


class ASRUnavailable(Unavailable, RuntimeError):
    """A backend or model cannot be used here; the message says why and what to do."""
