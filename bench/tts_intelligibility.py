"""Why the unmodified bundled voice costs WER on the Harvard sentences: engine, ASR window, or decoding?

    python bench/tts_intelligibility.py     # writes bench/results/tts_intelligibility.md (about 3 minutes)

Protocol
--------
The bundled Piper voice says each of the 20 benchmark sentences of
``bench/tts_eval.py`` (RAVDESS, CREMA-D, Harvard) with seeds 0, 1, 2 (Piper's
noise differs per seed), at its own tempo and 15 % slower (``length_scale``
1.15), with no emotion and no prosody change.  Each clip is transcribed
(English given) by

* ``base, short window`` — the project's default (:func:`asr.transcribe`:
  Whisper base, the clip encoded in a 10 or 20 s window, greedy);
* ``base, 30 s window`` — plain faster-whisper on the same model, greedy;
* ``base, 30 s, beam 5`` — the same with beam search;
* ``tiny.en`` — the other bundled model, through :func:`asr.transcribe`.

WER after :func:`asr.metrics.normalize_text` (numbers spelled out) per
sentence set; every transcript that differs from the text is listed.  An
error that two different ASR models and both decodings make on every seed is
in the audio: the engine's pronunciation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import RESULTS, git_commit, machine  # noqa: E402
from bench.tts_eval import SENTENCE_SETS  # noqa: E402

SEEDS = (0, 1, 2)
TEMPOS = (1.0, 1.15)
READERS = ("base, short window", "base, 30 s window", "base, 30 s, beam 5", "tiny.en")


def transcripts(samples: np.ndarray, plain) -> dict[str, str]:
    from asr import transcribe

    def whole(beam: int) -> str:
        return " ".join(s.text.strip() for s in plain.transcribe(samples, language="en", beam_size=beam)[0])

    return {"base, short window": transcribe(samples, language="en").text,
            "base, 30 s window": whole(1), "base, 30 s, beam 5": whole(5),
            "tiny.en": transcribe(samples, language="en", model="tiny.en").text}


def main(argv=None) -> None:
    from faster_whisper import WhisperModel

    from asr.metrics import normalize_text, word_error_rate
    from asr.whisper_backend import COMPUTE_TYPE, resolve_model_path
    from ser.audio import SAMPLE_RATE, resample
    from tts.engines import piper_synthesize

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS / "tts_intelligibility.md")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    plain = WhisperModel(str(resolve_model_path("base")), device="cpu", compute_type=COMPUTE_TYPE)
    rows = []  # (set, tempo, seed, reader, reference, hypothesis)
    for group, sentences in SENTENCE_SETS.items():
        for tempo in TEMPOS:
            for seed in SEEDS:
                for sentence in sentences:
                    chunks, rate = piper_synthesize(sentence, length_scale=tempo, seed=seed)
                    samples = resample(np.concatenate(chunks), rate, SAMPLE_RATE)
                    for reader, text in transcripts(samples, plain).items():
                        rows.append((group, tempo, seed, reader, sentence, text))
        print(f"{group}: done", file=sys.stderr)

    def wer(selected) -> str:
        return f"{100 * word_error_rate([r[4] for r in selected], [r[5] for r in selected]):.1f} %"

    lines = ["# Intelligibility of the unmodified bundled voice: where the WER comes from", "",
             f"Machine: {machine()}.  ",
             f"Commit: {git_commit()}.  Command: `python bench/tts_intelligibility.py` "
             f"({(time.perf_counter() - start) / 60:.1f} min).  ",
             "Protocol: the docstring of `bench/tts_intelligibility.py` — Piper (bundled voice), no emotion, "
             f"seeds {', '.join(map(str, SEEDS))}; WER after number spelling and punctuation removal.", "",
             "| sentence set | tempo | " + " | ".join(READERS) + " |", "|---|---:|" + "---:|" * len(READERS)]
    for group in SENTENCE_SETS:
        for tempo in TEMPOS:
            cells = [wer([r for r in rows if r[0] == group and r[1] == tempo and r[3] == reader])
                     for reader in READERS]
            lines.append(f"| {group} | {tempo:g}x length | " + " | ".join(cells) + " |")
    for tempo in TEMPOS:
        cells = [wer([r for r in rows if r[1] == tempo and r[3] == reader]) for reader in READERS]
        lines.append(f"| **all 20** | {tempo:g}x length | " + " | ".join(cells) + " |")
    lines += ["", "## Every transcript that differs (own tempo)", "",
              "| reader | seed | said | heard |", "|---|---:|---|---|"]
    for group, tempo, seed, reader, sentence, text in rows:
        if tempo == 1.0 and normalize_text(sentence) != normalize_text(text):
            lines.append(f"| {reader} | {seed} | {sentence} | {text.strip()} |")
    lines.append("")
    args.out.write_text("\n".join(lines))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
