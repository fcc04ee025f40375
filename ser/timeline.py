"""Emotion over time for long recordings.

A recording is decoded once (:func:`ser.audio.load_audio`, as Recognize
does), voice-activity detection (the Silero VAD bundled with faster-whisper,
onnx, offline) finds utterances in a sliding window, and each utterance is
recognised from the same samples, with the same features, as Recognize would
hear it.  The transcript is written in one pass over the recording, in pieces
of whole utterances, and its words are placed in the segments by their
timestamps.

>>> from ser.timeline import analyze_timeline
>>> timeline = analyze_timeline("meeting.flac")               # doctest: +SKIP
>>> timeline.summary()                                        # doctest: +SKIP
{'neutral': 0.62, 'happy': 0.31, 'angry': 0.07}
>>> print(timeline.to_srt())                                  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .audio import SAMPLE_RATE, SILENCE_PEAK, AudioError, load_audio

BLOCK_SECONDS = 10.0
WINDOW_SECONDS = 60.0
MAX_SEGMENT = 8.0
MIN_SEGMENT = 0.5
MERGE_GAP = 0.3
PAD = 0.1
# Seconds of the recording heard around each utterance.  The models learnt
# from corpus clips with about a second of silence at each end; on RAVDESS
# recordings (49 utterances, 2 seeds) a tight VAD crop agreed with Recognize
# on the original clip 27 times, 0.5 s 43, 1 s 48, 2 s 39, the whole pause 38.
CONTEXT = 1.0
# An hour: the decoded recording is held in memory (64 kB per second at 16 kHz).
MAX_RECORDING = 3600.0
# Scripts written without spaces between words: their word timings are joined as they are.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "km", "yue", "bo"})
# Transcription pieces (see _transcribe): whole utterances, at most 9 s with their
# padding, so each fits Whisper's 10 s short window with a second to spare.
CHUNK_SECONDS = 9.0
CHUNK_PAD = 0.5


@dataclass
class TimelineSegment:
    """One utterance: where it is (seconds), how it sounds and what it says."""

    start: float
    end: float
    emotion: str
    confidence: float
    probabilities: dict[str, float]
    text: str = ""
    gender: str | None = None
    gender_confidence: float | None = None
    # The recognizer's honest answer (its "not sure" rule): "not sure — closest: sad (41 %)".
    sure: bool = True
    label: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        out = asdict(self)
        out["start"], out["end"] = round(self.start, 3), round(self.end, 3)
        out["confidence"] = round(self.confidence, 4)
        out["probabilities"] = {k: round(v, 4) for k, v in self.probabilities.items()}
        return out


@dataclass
class Timeline:
    """The segments of a recording, with summary and export helpers."""

    segments: list[TimelineSegment]
    duration: float
    labels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # doubts about the transcript, in words

    def summary(self) -> dict[str, float]:
        """Share of speech time per emotion (sums to 1; empty without speech)."""
        total = sum(s.duration for s in self.segments)
        shares: dict[str, float] = {}
        for s in self.segments:
            shares[s.emotion] = shares.get(s.emotion, 0.0) + s.duration / total
        return dict(sorted(shares.items(), key=lambda kv: -kv[1]))

    def to_json(self, indent: int | None = None) -> str:
        """A JSON list of ``{start, end, emotion, confidence, probabilities, text, gender, …}``."""
        return json.dumps([s.to_dict() for s in self.segments], indent=indent, ensure_ascii=False)

    def to_csv(self) -> str:
        """One row per segment; one ``p_<emotion>`` column per label."""
        labels = self.labels or sorted({k for s in self.segments for k in s.probabilities})
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["start", "end", "emotion", "confidence", "gender", "gender_confidence", "text",
                         *(f"p_{label}" for label in labels)])
        for s in self.segments:
            writer.writerow([f"{s.start:.3f}", f"{s.end:.3f}", s.emotion, f"{s.confidence:.4f}", s.gender or "",
                             "" if s.gender_confidence is None else f"{s.gender_confidence:.4f}", s.text,
                             *(f"{s.probabilities.get(label, 0.0):.4f}" for label in labels)])
        return out.getvalue()

    def to_srt(self) -> str:
        """SubRip subtitles: ``[emotion 87%] transcript`` per segment."""
        blocks = []
        for i, s in enumerate(self.segments, 1):
            caption = f"[{s.label or f'{s.emotion} {s.confidence:.0%}'}]" + (f" {s.text}" if s.text else "")
            blocks.append(f"{i}\n{srt_time(s.start)} --> {srt_time(s.end)}\n{caption}\n")
        return "\n".join(blocks)


def srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm`` as SubRip writes times."""
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


# ----------------------------------------------------------------- segmenting

def array_blocks(samples: np.ndarray, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Cut an in-memory recording into the blocks :func:`find_segments` takes."""
    step = int(block_seconds * SAMPLE_RATE)
    for i in range(0, len(samples), step):
        yield samples[i:i + step]


def _with_flush(blocks):
    yield from blocks
    yield None  # the end of the recording: the last window is final

def merge_spans(spans: Sequence[tuple[int, int]], *, max_gap: float = MERGE_GAP,
                max_length: float = MAX_SEGMENT, min_length: float = MIN_SEGMENT) -> list[tuple[int, int]]:
    """Join spans (in samples) separated by less than ``max_gap`` seconds while the result
    stays under ``max_length``; drop those shorter than ``min_length``.

    Examples
    --------
    >>> merge_spans([(0, 16000), (18000, 32000), (80000, 81000)])
    [(0, 32000)]
    """
    merged: list[list[int]] = []
    for start, end in spans:
        if (merged and start - merged[-1][1] < max_gap * SAMPLE_RATE
                and end - merged[-1][0] <= max_length * SAMPLE_RATE):
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged if e - s >= min_length * SAMPLE_RATE]


def speech_spans(samples: np.ndarray, *, threshold: float = 0.5, min_silence: float = 0.25,
                 max_segment: float = MAX_SEGMENT, pad: float = PAD, max_gap: float = MERGE_GAP,
                 min_length: float = MIN_SEGMENT) -> list[tuple[int, int]]:
    """Utterances in a 16 kHz array as ``(start, end)`` sample indices.

    Silero VAD finds speech; pauses shorter than ``min_silence`` do not end an
    utterance, utterances longer than ``max_segment`` are split at their
    longest pause, and neighbours closer than ``max_gap`` are merged.

    Examples
    --------
    >>> speech_spans(load_audio("talk.wav", max_duration=60))   # doctest: +SKIP
    [(3200, 40512), (72128, 113216)]
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if samples.size < SAMPLE_RATE // 10:
        return []
    options = VadOptions(threshold=threshold, min_silence_duration_ms=int(min_silence * 1000),
                         max_speech_duration_s=max_segment, speech_pad_ms=int(pad * 1000),
                         min_speech_duration_ms=100)
    spans = [(t["start"], t["end"]) for t in get_speech_timestamps(samples, options)]
    return merge_spans(spans, max_gap=max_gap, max_length=max_segment, min_length=min_length)


def find_segments(blocks: Iterable[np.ndarray], *, window: float = WINDOW_SECONDS,
                  max_segment: float = MAX_SEGMENT, **vad) -> Iterator[tuple[float, float, np.ndarray]]:
    """Stream utterances out of 16 kHz blocks: ``(start_s, end_s, samples)``.

    The VAD runs over a ``window``-second buffer.  Utterances that end well
    before the buffer's end are final and yielded; the buffer then keeps only
    its tail (the overlap, holding any unfinished utterance) and fills up
    again, so memory is bounded by ``window + max_segment`` seconds whatever
    the length of the input.

    Examples
    --------
    >>> for start, end, samples in find_segments(stream_audio("day.flac")):  # doctest: +SKIP
    ...     print(f"{start:7.2f} {end:7.2f}")
    """
    hold = int((vad.get("min_silence", 0.25) + vad.get("max_gap", MERGE_GAP) + 2 * PAD + 0.5) * SAMPLE_RATE)
    window_size = max(int(window * SAMPLE_RATE), int((max_segment + 2) * SAMPLE_RATE) + hold)
    buffer, offset, parts = np.empty(0, np.float32), 0, []
    for block in _with_flush(blocks):
        final = block is None
        if not final:
            parts.append(np.asarray(block, dtype=np.float32))
            if len(buffer) + sum(p.size for p in parts) < window_size:
                continue
        buffer = np.concatenate([buffer, *parts]) if parts else buffer
        parts = []
        spans = speech_spans(buffer, max_segment=max_segment, **vad)
        limit = len(buffer) if final else len(buffer) - hold
        cut = limit
        for start, end in spans:
            if end > limit:
                cut = min(cut, start)
                break
            yield (offset + start) / SAMPLE_RATE, (offset + end) / SAMPLE_RATE, buffer[start:end].copy()
        cut = max(cut, 0)
        buffer, offset = buffer[cut:], offset + cut


# ----------------------------------------------------------------- recognising

def _asr_ready(backend: str | None) -> bool:
    if not backend:
        return False
    try:
        from asr import available_backends
    except ImportError:
        return False
    return any(b.name == backend and b.available for b in available_backends())


def read_recording(source, max_duration: float = MAX_RECORDING) -> np.ndarray:
    """A recording as mono float32 16 kHz samples, decoded once by :func:`ser.audio.load_audio`.

    ``source`` is anything ``load_audio`` reads; a bare array is taken as
    16 kHz.  Silence is allowed (the VAD finds none and the timeline is empty).
    """
    rate = SAMPLE_RATE if isinstance(source, np.ndarray) else None
    return load_audio(source, rate, allow_silence=True, max_duration=max_duration)


def context_bounds(spans: Sequence[tuple[int, int]], total: int,
                   context: float = CONTEXT) -> list[tuple[int, int]]:
    """The stretch of the recording the recogniser hears for each utterance (sample indices).

    Each span grows by up to ``context`` seconds on both sides, never past
    the midpoint of the pause to its neighbour, so a recording that is one
    utterance with ordinary margins is heard whole, exactly as Recognize hears it.

    Examples
    --------
    >>> context_bounds([(16000, 32000), (40000, 56000)], 80000, context=1.0)
    [(0, 36000), (36000, 72000)]
    """
    pad = int(context * SAMPLE_RATE)
    bounds = []
    for k, (start, end) in enumerate(spans):
        low = 0 if k == 0 else (spans[k - 1][1] + start) // 2
        high = total if k == len(spans) - 1 else (end + spans[k + 1][0]) // 2
        bounds.append((max(low, start - pad), min(high, end + pad)))
    return bounds


def assign_words(words: Sequence[tuple[float, float, str]], spans: Sequence[tuple[float, float]],
                 joiner: str = " ") -> list[str]:
    """The text of each span: every word goes to the span holding its midpoint, else the nearest one.

    No word is dropped, so the timeline's text is the whole transcript.

    Examples
    --------
    >>> assign_words([(0.1, 0.4, "Kids"), (0.5, 0.9, "talk."), (2.2, 2.5, "Dogs")], [(0.0, 1.0), (2.0, 3.0)])
    ['Kids talk.', 'Dogs']
    """
    texts: list[list[str]] = [[] for _ in spans]
    if not spans:
        return []
    for start, end, word in words:
        middle = (start + end) / 2
        k = min(range(len(spans)), key=lambda i: max(spans[i][0] - middle, middle - spans[i][1], 0.0))
        texts[k].append(word)
    return [joiner.join(t).strip() for t in texts]


def _transcript_words(transcript) -> list[tuple[float, float, str]]:
    # Backends without word timings (pocketsphinx …) give whole segments; they are placed as one "word".
    words = []
    for segment in transcript.segments:
        if segment.words:
            words += [(w.start, w.end, w.word) for w in segment.words]
        elif segment.text:
            words.append((segment.start, segment.end, segment.text))
    return words


def analyze_timeline(source, *, model="default", emotions: Sequence[str] | None = None,
                     asr_backend: str | None = "faster-whisper", language: str | None = None,
                     max_segment: float = MAX_SEGMENT, window: float = WINDOW_SECONDS,
                     max_duration: float = MAX_RECORDING, context: float = CONTEXT,
                     progress: Callable[[float, str], None] | None = None, **vad) -> Timeline:
    """Emotion, gender and transcript of every utterance of a long recording.

    Parameters
    ----------
    source : path, bytes, numpy.ndarray or ``(rate, array)``
        Anything :func:`ser.audio.load_audio` reads (a bare array is 16 kHz).
    model : str or EmotionRecognizer
        Emotion model (``"default"``, bundle folder, Hub id) or a recognizer.
    emotions : sequence of str, optional
        Restrict predictions to these labels.
    asr_backend : str or None
        ASR backend for the ``text`` of each segment; ``None`` (or a backend
        that is not available here) leaves ``text`` empty.
    language : str, optional
        Language for ASR (``None`` detects it once, from the first 30 s).
    max_segment : float
        Longest utterance in seconds; longer speech is split at pauses.
    window : float
        Seconds of audio the VAD sees at once.
    max_duration : float
        Longest recording accepted, in seconds (memory: 64 kB per second).
    context : float
        Seconds around each utterance the recogniser hears (:func:`context_bounds`).
    progress : callable, optional
        ``progress(fraction, message)`` at each stage and after each segment.
    **vad
        ``threshold``, ``min_silence``, ``pad``, ``max_gap``, ``min_length``
        of :func:`speech_spans`.

    Returns
    -------
    Timeline
        ``notes`` says when the transcript is doubtful (language unsure,
        decoding stopped at its bound).

    Examples
    --------
    >>> t = analyze_timeline("call.mp3", asr_backend=None)    # doctest: +SKIP
    >>> t.segments[0].emotion, t.segments[0].start            # doctest: +SKIP
    ('neutral', 0.42)
    """
    from .recognizer import EmotionRecognizer, get_recognizer

    report = progress or (lambda fraction, message: None)
    recognizer = model if isinstance(model, EmotionRecognizer) else get_recognizer(model)
    report(0.0, "Reading the recording")
    samples = read_recording(source, max_duration)
    duration = samples.size / SAMPLE_RATE
    report(0.02, "Finding speech")
    spans = [(int(round(start * SAMPLE_RATE)), int(round(end * SAMPLE_RATE)))
             for start, end, found in find_segments(array_blocks(samples), window=window,
                                                    max_segment=max_segment, **vad)
             # The VAD sometimes fires on near-digital silence; nothing to recognise there.
             if float(np.max(np.abs(found))) >= SILENCE_PEAK]
    texts, notes = [""] * len(spans), []
    with_text = bool(spans) and _asr_ready(asr_backend)
    if with_text:
        texts, notes = _transcribe(samples, spans, asr_backend, language, report)
    first = 0.5 if with_text else 0.05  # transcription takes about half of the time
    segments = []
    for k, ((start, end), (low, high)) in enumerate(zip(spans, context_bounds(spans, samples.size, context))):
        # Cut around the VAD's speech regions already: the no-speech gate would only repeat the VAD.
        result = recognizer.recognize(samples[low:high], emotions=emotions, check_speech=False)
        segments.append(TimelineSegment(start / SAMPLE_RATE, end / SAMPLE_RATE, result.emotion, result.confidence,
                                        result.probabilities, texts[k], result.gender, result.gender_confidence,
                                        result.sure, result.label))
        report(first + (0.99 - first) * (k + 1) / len(spans),
               f"Emotion of segment {k + 1}/{len(spans)} ({end / SAMPLE_RATE:.0f}/{duration:.0f} s)")
    report(1.0, f"{len(segments)} segments")
    labels = list(segments[0].probabilities) if segments else []
    return Timeline(segments, duration, labels, notes)


def transcription_chunks(spans: Sequence[tuple[int, int]], total: int, longest: float = CHUNK_SECONDS,
                         pad: float = CHUNK_PAD) -> list[tuple[int, int, int, int]]:
    """Consecutive utterances grouped into pieces of at most ``longest`` seconds.

    Returns ``(first, last, start, end)``: the span indices a chunk holds
    (``last`` exclusive) and its samples, padded by up to ``pad`` seconds
    into the pauses around it.  Chunks cut in pauses, so no word is split.

    Examples
    --------
    >>> transcription_chunks([(16000, 48000), (64000, 96000), (200000, 220000)], 240000)
    [(0, 2, 8000, 104000), (2, 3, 192000, 228000)]
    """
    limit, margin = int(longest * SAMPLE_RATE), int(pad * SAMPLE_RATE)
    chunks, first = [], 0
    for k in range(1, len(spans) + 1):
        if k == len(spans) or spans[k][1] - spans[first][0] + 2 * margin > limit:
            before = 0 if first == 0 else (spans[first - 1][1] + spans[first][0]) // 2
            after = total if k == len(spans) else (spans[k - 1][1] + spans[k][0]) // 2
            chunks.append((first, k, max(before, spans[first][0] - margin), min(after, spans[k - 1][1] + margin)))
            first = k
    return chunks


def _transcribe(samples, spans, backend, language, report) -> tuple[list[str], list[str]]:
    """The recording in chunks of whole utterances (:func:`transcription_chunks`); words go to
    the segments of their chunk by their timestamps.

    Decoding each segment on its own cost 20x the audio's length with text
    (273 s took 457 s): every segment paid for an encode and its own decode.
    One decode of 30 s windows garbles speech that repeats itself: on RAVDESS
    recordings (two sentences, over and over) Whisper's compression-ratio
    check rejects the right text and its sampled retries wrote nonsense (WER
    78 %); pieces of at most 9 s hold two or three sentences and are encoded
    in the 10 s short window, as cheap per second as 30 s windows.
    """
    from asr import transcribe

    texts, notes = [""] * len(spans), []
    chunks = transcription_chunks(spans, samples.size)
    seconds = [(start / SAMPLE_RATE, end / SAMPLE_RATE) for start, end in spans]
    for n, (first, last, start, end) in enumerate(chunks):
        report(0.05 + 0.45 * n / len(chunks), f"Transcribing {end / SAMPLE_RATE:.0f}/{samples.size / SAMPLE_RATE:.0f} s")
        try:
            transcript = transcribe(samples[start:end], backend=backend, language=language, max_duration=math.inf)
        except AudioError:
            continue
        offset = start / SAMPLE_RATE
        words = [(a + offset, b + offset, w) for a, b, w in _transcript_words(transcript)]
        joiner = "" if transcript.language in NO_SPACE_LANGUAGES else " "
        texts[first:last] = assign_words(words, seconds[first:last], joiner)
        notes += [note for note in transcript.notes if note not in notes]
        if language is None and len(transcript.text) > 20:
            # Detection on every short piece flips between languages; one recording keeps one.
            language = transcript.language
    return texts, notes
