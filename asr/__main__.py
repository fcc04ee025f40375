"""python -m asr FILE [--backend B] [--model M] [--language L] [--translate] [--json] [--words] [--emotion]"""

from __future__ import annotations

import argparse
import json
import sys

from ser.audio import load_audio

from . import ASRUnavailable, BACKENDS, DEFAULT_BACKEND, text_emotion, transcribe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr", description="Transcribe speech offline.")
    parser.add_argument("file", help="audio file (wav, flac, mp3, ogg, webm, m4a …)")
    parser.add_argument("--backend", default=DEFAULT_BACKEND, choices=list(BACKENDS))
    parser.add_argument("--model", help="backend model (faster-whisper: auto, tiny.en, base, a size or Hub id)")
    parser.add_argument("--language", help="ISO 639-1 code; detected when omitted or \"auto\"")
    parser.add_argument("--translate", action="store_true", help="write English text (faster-whisper)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--words", action="store_true", help="with --json: add word timings")
    parser.add_argument("--emotion", action="store_true", help="add the emotion of the words")
    args = parser.parse_args(argv)
    try:
        samples = load_audio(args.file)
        transcript = transcribe(samples, backend=args.backend, model=args.model, language=args.language,
                                task="translate" if args.translate else "transcribe")
        emotion = text_emotion(transcript.text) if args.emotion else None
    except (ValueError, ASRUnavailable) as error:  # AudioError is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        out = transcript.to_dict(words=args.words)
        if emotion:
            out["text_emotion"] = {"emotion": emotion.emotion, "probabilities": emotion.probabilities,
                                   "source": emotion.source}
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(transcript.text)
    if emotion:
        print(f"text emotion: {emotion.emotion} ({emotion.probabilities[emotion.emotion]:.0%}, {emotion.source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
