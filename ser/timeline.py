"""Emotion over time for long recordings.

A recording is decoded once (:func:`ser.audio.load_audio`, as Recognize
does), voice-activity detection (the Silero VAD bundled with faster-whisper,
onnx, offline) finds utterances in a sliding window, and each utterance is
recognised from the same samples, with the same features, as Recognize would
hear it.  The transcript is written in one pass over the recording, in pieces
of whole utterances, and its words are placed in the segments by their
timestamps.

The whole use case, with the transcript (``asr``), is
:func:`pipelines.timeline.analyze_timeline`; this module holds the parts
that need only ``ser``: segmenting, recognising spans, placing words.

>>> from pipelines.timeline import analyze_timeline
>>> timeline = analyze_timeline("meeting.flac")               # doctest: +SKIP
>>> timeline.summary()                                        # doctest: +SKIP
{'neutral': 0.62, 'happy': 0.31, 'angry': 0.07}
>>> print(timeline.to_srt())                                  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .audio import SAMPLE_RATE, SILENCE_PEAK

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
    >>> for start, end, samples in find_segments(array_blocks(load_audio("day.flac"))):  # doctest: +SKIP
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


def utterance_spans(samples: np.ndarray, *, window: float = WINDOW_SECONDS, max_segment: float = MAX_SEGMENT,
                    **vad) -> list[tuple[int, int]]:
    """The utterances of a 16 kHz recording as ``(start, end)`` sample indices (:func:`find_segments`).

    Stretches the VAD found in near-digital silence (peak under
    :data:`ser.audio.SILENCE_PEAK`) are left out: there is nothing to recognise.
    """
    return [(int(round(start * SAMPLE_RATE)), int(round(end * SAMPLE_RATE)))
            for start, end, found in find_segments(array_blocks(samples), window=window,
                                                   max_segment=max_segment, **vad)
            if float(np.max(np.abs(found))) >= SILENCE_PEAK]


def recognize_spans(samples: np.ndarray, spans: Sequence[tuple[int, int]], recognizer, *,
                    texts: Sequence[str] | None = None, emotions: Sequence[str] | None = None,
                    context: float = CONTEXT,
                    progress: Callable[[float, str], None] | None = None) -> list[TimelineSegment]:
    """One :class:`TimelineSegment` per span: each heard with ``context`` seconds around it (:func:`context_bounds`).

    Parameters
    ----------
    samples : numpy.ndarray
        The recording, (n,) float32 at 16 kHz, decoded and checked once by the caller.
    spans : sequence of (int, int)
        Utterances in samples (:func:`utterance_spans`).
    recognizer : ser.recognizer.EmotionRecognizer
    texts : sequence of str, optional
        The transcript of each span.
    progress : callable, optional
        ``progress(fraction, message)`` after each segment (fraction of this step, 0–1).
    """
    report = progress or (lambda fraction, message: None)
    texts = list(texts) if texts is not None else [""] * len(spans)
    duration = samples.size / SAMPLE_RATE
    segments = []
    for k, ((start, end), (low, high)) in enumerate(zip(spans, context_bounds(spans, samples.size, context))):
        # Cut around the VAD's speech regions already: the no-speech gate would only repeat the VAD.
        result = recognizer.recognize_samples(samples[low:high], emotions, check_speech=False)
        segments.append(TimelineSegment(start / SAMPLE_RATE, end / SAMPLE_RATE, result.emotion, result.confidence,
                                        result.probabilities, texts[k], result.gender, result.gender_confidence,
                                        result.sure, result.label))
        report((k + 1) / len(spans), f"Emotion of segment {k + 1}/{len(spans)} ({end / SAMPLE_RATE:.0f}/{duration:.0f} s)")
    return segments

