"""Command line: synthesise text or re-voice a recording.

    python -m tts INPUT EMOTION VOICE                  # seed form, writes output/N.wav
    python -m tts revoice INPUT --emotion sad --voice smallgirl [--keep-voice] [--out PATH]
    python -m tts say "Kids are talking by the door." --emotion happy --voice youngwoman
    python -m tts voices

A face: re-voicing is :func:`pipelines.revoice.revoice` (it crosses ser, asr and
tts); errors end as every CLI's do (:func:`pipelines.errors.run_command`).
"""

from __future__ import annotations

import argparse
import sys

from pipelines.errors import run_command
from pipelines.revoice import revoice
from pipelines.settings import Settings

from .conversion import CONVERSIONS, DEFAULT_CONVERSION
from .hub import cached_voices
from .revoice import next_output_path
from .synthesis import DEFAULT_INTENSITY, EMOTIONS, synthesize
from .voices import VOICES

COMMANDS = ("revoice", "say", "voices")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) == 3 and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        # The seed's ``detect.py audio_file emotion speaker`` form.
        argv = ["revoice", argv[0], "--emotion", argv[1], "--voice", argv[2]]
    args = _parser().parse_args(argv)
    return run_command(lambda: args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tts",
        description="Emotional speech synthesis and re-voicing. Seed form: python -m tts INPUT EMOTION VOICE",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub):
        sub.add_argument("--intensity", type=float, default=DEFAULT_INTENSITY, help="0 (neutral) to 1 (strong)")
        sub.add_argument("--speed", type=float, default=1.0, help="speaking-rate factor")
        sub.add_argument("--out", help="output WAV (default: output/N.wav, the next free N)")
        sub.add_argument("--method", choices=list(CONVERSIONS), default=DEFAULT_CONVERSION,
                         help="how the emotion is given: the prosody rules or the conversion learned from "
                              "parallel emotional speech")

    sub = commands.add_parser("revoice", help="recognise, transcribe and re-voice a recording")
    sub.add_argument("input", help="audio file (wav, flac, mp3, ogg, webm, m4a …)")
    sub.add_argument("--emotion", help=f"target emotion ({', '.join(EMOTIONS)}); default: the recognised one")
    sub.add_argument("--voice", help=f"voice ({', '.join(VOICES)} or a Piper Hub voice); default: by gender")
    sub.add_argument("--keep-voice", action="store_true", help="convert the recording itself, no TTS")
    sub.add_argument("--language", help="language code for the ASR (default: detect)")
    common(sub)
    sub.set_defaults(run=_revoice)

    sub = commands.add_parser("say", help="synthesise text")
    sub.add_argument("text")
    sub.add_argument("--emotion", default="neutral")
    sub.add_argument("--voice", default="youngman")
    common(sub)
    sub.set_defaults(run=_say)

    sub = commands.add_parser("voices", help="list voice presets and cached Hub voices")
    sub.set_defaults(run=_voices)
    return parser


def _revoice(args) -> int:
    result = revoice(
        args.input,
        args.emotion,
        args.voice,
        intensity=args.intensity,
        keep_voice=args.keep_voice,
        speed=args.speed,
        language=args.language,
        settings=Settings.from_env(),
        method=args.method,
    )
    path = result.write(args.out or next_output_path())
    recognized = result.recognized
    print(f"recognised: {recognized.emotion} ({recognized.confidence:.0%}), {recognized.gender}")
    print(f"transcript: {result.transcript}")
    print(f"rendered:   {result.emotion} at intensity {result.intensity:g}, voice {result.voice}, "
          f"{result.method} method")
    print(f"heard as:   {getattr(result.heard, 'label', '') or result.heard.emotion}")
    print(path)
    return 0


def _say(args) -> int:
    speech = synthesize(args.text, args.emotion, args.intensity, args.voice, args.speed, method=args.method)
    print(speech.write(args.out or next_output_path()))
    return 0


def _voices(args) -> int:
    for voice in VOICES.values():
        print(f"{voice.name:14s} {voice.description}")
    for name in cached_voices():
        print(f"{name:14s} Piper voice from the Hub (cached)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
