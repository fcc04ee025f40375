"""Emotion over time for recordings of any length.

A recording is read in blocks (never whole), voice-activity detection (the
Silero VAD bundled with faster-whisper, onnx, offline) finds utterances in a
sliding window, and each utterance is recognised — and transcribed where ASR
is available — as soon as it is found.  Memory depends on the window, not on
the length of the recording.

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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from .audio import SAMPLE_RATE, SILENCE_PEAK, AudioError

BLOCK_SECONDS = 10.0
WINDOW_SECONDS = 60.0
MAX_SEGMENT = 8.0
MIN_SEGMENT = 0.5
MERGE_GAP = 0.3
PAD = 0.1


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
            caption = f"[{s.emotion} {s.confidence:.0%}]" + (f" {s.text}" if s.text else "")
            blocks.append(f"{i}\n{srt_time(s.start)} --> {srt_time(s.end)}\n{caption}\n")
        return "\n".join(blocks)


def srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm`` as SubRip writes times."""
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


# --------------------------------------------------------------------- reading

def audio_duration(path: str | Path) -> float | None:
    """Duration in seconds from the file header, without decoding (None if unknown)."""
    import soundfile

    try:
        info = soundfile.info(str(path))
        return info.frames / info.samplerate
    except Exception:
        pass
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            return container.duration / 1_000_000 if container.duration else None
    except Exception:
        return None


def stream_audio(path: str | Path, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Yield a file as consecutive mono float32 16 kHz blocks of about ``block_seconds``.

    wav/flac/ogg are read with ``soundfile.blocks``; anything else is decoded
    frame by frame with PyAV.  Resampling uses PyAV's stateful resampler so
    block edges leave no clicks.

    Examples
    --------
    >>> sum(len(b) for b in stream_audio("talk.mp3")) / 16_000   # doctest: +SKIP
    3612.4
    """
    import av
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"No such audio file: {path}")
    if path.stat().st_size == 0:
        raise AudioError(f"The file {path.name} is empty.")
    try:
        rate = soundfile.info(str(path)).samplerate
    except Exception:
        rate = None
    resampler = None
    if rate is not None:
        if rate != SAMPLE_RATE:
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        frames = soundfile.blocks(str(path), blocksize=int(block_seconds * rate), dtype="float32",
                                  always_2d=True)
        for block in frames:
            mono = block.mean(axis=1, dtype=np.float32)
            if resampler is None:
                yield mono
                continue
            frame = av.AudioFrame.from_ndarray(mono[None, :], format="flt", layout="mono")
            frame.sample_rate = rate
            yield from (out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
        if resampler is not None:
            yield from (out.to_ndarray().reshape(-1) for out in resampler.resample(None))
        return
    yield from _stream_with_ffmpeg(path, block_seconds)


def _stream_with_ffmpeg(path: Path, block_seconds: float) -> Iterator[np.ndarray]:
    import av

    pending, size = [], 0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path.name} has no audio track.")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            frames = container.decode(container.streams.audio[0])
            for frame in _with_flush(frames):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    size += pending[-1].size
                if size >= block_seconds * SAMPLE_RATE:
                    yield np.concatenate(pending)
                    pending, size = [], 0
    except AudioError:
        raise
    except Exception as error:
        raise AudioError(f"{path.name} is not a readable audio file (wav, flac, mp3, ogg, webm, m4a …).") from error
    if pending:
        yield np.concatenate(pending)


def _with_flush(frames):
    yield from frames
    yield None  # flushes the resampler


def array_blocks(samples: np.ndarray, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Cut an in-memory recording into the blocks :func:`find_segments` takes."""
    step = int(block_seconds * SAMPLE_RATE)
    for i in range(0, len(samples), step):
        yield samples[i:i + step]


# ----------------------------------------------------------------- segmenting

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


def iter_timeline(source, *, model="default", emotions: Sequence[str] | None = None,
                  asr_backend: str | None = "faster-whisper", language: str | None = None,
                  max_segment: float = MAX_SEGMENT, window: float = WINDOW_SECONDS,
                  **vad) -> Iterator[TimelineSegment]:
    """Yield :class:`TimelineSegment` as utterances are found (see :func:`analyze_timeline`)."""
    from .recognizer import EmotionRecognizer, get_recognizer

    recognizer = model if isinstance(model, EmotionRecognizer) else get_recognizer(model)
    blocks = (stream_audio(source) if isinstance(source, (str, Path))
              else array_blocks(np.asarray(source, dtype=np.float32)))
    with_text = _asr_ready(asr_backend)
    for start, end, samples in find_segments(blocks, window=window, max_segment=max_segment, **vad):
        if float(np.max(np.abs(samples))) < SILENCE_PEAK:
            continue  # the VAD sometimes fires on near-digital silence; nothing to recognise there
        # Segments are cut from the VAD's speech regions already: no second gate.
        result = recognizer.recognize(samples, emotions=emotions, check_speech=False)
        text = ""
        if with_text:
            from asr import transcribe

            try:
                transcript = transcribe(samples, backend=asr_backend, language=language)
            except AudioError:
                transcript = None
            text = transcript.text.strip() if transcript else ""
            if language is None and len(text) > 20:
                # Detection on every short utterance flips between languages; one recording keeps one.
                language = transcript.language
        yield TimelineSegment(start, end, result.emotion, result.confidence, result.probabilities, text,
                              result.gender, result.gender_confidence)


def analyze_timeline(source, *, model="default", emotions: Sequence[str] | None = None,
                     asr_backend: str | None = "faster-whisper", language: str | None = None,
                     max_segment: float = MAX_SEGMENT, window: float = WINDOW_SECONDS,
                     progress: Callable[[float, str], None] | None = None, **vad) -> Timeline:
    """Emotion, gender and transcript of every utterance of a recording of any length.

    Parameters
    ----------
    source : path or numpy.ndarray
        A file (streamed in blocks; any format ffmpeg reads) or mono float32
        16 kHz samples.
    model : str or EmotionRecognizer
        Emotion model (``"default"``, bundle folder, Hub id) or a recognizer.
    emotions : sequence of str, optional
        Restrict predictions to these labels.
    asr_backend : str or None
        ASR backend for the ``text`` of each segment; ``None`` (or a backend
        that is not available here) leaves ``text`` empty.
    language : str, optional
        Language for ASR (``None`` detects).
    max_segment : float
        Longest utterance in seconds; longer speech is split at pauses.
    window : float
        Seconds of audio the VAD sees at once (memory scales with this).
    progress : callable, optional
        ``progress(fraction, message)`` after each segment.
    **vad
        ``threshold``, ``min_silence``, ``pad``, ``max_gap``, ``min_length``
        of :func:`speech_spans`.

    Returns
    -------
    Timeline

    Examples
    --------
    >>> t = analyze_timeline("call.mp3", asr_backend=None)    # doctest: +SKIP
    >>> t.segments[0].emotion, t.segments[0].start            # doctest: +SKIP
    ('neutral', 0.42)
    """
    if isinstance(source, (str, Path)):
        duration = audio_duration(source)
    else:
        duration = len(source) / SAMPLE_RATE
    segments, end = [], 0.0
    for segment in iter_timeline(source, model=model, emotions=emotions, asr_backend=asr_backend,
                                 language=language, max_segment=max_segment, window=window, **vad):
        segments.append(segment)
        end = segment.end
        if progress and duration:
            progress(min(end / duration, 0.99), f"{len(segments)} segments, {end:.0f}/{duration:.0f} s")
    if progress:
        progress(1.0, f"{len(segments)} segments")
    labels = list(segments[0].probabilities) if segments else []
    return Timeline(segments, duration or end, labels)
