"""What every backend returns: plain dataclasses, times in seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    """The result of :func:`asr.transcribe`.

    Attributes
    ----------
    text : str
        The whole transcript.
    language : str
        ISO 639-1 code of the spoken language (given or detected).
    segments : tuple of Segment
        Consecutive stretches of speech with their times; ``words`` are filled
        where the backend gives word timings.
    backend, model : str
        What produced it (``model`` is the model actually used, so ``"auto"``
        never appears here).
    duration : float
        Length of the audio in seconds.
    language_probability : float or None
        Confidence of the language detection; ``None`` when the language was
        given or the model knows only one.
    notes : tuple of str
        Doubts a user should read with the text (an unsure language, a
        decode that was stopped at its bound); empty when there are none.
    """

    text: str
    language: str
    segments: tuple[Segment, ...]
    backend: str
    model: str
    duration: float
    language_probability: float | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self, words: bool = False) -> dict:
        """The CLI's JSON shape; ``words=True`` adds each segment's word timings."""

        def segment(s: Segment) -> dict:
            out = {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
            if words:
                out["words"] = [
                    {"start": round(w.start, 3), "end": round(w.end, 3), "word": w.word,
                     "probability": None if w.probability is None else round(w.probability, 4)}
                    for w in s.words
                ]
            return out

        return {
            "text": self.text,
            "language": self.language,
            "segments": [segment(s) for s in self.segments],
            "backend": self.backend,
            "model": self.model,
        }

    def rows(self) -> list[list]:
        """Segments as ``[start, end, text]`` rows (seconds to 2 decimals), for a table."""
        return [[round(s.start, 2), round(s.end, 2), s.text] for s in self.segments]
