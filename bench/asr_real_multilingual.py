"""Multilingual ASR on real (not synthetic) speech: EMO-DB German, ASED Amharic, and the app's own examples.

The app's Spanish and German examples are espeak-ng speech; this bench tells
whether bad transcripts come from those clips or from the language handling
(detection on the unpadded speech, the short encoder window), by running the
same default call on real German speech with published transcripts.

Sources
-------
* EMO-DB (Burkhardt et al. 2005, Interspeech), ``../shared/datasets/emodb``:
  ten actors read ten German sentences; file ``SSTTTEV`` has text code TTT.
  The transcripts below are the corpus' published ones (Burkhardt et al.
  2005; the same table is in audeering's ``emodb`` description for audb).
  This copy was cut or zero-padded to 2.0 s, so only takes that were padded
  (shorter than 2 s: they end in digital silence) hold the whole sentence;
  only those are scored (codes a01, a02, a04 and a07 have such takes).
* ASED v1 (Amharic, 65 speakers, ``../shared/datasets/ased``): no transcripts
  come with it, so only what Whisper makes of it is reported: the detected
  language, its probability and the transcript's doubt notes.  Amharic is
  among the languages Whisper saw least of in training, and base makes
  unusable text of it; the app must say so rather than show it as a transcript.

    python bench/asr_real_multilingual.py            # 40 EMO-DB takes, 10 ASED clips, the examples
    python bench/asr_real_multilingual.py --per-text 5 --ased 5

Writes bench/results/asr_real_multilingual.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
from asr import transcribe  # noqa: E402
from asr.metrics import word_error_rate  # noqa: E402
from ser.audio import SAMPLE_RATE, load_audio  # noqa: E402

DATASETS = Path(os.environ.get("SER_DATASETS", ROOT.parent / "shared" / "datasets"))
REPORT = ROOT / "bench" / "results" / "asr_real_multilingual.md"
EMODB_TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute Abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
# A take is whole when its last 50 ms are digital silence (the 2.0 s copy padded it).
SILENT_TAIL_S, SILENT_LEVEL = 0.05, 1e-4


def whole_takes(folder: Path) -> dict[str, list[Path]]:
    """EMO-DB takes that hold their whole sentence, by text code."""
    takes: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.flac")):
        samples = load_audio(path)
        tail = samples[-int(SILENT_TAIL_S * SAMPLE_RATE):]
        if np.max(np.abs(tail)) < SILENT_LEVEL:
            takes.setdefault(path.stem[2:5], []).append(path)
    return takes


def run(per_text: int, ased: int) -> dict:
    rng = random.Random(0)
    rows = []
    takes = whole_takes(DATASETS / "emodb")
    for code, paths in sorted(takes.items()):
        for path in sorted(rng.sample(paths, min(per_text, len(paths)))):
            samples = load_audio(path)
            for given in (None, "de"):
                start = time.perf_counter()
                transcript = transcribe(samples, language=given)
                rows.append({"set": "emodb", "file": path.name, "given": given or "detect",
                             "detected": transcript.language, "probability": transcript.language_probability,
                             "wer": word_error_rate([EMODB_TEXTS[code]], [transcript.text]),
                             "seconds": time.perf_counter() - start, "reference": EMODB_TEXTS[code],
                             "text": transcript.text})
    examples = json.loads((ROOT / "assets" / "examples" / "asr_clips.json").read_text())
    for clip in examples:
        if clip["language"] == "en":
            continue
        samples = load_audio(ROOT / "assets" / "examples" / clip["file"])
        for given in (None, clip["language"]):
            transcript = transcribe(samples, language=given)
            rows.append({"set": f"example ({clip['generator']})", "file": clip["file"], "given": given or "detect",
                         "detected": transcript.language, "probability": transcript.language_probability,
                         "wer": word_error_rate([clip["text"]], [transcript.text]), "reference": clip["text"],
                         "text": transcript.text})
    ased_rows = []
    clips = sorted((DATASETS / "ased").rglob("*.flac"))
    for path in sorted(rng.sample(clips, min(ased, len(clips)))):
        transcript = transcribe(load_audio(path))
        ased_rows.append({"file": path.name, "detected": transcript.language,
                          "probability": transcript.language_probability, "text": transcript.text,
                          "notes": list(getattr(transcript, "notes", ()) or ())})
    return {"rows": rows, "ased": ased_rows}


def report(result: dict, args) -> str:
    rows, ased = result["rows"], result["ased"]
    emodb = [r for r in rows if r["set"] == "emodb"]
    detect = [r for r in emodb if r["given"] == "detect"]
    given = [r for r in emodb if r["given"] == "de"]
    right = sum(r["detected"] == "de" for r in detect)
    mean = lambda values: sum(values) / max(len(values), 1)  # noqa: E731
    wrong = [r for r in detect if r["detected"] != "de"]
    lines = [
        "# Multilingual ASR on real speech",
        "",
        f"`python bench/asr_real_multilingual.py --per-text {args.per_text} --ased {args.ased}` on "
        f"{platform.machine()}, {os.cpu_count()} cores; faster-whisper, the default model (`auto`: "
        "Whisper base, CTranslate2 int8, short encoder window).",
        "",
        "## EMO-DB (real German speech, published transcripts)",
        "",
        f"{len(detect)} whole takes (codes {', '.join(sorted({r['file'][2:5] for r in detect}))}; "
        f"{args.per_text} per code, seed 0), emotional speech by 10 actors.",
        "",
        "| language | mean WER per take | language found | mean seconds per take |",
        "|---|---|---|---|",
        f"| detected (default call) | {mean([r['wer'] for r in detect]):.3f} | {right}/{len(detect)} German | "
        f"{mean([r['seconds'] for r in detect]):.2f} |",
        f"| given as `de` | {mean([r['wer'] for r in given]):.3f} | — | {mean([r['seconds'] for r in given]):.2f} |",
        "",
        "Takes detected as another language: "
        + (", ".join(f"{r['file']} → {r['detected']} ({(r['probability'] or 0):.0%})" for r in wrong) or "none") + ".",
        "",
        "## The app's own examples (espeak-ng, synthetic)",
        "",
        "| file | language | detected | WER |",
        "|---|---|---|---|",
    ]
    for r in rows:
        if r["set"] != "emodb":
            lines.append(f"| {r['file']} | {r['given']} | {r['detected']} ({(r['probability'] or 0):.0%}) | "
                         f"{r['wer']:.2f} — {r['text']} |" if r["given"] == "detect" else
                         f"| {r['file']} | given `{r['given']}` | — | {r['wer']:.2f} — {r['text']} |")
    lines += [
        "",
        "## ASED (real Amharic speech, no transcripts)",
        "",
        "| file | detected | transcript | notes |",
        "|---|---|---|---|",
    ]
    for r in ased:
        lines.append(f"| {r['file']} | {r['detected']} ({(r['probability'] or 0):.0%}) | {r['text'][:60]} | "
                     f"{' '.join(r['notes'])[:120]} |")
    amharic = sum(r["detected"] == "am" for r in ased)
    silent = sum(not r["notes"] for r in ased)
    lines += [
        "",
        "## Reading",
        "",
        f"Real German speech: the language is found in {right} of {len(detect)} takes, and WER is "
        f"{mean([r['wer'] for r in detect]):.3f} detected against {mean([r['wer'] for r in given]):.3f} with the "
        "language given, so detection costs little (decoding stops at a wall-clock budget, so under other load a "
        "rerun moves WER by about 0.02); the rest is Whisper base's German on short acted emotional "
        "takes. The language handling is sound; the examples were the problem. The German example loses two "
        "words to espeak-ng's pronunciation ('sehr' → 'mehr', 'Wochenende' → 'Mofen', the same with the language "
        "given). The Spanish example, made at espeak-ng's "
        "default word gap, was heard as English (37 %, WER 1.11; 0.56 with `es` given); it is remade with a 40 ms "
        "word gap (`bench/asr_make_clips.py`), and the Transcribe tab's examples set their language.",
        "",
        f"Amharic: Whisper base named Amharic in {amharic} of {len(ased)} ASED clips and wrote other languages' "
        f"words; {silent} of the {len(ased)} transcripts came without a doubt note. Whisper base cannot transcribe "
        "Amharic; the notes say so only when detection or decoding confidence is low.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-text", type=int, default=10, help="EMO-DB whole takes per text code")
    parser.add_argument("--ased", type=int, default=10, help="ASED clips")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = run(args.per_text, args.ased)
    REPORT.write_text(report(result, args), encoding="utf-8")
    (REPORT.with_suffix(".json")).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    print(REPORT.read_text())


if __name__ == "__main__":
    main()
