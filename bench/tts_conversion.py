"""Emotion conversion of held-out speakers: rules vs learned, against the real emotional takes.

    python bench/tts_conversion.py                     # writes bench/results/tts_conversion.{md,json}
    python bench/tts_conversion.py --per-emotion 3     # a smoke run (3 pairs per corpus and emotion)

Protocol
--------
* **Pairs**: :func:`tts.parallel.parallel_pairs` of the speakers the learned
  conversion never trained on (:data:`tts.learned.HELD_OUT`: RAVDESS actors
  01-04, EMO-DB 03 and 08, ASED 01-05): the same speaker saying the same text
  neutrally and in an emotion.  At most ``--per-emotion`` pairs per corpus and
  emotion, spread evenly over speakers and texts.
* **Methods**: the neutral take converted to the pair's emotion at intensity 1
  by each method of :data:`tts.conversion.CONVERSIONS`, told the source is
  neutral; ``unchanged`` (the neutral take itself) is the floor every method
  must beat.
* **Objective distances** to the real emotional take (:func:`tts.alignment.distances`,
  after DTW on mel-cepstra): F0 RMSE in semitones, mel-cepstral distortion in
  dB (c1-c24 of WORLD's coded envelope), energy-contour RMSE in dB (each
  take's mean apart), duration error ``|ln(len ratio)|``.
  Per emotion: the mean over pairs.  These are what conversion settings may
  be chosen on.
* **Judge 1**: the default recognizer, restricted to the 7 evaluated emotions
  of ``bench/tts_eval.py`` (neutral, happy, sad, angry, fearful, disgust,
  surprised; chance 1/7), labels every output and the real emotional takes
  (the ceiling).  Calm and boredom pairs count for the distances only.
  Caveat: the default recognizer was trained on every speaker of the three
  corpora, these included, so its recall of the *real* takes is an in-training
  figure; what it hears in a *converted* take it has never heard.
* **Judge 2** (:mod:`bench.second_judge`): openSMILE ComParE + RBF SVM trained
  on the three corpora *without* the held-out speakers, on the same 7
  emotions: its recall of the real takes is speaker-independent.
* **Speed**: seconds per conversion, per method (one process; the machine line
  says what else was running).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import DATASETS, RESULTS, git_commit, machine  # noqa: E402
from bench.second_judge import JUDGED  # noqa: E402
from ser.audio import SAMPLE_RATE, load_audio  # noqa: E402
from tts.alignment import analyse_take, distances  # noqa: E402
from tts.learned import HELD_OUT, training_pairs  # noqa: E402
from tts.conversion import CONVERSIONS  # noqa: E402
from tts.revoice import convert_emotion  # noqa: E402

METRICS = ("f0_rmse", "mcd", "energy_rmse", "duration")


def held_out_pairs(datasets: Path, per_emotion: int | None) -> list:
    """The held-out speakers' pairs, at most ``per_emotion`` per corpus and emotion, evenly spread."""
    return training_pairs(datasets, per_emotion, exclude=(), only=HELD_OUT)


def judged(recognizer, samples) -> str:
    probabilities = recognizer.recognize(samples).probabilities
    return max(JUDGED, key=lambda label: probabilities.get(label, 0.0))


def run(pairs, recognizer, second, variants=None) -> list[dict]:
    """Every pair through every method (and every extra learned model of ``variants``: name → model)."""
    variants = variants or {}
    rows = []
    for i, pair in enumerate(pairs):
        neutral, emotional = load_audio(pair.neutral), load_audio(pair.emotional)
        reference = analyse_take(emotional, SAMPLE_RATE)
        base = {"corpus": pair.corpus, "speaker": pair.speaker, "emotion": pair.emotion, "text": pair.text,
                "neutral": pair.neutral.name, "emotional": pair.emotional.name}
        outputs = {"unchanged": (neutral, 0.0)}
        for method in CONVERSIONS:
            start = time.perf_counter()
            out = convert_emotion(neutral, pair.emotion, 1.0, source_emotion="neutral", method=method)
            outputs[method] = (out, time.perf_counter() - start)
        for name, model in variants.items():
            start = time.perf_counter()
            out = model.convert(neutral, SAMPLE_RATE, pair.emotion, 1.0)
            outputs[name] = (out, time.perf_counter() - start)
        for method, (audio, seconds) in outputs.items():
            row = {**base, "method": method, "seconds": round(seconds, 4),
                   **{k: round(v, 4) for k, v in distances(analyse_take(audio, SAMPLE_RATE), reference).items()}}
            if pair.emotion in JUDGED:
                row["judged"], row["judged2"] = judged(recognizer, audio), second.judge(audio)
            rows.append(row)
        if pair.emotion in JUDGED:
            rows.append({**base, "method": "real take", "judged": judged(recognizer, emotional),
                         "judged2": second.judge(emotional)})
        if (i + 1) % 20 == 0:
            print(f"{i + 1} of {len(pairs)} pairs", file=sys.stderr)
    return rows


def summarise(rows) -> dict:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    emotions = sorted({r["emotion"] for r in rows})
    table = defaultdict(dict)
    for method in methods:
        for emotion in emotions:
            mine = [r for r in rows if r["method"] == method and r["emotion"] == emotion]
            entry = {"pairs": len(mine)}
            for metric in METRICS:
                values = [r[metric] for r in mine if metric in r and np.isfinite(r[metric])]
                if values:
                    entry[metric] = round(float(np.mean(values)), 3)
            judged_rows = [r for r in mine if "judged" in r]
            if judged_rows:
                entry["recall"] = round(float(np.mean([r["judged"] == emotion for r in judged_rows])), 3)
                entry["recall2"] = round(float(np.mean([r["judged2"] == emotion for r in judged_rows])), 3)
            table[method][emotion] = entry
        per = table[method]
        overall = {}
        for metric in METRICS + ("recall", "recall2"):
            values = [per[e][metric] for e in emotions if metric in per[e] and e != "neutral"]
            if values:
                overall[metric] = round(float(np.mean(values)), 3)
        seconds = [r["seconds"] for r in rows if r["method"] == method and "seconds" in r]
        if seconds and method not in ("unchanged", "real take"):
            overall["seconds_median"] = round(float(np.median(seconds)), 3)
        table[method]["_mean"] = overall
    return dict(table)


def confusion(rows, method, key="judged") -> list[str]:
    mine = [r for r in rows if r["method"] == method and key in r]
    emotions = [e for e in JUDGED if any(r["emotion"] == e for r in mine)]
    lines = ["| target \\ heard | " + " | ".join(JUDGED) + " |", "|---|" + "---:|" * len(JUDGED)]
    for emotion in emotions:
        counts = [sum(r["emotion"] == emotion and r[key] == h for r in mine) for h in JUDGED]
        lines.append(f"| {emotion} | " + " | ".join(str(c) for c in counts) + " |")
    return lines


def write_report(out: Path, rows, summary, command: str, seconds: float, pairs: int) -> None:
    methods = list(summary)
    emotions = sorted(e for e in {r["emotion"] for r in rows})
    lines = [
        "# Emotion conversion of held-out speakers: rules vs learned",
        "",
        f"Machine: {machine()}.  ",
        f"Commit: {git_commit()}.  Command: `{command}` ({seconds / 60:.1f} min, {pairs} pairs).  ",
        "Protocol: see the docstring of `bench/tts_conversion.py` — held-out speakers' (neutral, emotional) "
        "pairs of one text; each neutral take converted to the pair's emotion at intensity 1; distances to "
        "the real emotional take after DTW; judge 1 = the default recognizer restricted to 7 emotions.",
        "",
        "## Mean over the emotions (neutral pairs excluded)",
        "",
        "| method | F0 RMSE (st) | MCD (dB) | energy-contour RMSE (dB) | duration error | judge 1 recall | "
        "judge 2 recall | s per conversion |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for method in methods:
        m = summary[method]["_mean"]
        lines.append(f"| {method} | {m.get('f0_rmse', '')} | {m.get('mcd', '')} | {m.get('energy_rmse', '')} | "
                     f"{m.get('duration', '')} | "
                     f"{m.get('recall', '')} | {m.get('recall2', '')} | {m.get('seconds_median', '')} |")
    for metric, title in (("f0_rmse", "F0 RMSE to the real take, semitones"),
                          ("mcd", "Mel-cepstral distortion to the real take, dB"),
                          ("energy_rmse", "Energy-contour RMSE to the real take (level apart), dB"),
                          ("duration", "Duration error |ln(len ratio)|"),
                          ("recall", "Judge 1 (default recognizer) recall of the target emotion"),
                          ("recall2", "Judge 2 (ComParE + SVM, held-out speakers unseen) recall of the target emotion")):
        shown = [m for m in methods if any(metric in summary[m][e] for e in emotions)]
        lines += ["", f"## {title}", "", "| emotion | pairs | " + " | ".join(shown) + " |",
                  "|---|---:|" + "---:|" * len(shown)]
        for emotion in emotions:
            cells = [str(summary[m][emotion].get(metric, "")) for m in shown]
            lines.append(f"| {emotion} | {summary[methods[0]][emotion]['pairs']} | " + " | ".join(cells) + " |")
    for method in [m for m in methods if m != "unchanged"]:
        lines += ["", f"## Judge 1 confusion: {method}", ""] + confusion(rows, method)
        lines += ["", f"## Judge 2 confusion: {method}", ""] + confusion(rows, method, "judged2")
    lines.append("")
    out.write_text("\n".join(lines))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--per-emotion", type=int, default=12,
                        help="at most this many pairs per corpus and emotion (default 12)")
    parser.add_argument("--out", type=Path, default=RESULTS / "tts_conversion.md")
    parser.add_argument("--learned", type=Path, action="append", default=[],
                        help="also score this saved learned conversion (a folder), as 'learned:FOLDER'")
    args = parser.parse_args(argv)
    from tts.learned import LearnedConversion

    from pipelines.revoice import default_recognizer

    start = time.perf_counter()
    pairs = held_out_pairs(args.datasets, args.per_emotion)
    if not pairs:
        raise SystemExit(f"No parallel corpora under {args.datasets} (set SER_DATASETS).")
    variants = {f"learned:{folder.name}": LearnedConversion.load(folder) for folder in args.learned}
    from bench.second_judge import train_second_judge

    second = train_second_judge(args.datasets)
    print(f"second judge: {second.clips} clips of {second.speakers} speakers", file=sys.stderr)
    rows = run(pairs, default_recognizer(), second, variants)
    summary = summarise(rows)
    command = "python bench/tts_conversion.py" + (f" --per-emotion {args.per_emotion}"
                                                    if args.per_emotion != 12 else "") + \
        "".join(f" --learned {folder}" for folder in args.learned)
    seconds = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(
        {"machine": machine(), "commit": git_commit(), "command": command, "pairs": len(pairs),
         "summary": summary, "rows": rows}, indent=1) + "\n")
    write_report(args.out, rows, summary, command, seconds, len(pairs))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
