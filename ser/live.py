"""Live emotion from a microphone stream: a sliding window, updated every second.

Chunks arrive as the browser sends them (any rate, int16 or float); the last
``window`` seconds are kept and recognised every ``every`` seconds of audio.
Quiet windows and windows without speech (noise, a hum) are reported as
``current = None`` instead of guessed at.

>>> state = LiveState()
>>> for rate, chunk in microphone():                                  # doctest: +SKIP
...     state, updated = live_step(state, chunk, rate)
...     if updated:
...         print(state.current.emotion if state.current else "silence")
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .audio import SAMPLE_RATE, decode, resample, to_mono
from .recognizer import Recognition
from .vad import NoSpeechError

WINDOW = 3.0
EVERY = 1.0
HISTORY = 60
# Below this RMS (about -46 dBFS) a window holds no speech worth a guess.
SILENCE_RMS = 0.005


@dataclass
class LiveState:
    """What the live view remembers between chunks (kept in ``gr.State``)."""

    window: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    received: float = 0.0
    last_update: float = float("-inf")
    current: Recognition | None = None
    history: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    compute_seconds: float = 0.0


def live_step(state: LiveState | None, chunk, sample_rate: int | None = None, *, model="default",
              emotions=None, window: float = WINDOW, every: float = EVERY,
              history: int = HISTORY) -> tuple[LiveState, bool]:
    """Add one chunk; recognise the last ``window`` seconds when ``every`` seconds have passed.

    Parameters
    ----------
    state : LiveState or None
        The previous state (``None`` starts a new one).
    chunk : numpy.ndarray or ``(rate, array)``
        New samples, as Gradio's streaming audio gives them.
    sample_rate : int, optional
        Rate of a bare array chunk.
    window, every : float
        Seconds of audio recognised, and seconds of audio between updates.
    history : int
        Updates kept for the rolling chart.

    Returns
    -------
    (LiveState, bool)
        The state and whether it was updated (``state.current`` is None for
        silence).

    Examples
    --------
    >>> state, updated = live_step(None, (48_000, chunk))           # doctest: +SKIP
    """
    import time

    from .recognizer import EmotionRecognizer, get_recognizer

    state = state or LiveState()
    samples, rate = decode(chunk, sample_rate)
    samples = resample(to_mono(samples), rate, SAMPLE_RATE)
    keep = int(window * SAMPLE_RATE)
    state.window = np.concatenate([state.window, samples])[-keep:]
    state.received += samples.size / SAMPLE_RATE
    if state.received - state.last_update < every or state.window.size < SAMPLE_RATE // 2:
        return state, False
    started = time.perf_counter()
    state.last_update = state.received
    if float(np.sqrt(np.mean(state.window ** 2))) < SILENCE_RMS:
        state.current = None
    else:
        recognizer = model if isinstance(model, EmotionRecognizer) else get_recognizer(model)
        try:
            state.current = recognizer.recognize(state.window, emotions=emotions)
        except NoSpeechError:  # noise or a hum: no guess, as for silence
            state.current = None
    state.history = [*state.history, (state.received, state.current.probabilities if state.current else {})][-history:]
    state.compute_seconds = time.perf_counter() - started
    return state, True
