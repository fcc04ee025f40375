"""ASR benchmark: WER and real-time factor on RAVDESS, plus a synthetic multilingual check.

RAVDESS actors say one of two known sentences in eight emotions, so the
word error rate per emotion shows how emotional speech degrades ASR.

    python bench/asr_wer.py                          # every configuration, all 1440 files
    python bench/asr_wer.py --only base --sample 360 # one configuration on a fixed random subset
    python bench/asr_wer.py --report                 # rewrite the report from cached runs

Each configuration's per-file results are cached in .cache/asr_bench/ (a
rerun of the same configuration and subset replaces them); the report
bench/results/asr.md is written from all cached runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from asr import available_backends, short_window, transcribe  # noqa: E402
from asr.metrics import character_error_rate, normalize_text, word_error_rate  # noqa: E402
from ser.audio import SAMPLE_RATE, load_audio  # noqa: E402
from ser.corpora import EMOTIONS, read_corpus  # noqa: E402

CACHE = ROOT / ".cache" / "asr_bench"
REPORT = ROOT / "bench" / "results" / "asr.md"
SENTENCES = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
# name → (backend, model, language, what it is[, encoder windows for short clips])
CONFIGS = {
    "default": ("faster-whisper", None, None,
                "faster-whisper, model `auto` (base, 10 s window for short clips), language detected: the default call"),
    "tiny.en": ("faster-whisper", "tiny.en", "en", "faster-whisper tiny.en (10 s window), language given as `en`"),
    "base-30s": ("faster-whisper", "base", None,
                 "faster-whisper base, Whisper's own 30 s window, language detected", ()),
    "tiny.en-30s": ("faster-whisper", "tiny.en", "en", "faster-whisper tiny.en, Whisper's own 30 s window", ()),
    "pocketsphinx": ("pocketsphinx", None, None, "pocketsphinx, bundled en-us model"),
    "paddlespeech": ("paddlespeech", "transformer_librispeech", "en", "PaddleSpeech transformer_librispeech (English)"),
}
TARGET_WER, TARGET_RTF = 0.02, 0.1
RAVDESS_FILES = 1440


def ravdess_files(root: Path, sample: int | None) -> list:
    utterances = sorted(read_corpus(root), key=lambda u: u.path.name)
    if sample:
        utterances = sorted(random.Random(0).sample(utterances, sample), key=lambda u: u.path.name)
    return utterances


def run_config(name: str, utterances: list) -> dict:
    windows = CONFIGS[name][4:]
    if not windows:
        return _run_config(name, utterances)
    with short_window.encoder_windows(windows[0]):  # restored for the configurations after this one
        return _run_config(name, utterances)


def _run_config(name: str, utterances: list) -> dict:
    backend, model, language, *_ = CONFIGS[name]
    warm = load_audio(ROOT / "assets" / "examples" / "asr_en_happy.wav")
    transcribe(warm, backend=backend, model=model, language=language)  # load models before timing
    rows = []
    load_start = os.getloadavg()[0]
    for i, utterance in enumerate(utterances, 1):
        samples = load_audio(utterance.path)
        started, cpu_started = time.perf_counter(), time.process_time()
        transcript = transcribe(samples, backend=backend, model=model, language=language)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        parts = utterance.path.stem.split("-")
        rows.append({"file": utterance.path.name, "emotion": utterance.emotion, "intensity": parts[3],
                     "sentence": parts[4], "duration": samples.size / SAMPLE_RATE, "seconds": elapsed, "cpu_seconds": cpu,
                     "text": transcript.text, "model": transcript.model, "language": transcript.language})
        if i % 100 == 0:
            print(f"{name}: {i}/{len(utterances)}", file=sys.stderr, flush=True)
    return {"name": name, "rows": rows, "load_average": [load_start, os.getloadavg()[0]],
            "finished": time.strftime("%Y-%m-%d %H:%M")}


def rates(rows: list) -> tuple[float, float, float | None]:
    """WER, wall-clock RTF and CPU seconds per audio second (None when not recorded)."""
    wer = word_error_rate([SENTENCES[r["sentence"]] for r in rows], [r["text"] for r in rows])
    duration = sum(r["duration"] for r in rows)
    rtf = sum(r["seconds"] for r in rows) / duration
    cpu = sum(r["cpu_seconds"] for r in rows) / duration if all("cpu_seconds" in r for r in rows) else None
    return wer, rtf, cpu


def multilingual_check() -> list[dict]:
    """Transcribe espeak-ng speech in five languages and the project's English clips."""
    from bench.asr_make_clips import make_multilingual

    results = []
    with tempfile.TemporaryDirectory() as folder:
        clips = [(Path(folder) / c["file"], c) for c in make_multilingual(Path(folder))]
        examples = json.loads((ROOT / "assets" / "examples" / "asr_clips.json").read_text())
        clips += [(ROOT / "assets" / "examples" / c["file"], c) for c in examples]
        for path, clip in clips:
            samples = load_audio(path)
            for language in (None, clip["language"]):
                transcript = transcribe(samples, language=language)
                score = character_error_rate if clip["language"] == "zh" else word_error_rate
                results.append({
                    "file": path.name, "generator": clip["generator"], "language": clip["language"],
                    "given": language or "detect", "detected": transcript.language, "model": transcript.model,
                    "metric": "CER" if clip["language"] == "zh" else "WER",
                    "error": score([clip["text"]], [transcript.text]),
                    "reference": clip["text"], "text": transcript.text,
                })
    return results


def summary(runs: dict) -> list[str]:
    """The findings in words, computed from the runs."""
    lines = []
    if "default" in runs:
        rows = runs["default"]["rows"]
        wer, rtf, cpu = rates(rows)
        strong = rates([r for r in rows if r["intensity"] == "02"])[0]
        normal = rates([r for r in rows if r["intensity"] == "01"])[0]
        by_emotion = {e: rates([r for r in rows if r["emotion"] == e])[0] for e in dict.fromkeys(r["emotion"] for r in rows)}
        worst = max(by_emotion, key=by_emotion.get)
        misrouted = sum(r["language"] != "en" for r in rows)
        lines.append(
            f"- Default call, {len(rows)} files: WER {percent(wer)} — the {percent(TARGET_WER)} target is"
            f" {'met' if wer <= TARGET_WER else 'not met'}; wall-clock RTF {rtf:.3f}"
            + (f", CPU/audio {cpu:.3f}" if cpu is not None else "")
            + f". Strong-intensity speech {percent(strong)} vs normal {percent(normal)}; worst emotion"
            f" {worst} ({percent(by_emotion[worst])}). {misrouted} file(s) were detected as another language."
        )
    if "default" in runs and "tiny.en" in runs:
        base, tiny = rates(runs["default"]["rows"]), rates(runs["tiny.en"]["rows"])
        lines.append(
            f"- tiny.en (`model=\"tiny.en\"`) makes more errors than the default base ({percent(tiny[0])} vs"
            f" {percent(base[0])} WER)"
            + (f" for {tiny[2] / base[2]:.1f}× its CPU ({tiny[2]:.3f} vs {base[2]:.3f} CPU/audio)"
               if base[2] and tiny[2] else "")
            + "."
        )
    for model in ("base", "tiny.en"):
        short, full = ("default" if model == "base" else model), f"{model}-30s"
        if short in runs and full in runs:
            files = {r["file"] for r in runs[full]["rows"]}
            same = [r for r in runs[short]["rows"] if r["file"] in files]
            a, b = rates(same), rates(runs[full]["rows"])
            lines.append(
                f"- {model}, short window against Whisper's 30 s on the same {len(files)} files: WER"
                f" {percent(a[0])} vs {percent(b[0])}, CPU/audio {a[2]:.3f} vs {b[2]:.3f}."
            )
    reasons = {b.name: b.reason for b in available_backends() if not b.available}
    for name, (backend, *_rest) in CONFIGS.items():
        if name not in runs and backend in reasons:
            lines.append(f"- {name}: not run, {backend} is not available here: {reasons[backend]}")
    return lines + [""] if lines else []


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    packages = ", ".join(f"{p} {version(p)}" for p in ("faster-whisper", "ctranslate2", "pocketsphinx", "numpy"))
    return f"{cpu}; {os.cpu_count()} cores visible; Python {platform.python_version()}; {packages}"


def percent(x: float) -> str:
    return f"{100 * x:.1f} %"


def write_report(runs: dict, multilingual: list[dict] | None) -> None:
    lines = [
        "# ASR benchmark",
        "",
        f"Machine: {machine()}. The machine was shared with other jobs while these ran",
        "(1-minute load average at the start and end of each run below; above the core count",
        "the wall-clock RTF is pessimistic). *CPU/audio* is the CPU time of the benchmark",
        "process (all its threads) per second of audio, which other jobs do not inflate: on an",
        "idle machine the wall-clock RTF is at most about this number.",
        "",
        "Command: `python bench/asr_wer.py [--only NAME] [--sample N]` (each configuration's",
        "per-file results are cached in `.cache/asr_bench/`; `--report` rewrites this file).",
        "",
        "## RAVDESS (1440 files, two known sentences, eight emotions)",
        "",
        "Protocol: each file is decoded once with `ser.load_audio` (16 kHz mono; decoding is not",
        "timed) and passed to `asr.transcribe` in one process with its models already loaded.",
        "WER = word-level Levenshtein edits / reference words over the whole set, after lower-",
        "casing and removing punctuation (no other normalisation: *they're* ≠ *are*). RTF =",
        "wall-clock time in `transcribe` / audio duration. Subsets are a fixed random sample",
        "(seed 0).",
        "",
        f"Targets for the default backend: WER ≤ {percent(TARGET_WER)}, RTF ≤ {TARGET_RTF}.",
        "",
        *summary(runs),
        "| configuration | files | WER | RTF (wall) | CPU/audio | load avg (start → end) | what |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, run in runs.items():
        wer, rtf, cpu = rates(run["rows"])
        load = " → ".join(f"{x:.1f}" for x in run["load_average"])
        cpu_cell = "–" if cpu is None else f"{cpu:.3f}"
        files = f"{len(run['rows'])}" + ("" if len(run["rows"]) == RAVDESS_FILES else " (sample)")
        lines.append(f"| {name} | {files} | {percent(wer)} | {rtf:.3f} | {cpu_cell} | {load} |"
                     f" {CONFIGS[name][3]} |")
    lines += ["", "### WER per emotion", "", "| emotion | " + " | ".join(runs) + " |",
              "|---|" + "---|" * len(runs)]
    for emotion in [e for e in EMOTIONS if any(r["emotion"] == e for run in runs.values() for r in run["rows"])]:
        cells = [percent(rates([r for r in run["rows"] if r["emotion"] == emotion])[0]) for run in runs.values()]
        lines.append(f"| {emotion} | " + " | ".join(cells) + " |")
    for intensity, label in (("01", "normal intensity"), ("02", "strong intensity")):
        cells = []
        for run in runs.values():
            rows = [r for r in run["rows"] if r["intensity"] == intensity]
            cells.append(percent(rates(rows)[0]) if rows else "–")
        lines.append(f"| *{label}* | " + " | ".join(cells) + " |")
    lines += ["", "### Most frequent errors", ""]
    for name, run in runs.items():
        errors = defaultdict(int)
        for r in run["rows"]:
            if normalize_text(r["text"]) != normalize_text(SENTENCES[r["sentence"]]):
                errors[r["text"].strip()] += 1
        top = sorted(errors.items(), key=lambda kv: -kv[1])[:5]
        lines.append(f"- **{name}** ({sum(errors.values())} files wrong): "
                     + "; ".join(f"“{text}” ×{n}" for text, n in top))
    if multilingual:
        lines += [
            "",
            "## Multilingual check (synthetic speech)",
            "",
            "**Synthetic**: made by this project with espeak-ng (de, fr, es, it, zh) and the",
            "bundled Piper voice (en) — robotic speech, not a measure of accuracy on people.",
            "Each clip is transcribed by the default call (language detected) and with the",
            "language given. Chinese is scored by CER.",
            "",
            "| clip | voice | language | given | detected | model | error | transcript |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in multilingual:
            lines.append(f"| {r['file']} | {r['generator']} | {r['language']} | {r['given']} | {r['detected']} |"
                         f" {r['model']} | {r['metric']} {percent(r['error'])} | {r['text']} |")
        by_language = defaultdict(list)
        for r in multilingual:
            by_language[(r["language"], r["given"] == "detect")].append(r)
        lines += ["", "Per language (mean error; detection accuracy):", ""]
        for language in dict.fromkeys(r["language"] for r in multilingual):
            detected = by_language[(language, True)]
            given = by_language[(language, False)]
            correct = sum(r["detected"] == language for r in detected)
            lines.append(f"- {language}: detected correctly {correct}/{len(detected)}; error with detection "
                         f"{percent(sum(r['error'] for r in detected) / len(detected))}, with language given "
                         f"{percent(sum(r['error'] for r in given) / len(given))}")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print(f"wrote {REPORT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(CONFIGS), help="configurations to run")
    parser.add_argument("--sample", type=int, help="a fixed random subset of this many files")
    parser.add_argument("--report", action="store_true", help="only rewrite the report from cached runs")
    parser.add_argument("--skip-multilingual", action="store_true")
    parser.add_argument("--datasets", type=Path,
                        default=Path(os.environ.get("SER_DATASETS", ROOT.parent / "shared" / "datasets")))
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    if not args.report:
        available = {b.name for b in available_backends() if b.available}
        utterances = ravdess_files(args.datasets / "ravdess", args.sample)
        for name in args.only or list(CONFIGS):
            if CONFIGS[name][0] not in available:
                print(f"{name}: backend {CONFIGS[name][0]} not available, skipped", file=sys.stderr)
                continue
            run = run_config(name, utterances)
            (CACHE / f"{name}.json").write_text(json.dumps(run, ensure_ascii=False))
            wer, rtf, cpu = rates(run["rows"])
            print(f"{name}: {len(run['rows'])} files, WER {percent(wer)}, RTF {rtf:.3f}, CPU/audio {cpu:.3f}")
    multilingual_path = CACHE / "multilingual.json"
    if not args.report and not args.skip_multilingual:
        multilingual_path.write_text(json.dumps(multilingual_check(), ensure_ascii=False))
    runs = {name: json.loads((CACHE / f"{name}.json").read_text())
            for name in CONFIGS if (CACHE / f"{name}.json").is_file()}
    multilingual = json.loads(multilingual_path.read_text()) if multilingual_path.is_file() else None
    write_report(runs, multilingual)


if __name__ == "__main__":
    main()
