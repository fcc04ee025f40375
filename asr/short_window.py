"""Whisper with a short encoder window for short clips.

Whisper pads every input to a 30 s window and its encoder, most of the cost
of a short clip, runs over all of it.  A clip that fits in 10 s (or 20 s)
with a second of silence to spare is padded to that window instead: the
encoder does a third of the work.  Longer recordings keep Whisper's own
30 s windows.

The short window has two failure modes, and output that shows either is
decoded again in the 30 s window (the way Whisper itself re-decodes output
that compresses too well):

* a loop: Whisper says a short clip's sentence twice or three times
  (:func:`loops`);
* a cut: a segment ends mid-sentence, sometimes inside a word ("The bir" |
  "can use lid on the smooth planks"), and the text after the cut may be
  lost (:func:`cut_short`).  Of 72 synthetic sentences 16 came back in
  pieces from the short window, none from the 30 s one; decoding those
  again took WER from 21 % to 15 %.

Decoding stops at a deadline (:func:`decoding_deadline`): no window is
decoded after it, and :class:`DecodingStopped` carries what was decoded.
"""

from __future__ import annotations

import math
import re
import time
from contextlib import contextmanager
from contextvars import ContextVar

from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim

# Windows in seconds, and the silence a clip must leave at the end of one
# (Whisper's training windows end in silence or in cut speech, never at the edge).
SHORT_WINDOWS = (10, 20)
SPARE_SECONDS = 1.0
FRAMES_PER_SECOND = 100  # mel frames (10 ms hop)
# A run of at least this many words said twice in a row counts as a loop.
LOOP_WORDS = 3
# ... unless the two are Whisper segments a pause of this length apart: two
# utterances saying the same thing.  On RAVDESS recordings cut into pieces of
# two or three utterances (ser.timeline), 4 of 7 pieces repeated a sentence
# across a pause of 2.5 s or more and were decoded again for nothing.
PAUSE_SECONDS = 1.0
_WORD = re.compile(r"[\w']+")
SENTENCE_ENDS = (".", "!", "?", "…", "。", "！", "？", "।")
# Per call, not per model: one loaded model serves every thread.
_deadline: ContextVar[float] = ContextVar("whisper_decoding_deadline", default=math.inf)
# The windows of the current context (encoder_windows changes them for one block, one thread).
_windows: ContextVar[tuple] = ContextVar("whisper_short_windows", default=SHORT_WINDOWS)


class DecodingStopped(Exception):
    """The decoding deadline passed; ``segments`` are those decoded before it."""

    def __init__(self, segments=()):
        super().__init__("the decoding deadline passed")
        self.segments = list(segments)


@contextmanager
def decoding_deadline(seconds: float):
    """Inside the block, :class:`ShortWindowWhisper` starts no decode after ``seconds`` from now."""
    token = _deadline.set(time.perf_counter() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def window_frames(content_frames: int) -> int | None:
    """Mel frames of the short window for a clip, or ``None`` for Whisper's 30 s.

    >>> window_frames(400), window_frames(950), window_frames(2500)
    (1000, 2000, None)
    """
    for seconds in _windows.get():
        if content_frames + SPARE_SECONDS * FRAMES_PER_SECOND <= seconds * FRAMES_PER_SECOND:
            return seconds * FRAMES_PER_SECOND
    return None


@contextmanager
def encoder_windows(windows: tuple):
    """Use ``windows`` (``()``: Whisper's 30 s only) inside the block, then restore.

    For benchmarks comparing windows.  The choice is a context variable, as
    the decoding deadline is: a concurrent request keeps :data:`SHORT_WINDOWS`.
    """
    token = _windows.set(tuple(windows))
    try:
        yield
    finally:
        _windows.reset(token)


def repeats_itself(text: str) -> bool:
    """Whether ``text`` says some run of :data:`LOOP_WORDS`+ words twice in a row.

    >>> repeats_itself("Kids are talking by the door. Kids are talking by the door.")
    True
    >>> repeats_itself("Kids are talking by the door, the door.")
    False
    """
    words = _WORD.findall(text.lower())
    for size in range(LOOP_WORDS, len(words) // 2 + 1):
        for start in range(len(words) - 2 * size + 1):
            if words[start:start + size] == words[start + size:start + 2 * size]:
                return True
    return False


def loops(segments) -> bool:
    """Whether a decode repeats itself (:func:`repeats_itself`) within one stretch of speech.

    Segments further apart than :data:`PAUSE_SECONDS` start a new stretch.
    """
    stretches, last_end = [], None
    for segment in segments:
        if not stretches or segment.start - last_end >= PAUSE_SECONDS:
            stretches.append([])
        stretches[-1].append(segment.text)
        last_end = segment.end
    return any(repeats_itself(" ".join(texts)) for texts in stretches)


def cut_short(segments, duration: float) -> bool:
    """Whether a decode ``segments`` of a ``duration`` s clip stops mid-sentence.

    Segments before the last must end a sentence; the last may end without
    punctuation only when it reaches the final second of the clip.
    """
    if not segments:
        return False
    ends = [s.text.rstrip().endswith(SENTENCE_ENDS) for s in segments]
    return not all(ends[:-1]) or (not ends[-1] and segments[-1].end < duration - SPARE_SECONDS)


class _Deadlined:
    """The CTranslate2 Whisper, refusing to start a decode after the deadline.

    faster-whisper tries up to six temperatures within one window; checking
    only between windows let one window of a 3 s clip run for 35 s.
    """

    def __init__(self, model):
        self._model = model

    def __getattr__(self, name):
        return getattr(self._model, name)

    def generate(self, *args, **kwargs):
        if time.perf_counter() > _deadline.get():
            raise DecodingStopped()
        return self._model.generate(*args, **kwargs)


class ShortWindowWhisper(WhisperModel):
    """:class:`~faster_whisper.WhisperModel` that encodes a short clip in a short window.

    faster-whisper encodes the first window itself unless it is handed the
    encoder output; this hands it the encoding of the clip padded to the
    smallest window of :data:`SHORT_WINDOWS` that fits, and decodes again
    with the full window when the text loops (:func:`loops`) or
    stops mid-sentence (:func:`cut_short`).
    Decoding, timestamps, word alignment and the temperature fallback stay
    faster-whisper's own.  (For ``transcribe`` calls that start at 0 s, as
    all of this project's do.)  Past the :func:`decoding_deadline` no decode
    starts, not even the next temperature of a fallback:
    :class:`DecodingStopped` is raised.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = _Deadlined(self.model)

    def generate_segments(self, features, tokenizer, options, log_progress, encoder_output=None):
        content = features.shape[-1] - 1  # faster-whisper's count of frames that hold audio
        window = window_frames(content)
        if encoder_output is not None or window is None:
            return super().generate_segments(features, tokenizer, options, log_progress, encoder_output)
        short = self.encode(pad_or_trim(features[:, :content], window))
        segments = []
        try:
            for segment in super().generate_segments(features, tokenizer, options, log_progress, short):
                segments.append(segment)
        except DecodingStopped:
            raise DecodingStopped(segments) from None
        if not loops(segments) and not cut_short(segments, content / FRAMES_PER_SECOND):
            return segments
        return super().generate_segments(features, tokenizer, options, log_progress, None)
