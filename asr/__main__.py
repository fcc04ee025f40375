"""python -m asr FILE [--backend B] [--model M] [--language L] [--translate] [--json] [--words] [--emotion]

A face: it parses arguments, calls :func:`pipelines.words.words` (the one rule
for the emotion of the words, as the UI's Transcribe tab and REST
``/transcribe`` use it) and prints; errors end as every CLI's do.
"""

from __future__ import annotations

import argparse
import json
import sys

from pipelines.errors import run_command
from pipelines.settings import Settings
from pipelines.words import WordsRequest, words

from . import BACKENDS, DEFAULT_BACKEND


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asr", description="Transcribe speech offline.")
    parser.add_argument("file", help="audio file (wav, flac, mp3, ogg, webm, m4a …)")
    parser.add_argument("--backend", default=DEFAULT_BACKEND, choices=list(BACKENDS))
    parser.add_argument("--model", help="backend model (faster-whisper: auto, tiny.en, base, a size or Hub id)")
    parser.add_argument("--language", help="ISO 639-1 code; detected when omitted or \"auto\"")
    parser.add_argument("--translate", action="store_true", help="write English text (faster-whisper)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--words", action="store_true", help="with --json: add word timings")
    parser.add_argument("--emotion", action="store_true",
                        help="add the emotion of the words (read in English), of the voice, and both fused")
    args = parser.parse_args(argv)
    request = WordsRequest(backend=args.backend, model=args.model, language=args.language,
                           task="translate" if args.translate else "transcribe", emotion=args.emotion)
    return run_command(lambda: _print(words(args.file, request, settings=Settings.from_env()), args))


def _print(result, args) -> int:
    if args.json:
        print(json.dumps(result.to_dict(words=args.words), ensure_ascii=False, indent=2))
        return 0
    print(result.transcript.text)
    found = result.text_emotion
    if found:
        print(f"text emotion: {found.emotion} ({found.probabilities[found.emotion]:.0%}, {found.source})"
              + (f" — read in English: {result.english}" if result.english != result.transcript.text else ""))
        fused = max(result.fused, key=result.fused.get)
        print(f"voice: {result.voice.emotion} ({result.voice.confidence:.0%}) · fused: {fused} "
              f"({result.fused[fused]:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
