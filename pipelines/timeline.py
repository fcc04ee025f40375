"""Timeline: emotion, gender and transcript of every utterance of a long recording.

The recording is decoded once (:func:`pipelines.audio.decode`); ``ser.timeline``
finds the utterances and recognises each from the same samples, as Recognize
would hear it; ``asr`` writes the transcript in one pass over the recording,
in pieces of whole utterances, and its words are placed in the segments by
their timestamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import asr
from ser.audio import SAMPLE_RATE, AudioError
from ser.timeline import (CONTEXT, MAX_SEGMENT, NO_SPACE_LANGUAGES, WINDOW_SECONDS, Timeline, TimelineSegment,
                          assign_words, recognize_spans, transcription_chunks, utterance_spans)

from .audio import decode
from .recognize import recognizer_for
from .settings import Settings

#: Utterances shorter than this that got no words are left empty (a breath, a click).
MIN_REDECODE = 0.5


@dataclass(frozen=True)
class TimelineResult:
    """The timeline as every face reports it: :class:`ser.timeline.Timeline`'s parts and its summary."""

    duration: float
    labels: list[str]
    summary: dict[str, float] = field(metadata={"description": "Share of speech time per emotion."})
    segments: list[TimelineSegment]
    notes: list[str] = field(default_factory=list, metadata={"description": "Doubts about the transcript, in words."})

    @classmethod
    def of(cls, timeline: Timeline) -> "TimelineResult":
        return cls(round(timeline.duration, 3), timeline.labels, timeline.summary(), timeline.segments,
                   list(timeline.notes))

    def to_dict(self) -> dict:
        return {"duration": self.duration, "labels": self.labels, "summary": self.summary,
                "segments": [s.to_dict() for s in self.segments], "notes": self.notes}


def asr_ready(backend: str | None) -> bool:
    """Whether ``backend`` can transcribe here (a timeline without one has no text)."""
    return bool(backend) and any(b.name == backend and b.available for b in asr.available_backends())


def analyze_timeline(source, *, model="default", emotions: Sequence[str] | None = None,
                     asr_backend: str | None = "faster-whisper", language: str | None = None,
                     max_segment: float = MAX_SEGMENT, window: float = WINDOW_SECONDS,
                     max_duration: float | None = None, context: float = CONTEXT,
                     progress: Callable[[float, str], None] | None = None,
                     settings: Settings | None = None, **vad) -> Timeline:
    """Emotion, gender and transcript of every utterance of a long recording.

    Parameters
    ----------
    source : path, bytes, numpy.ndarray or ``(rate, array)``
        Anything :func:`ser.audio.load_audio` reads (a bare array is 16 kHz); decoded once.
    model : str, ModelChoice or EmotionRecognizer
        Emotion model (``"default"``, bundle folder, Hub id, a checked choice) or a recognizer.
    emotions : sequence of str, optional
        Restrict predictions to these labels.
    asr_backend : str or None
        ASR backend for the ``text`` of each segment; ``None`` (or a backend
        that is not available here) leaves ``text`` empty.
    language : str, optional
        Language for ASR (``None`` or ``"auto"`` detects it once, from the first pieces).
    max_segment : float
        Longest utterance in seconds; longer speech is split at pauses.
    window : float
        Seconds of audio the VAD sees at once.
    max_duration : float, optional
        Longest recording accepted, in seconds (default ``settings.max_recording_s``, an hour:
        64 kB of memory per second).
    context : float
        Seconds around each utterance the recogniser hears (:func:`ser.timeline.context_bounds`).
    progress : callable, optional
        ``progress(fraction, message)`` at each stage and after each segment.
    settings : Settings, optional
        From the environment by default.
    **vad
        ``threshold``, ``min_silence``, ``pad``, ``max_gap``, ``min_length``
        of :func:`ser.timeline.speech_spans`.

    Returns
    -------
    ser.timeline.Timeline
        ``notes`` says when the transcript is doubtful (language unsure,
        decoding stopped at its bound).

    Examples
    --------
    >>> t = analyze_timeline("call.mp3", asr_backend=None)    # doctest: +SKIP
    >>> t.segments[0].emotion, t.segments[0].start            # doctest: +SKIP
    ('neutral', 0.42)
    """
    settings = settings or Settings()
    report = progress or (lambda fraction, message: None)
    recognizer = recognizer_for(model)
    report(0.0, "Reading the recording")
    # Silence is allowed: the VAD finds none and the timeline is empty.
    samples = decode(source, max_duration=settings.max_recording_s if max_duration is None else max_duration,
                     allow_silence=True)
    duration = samples.size / SAMPLE_RATE
    report(0.02, "Finding speech")
    spans = utterance_spans(samples, window=window, max_segment=max_segment, **vad)
    texts, notes = [""] * len(spans), []
    with_text = bool(spans) and asr_ready(asr_backend)
    if with_text:
        language = None if language in (None, "", "auto") else language
        texts, notes = _transcribe(samples, spans, asr_backend, language, report)
    first = 0.5 if with_text else 0.05  # transcription takes about half of the time
    segments = recognize_spans(samples, spans, recognizer, texts=texts, emotions=emotions, context=context,
                               progress=lambda fraction, message: report(first + (0.99 - first) * fraction, message))
    report(1.0, f"{len(segments)} segments")
    labels = list(segments[0].probabilities) if segments else []
    return Timeline(segments, duration, labels, notes)


def transcript_words(transcript) -> list[tuple[float, float, str]]:
    """``(start, end, word)`` of a transcript; backends without word timings (pocketsphinx …)
    give whole segments, placed as one "word"."""
    words = []
    for segment in transcript.segments:
        if segment.words:
            words += [(w.start, w.end, w.word) for w in segment.words]
        elif segment.text:
            words.append((segment.start, segment.end, segment.text))
    return words


def _transcribe(samples, spans, backend, language, report) -> tuple[list[str], list[str]]:
    """The recording in chunks of whole utterances (:func:`ser.timeline.transcription_chunks`); words go to
    the segments of their chunk by their timestamps.

    Decoding each segment on its own cost 20x the audio's length with text
    (273 s took 457 s): every segment paid for an encode and its own decode.
    One decode of 30 s windows garbles speech that repeats itself: on RAVDESS
    recordings (two sentences, over and over) Whisper's compression-ratio
    check rejects the right text and its sampled retries wrote nonsense (WER
    78 %); pieces of at most 9 s hold two or three sentences and are encoded
    in the 10 s short window, as cheap per second as 30 s windows.
    """
    texts, notes = [""] * len(spans), []
    chunks = transcription_chunks(spans, samples.size)
    seconds = [(start / SAMPLE_RATE, end / SAMPLE_RATE) for start, end in spans]
    for n, (first, last, start, end) in enumerate(chunks):
        report(0.05 + 0.45 * n / len(chunks), f"Transcribing {end / SAMPLE_RATE:.0f}/{samples.size / SAMPLE_RATE:.0f} s")
        try:
            # The recording was checked at its decode; a piece has no limit of its own.
            transcript = asr.transcribe(samples[start:end], backend=backend, language=language, max_duration=math.inf)
        except AudioError:
            continue
        offset = start / SAMPLE_RATE
        words = [(a + offset, b + offset, w) for a, b, w in transcript_words(transcript)]
        joiner = "" if transcript.language in NO_SPACE_LANGUAGES else " "
        texts[first:last] = assign_words(words, seconds[first:last], joiner)
        notes += [note for note in transcript.notes if note not in notes]
        if language is None and len(transcript.text) > 20:
            # Detection on every short piece flips between languages; one recording keeps one.
            language = transcript.language
        if last - first > 1:
            _fill_dropped(samples, spans, texts, range(first, last), backend, language or transcript.language)
    return texts, notes


def _fill_dropped(samples, spans, texts, indices, backend, language) -> None:
    """Decode alone the utterances of a piece that got no words.

    Whisper sometimes leaves out an utterance that repeats the one before it
    (RAVDESS recordings say two sentences over and over): on a 150 s
    recording one "Dogs are sitting by the door." of 30 came back empty, the
    only words the one pass lost against one decode per segment.  Alone, the
    utterance is heard; a piece of one utterance is not decoded twice.
    """
    for k in indices:
        start, end = spans[k]
        if texts[k] or end - start < MIN_REDECODE * SAMPLE_RATE:
            continue
        try:
            texts[k] = asr.transcribe(samples[start:end], backend=backend, language=language,
                                      max_duration=math.inf).text.strip()
        except AudioError:
            continue
