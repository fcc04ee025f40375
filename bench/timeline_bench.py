"""Timeline, batch and live benchmarks; each part rewrites its section of results/timeline.md.

    python bench/timeline_bench.py scaling --minutes 1 10 60   # throughput + peak memory per length
    python bench/timeline_bench.py text --minutes 2.5          # transcribed timeline: one pass vs per segment
    python bench/timeline_bench.py batch --files 60            # local 1 / 2 processes vs Ray-local 2 workers
    python bench/timeline_bench.py live --seconds 30           # live-mode update latency

Inputs are built from RAVDESS clips with 0.5–2 s pauses between them (never
committed; written to a temporary folder).  Each timeline length runs in its
own subprocess so ``ru_maxrss`` is that run's peak alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import DATASETS, RESULTS, ROOT, git_commit, machine  # noqa: E402

REPORT = RESULTS / "timeline.md"


def corpus_clips(count: int | None = None) -> list[Path]:
    clips = sorted((DATASETS / "ravdess").glob("Actor_*/*.flac"))
    if not clips:
        sys.exit(f"RAVDESS not found under {DATASETS}")
    return clips[:count] if count else clips


def build_recording(path: Path, minutes: float, seed: int = 0) -> float:
    """Write ``minutes`` of clips and pauses to ``path`` block by block (flat memory here too)."""
    import soundfile

    from ser import load_audio

    rng = np.random.default_rng(seed)
    clips, target, written = corpus_clips(), int(minutes * 60 * 16_000), 0
    with soundfile.SoundFile(path, "w", samplerate=16_000, channels=1, subtype="PCM_16") as out:
        while written < target:
            clip = load_audio(clips[rng.integers(len(clips))])
            pause = np.zeros(int(rng.uniform(0.5, 2.0) * 16_000), np.float32)
            block = np.concatenate([clip, pause])[: target - written]
            out.write(block)
            written += block.size
    return written / 16_000


def write_section(name: str, text: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = REPORT.read_text() if REPORT.is_file() else "# Timeline, batch and live benchmarks\n"
    section = f"<!-- {name} -->\n{text.strip()}\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {name} -->.*?<!-- /{name} -->", re.S)
    report = pattern.sub(lambda _: section, report) if pattern.search(report) else f"{report}\n{section}\n"
    REPORT.write_text(report)
    print(text)


# ------------------------------------------------------------------- scaling

def child(path: str, with_text: bool) -> None:
    from pipelines.timeline import analyze_timeline

    started = time.perf_counter()
    timeline = analyze_timeline(path, asr_backend="faster-whisper" if with_text else None, language="en")
    wall = time.perf_counter() - started
    print(json.dumps({"wall": wall, "segments": len(timeline.segments), "duration": timeline.duration,
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def scaling(minutes: list[float], with_text: bool) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in minutes:
            path = Path(tmp) / f"rec_{m}.wav"
            build_recording(path, m)
            out = subprocess.run([sys.executable, __file__, "child", str(path)] + (["--text"] if with_text else []),
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                sys.exit(out.stderr[-2000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append((m, r))
            print(m, r, flush=True)
            path.unlink()
    lines = [f"## Timeline scaling ({'with' if with_text else 'without'} transcripts)", "",
             f"Machine: {machine()}; commit {git_commit()}.",
             f"Command: `python bench/timeline_bench.py scaling --minutes {' '.join(str(m) for m in minutes)}"
             f"{' --text' if with_text else ''}`.",
             "Input: RAVDESS clips with 0.5–2 s pauses, 16 kHz wav; default model; one subprocess per length "
             "(peak RSS = `ru_maxrss` of that process, model and runtime included).", "",
             "| input | segments | wall time | audio h per wall h | real-time factor | peak RSS |",
             "|---|---|---|---|---|---|"]
    for m, r in rows:
        lines.append(f"| {m:g} min | {r['segments']} | {r['wall']:.1f} s | {r['duration'] / r['wall']:.1f} | "
                     f"{r['wall'] / r['duration']:.3f} | {r['maxrss_mb']:.0f} MB |")
    write_section("scaling-text" if with_text else "scaling", "\n".join(lines))


# ---------------------------------------------------------------------- text

# RAVDESS' two statements, by the statement field of the file name.
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def build_layout(path: Path, minutes: float, seed: int = 0) -> list[tuple[float, float, Path]]:
    """Like :func:`build_recording`, returning ``(start, end, clip)`` of every clip in order."""
    import soundfile

    from ser import load_audio

    rng = np.random.default_rng(seed)
    clips, parts, layout, t = corpus_clips(), [], [], 0
    while t < minutes * 60 * 16_000:
        clip = clips[rng.integers(len(clips))]
        samples = load_audio(clip)
        layout.append((t / 16_000, (t + samples.size) / 16_000, clip))
        parts += [samples, np.zeros(int(rng.uniform(0.5, 2.0) * 16_000), np.float32)]
        t += samples.size + parts[-1].size
    soundfile.write(path, np.concatenate(parts), 16_000, subtype="PCM_16")
    return layout


def per_segment_text(samples: np.ndarray, timeline) -> list[str]:
    """The old way: one decode per segment, the language kept once a segment says enough."""
    from asr import transcribe
    from ser.audio import AudioError

    language, texts = None, []
    for s in timeline.segments:
        try:
            transcript = transcribe(samples[int(s.start * 16_000):int(s.end * 16_000)], language=language)
        except AudioError:
            texts.append("")
            continue
        texts.append(transcript.text.strip())
        if language is None and len(texts[-1]) > 20:
            language = transcript.language
    return texts


def text(minutes: float) -> None:
    from asr import transcribe
    from asr.metrics import word_error_rate
    from ser import load_audio
    from ser.recognizer import get_recognizer
    from pipelines.timeline import analyze_timeline

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ravdess.wav"
        layout = build_layout(path, minutes)
        samples = load_audio(path, max_duration=float("inf"))
        duration = samples.size / 16_000
        reference = " ".join(STATEMENTS[clip.name.split("-")[4]] for _, _, clip in layout)
        recognizer = get_recognizer("default")
        transcribe(samples[: 3 * 16_000], language="en")  # models load outside the timing
        alone = [recognizer.recognize(str(clip)).emotion for _, _, clip in layout]
        runs = {}
        for name, kwargs in (("no text", dict(asr_backend=None)),
                             ("no text, tight VAD crop (context 0 s)", dict(asr_backend=None, context=0.0)),
                             ("one pass", dict())):
            started, cpu = time.perf_counter(), time.process_time()
            runs[name] = (analyze_timeline(path, **kwargs), time.perf_counter() - started, time.process_time() - cpu)
            print(name, f"{runs[name][1]:.1f} s", flush=True)
        started, cpu = time.perf_counter(), time.process_time()
        old_texts = per_segment_text(samples, runs["no text"][0])
        old_wall = runs["no text"][1] + time.perf_counter() - started
        old_cpu = runs["no text"][2] + time.process_time() - cpu
        print("per segment", f"{old_wall:.1f} s", flush=True)
        for segment, old in zip(runs["one pass"][0].segments, old_texts):
            print(f"{segment.start:7.1f}  now: {segment.text!r:40}  before: {old!r}")

    def agreement(timeline) -> str:
        # Each segment against Recognize on the clip it overlaps most.
        same = sum(s.emotion == alone[max(range(len(layout)), key=lambda k: min(s.end, layout[k][1])
                                          - max(s.start, layout[k][0]))] for s in timeline.segments)
        return f"{same}/{len(timeline.segments)}"

    one_pass, one_wall, one_cpu = runs["one pass"]
    rows = [("no text", runs["no text"][1], runs["no text"][2], None),
            ("text, one decode per segment (before)", old_wall, old_cpu, old_texts),
            ("text, one pass in pieces of whole utterances <= 9 s, words placed by their times (now)", one_wall, one_cpu, [s.text for s in one_pass.segments])]
    lines = ["## Transcribed timeline: one pass vs one decode per segment", "",
             f"Machine: {machine()}; commit {git_commit()}.",
             f"Command: `python bench/timeline_bench.py text --minutes {minutes:g}`.",
             f"Input: {len(layout)} RAVDESS clips (seed 0) with 0.5–2 s pauses, {duration:.0f} s, 16 kHz wav; "
             "default emotion model; faster-whisper with the bundled base model, language detected (as the UI "
             "runs it); models loaded before timing.  WER over the whole recording against the RAVDESS "
             "statements (\"Kids are talking by the door\", \"Dogs are sitting by the door\") in clip order.  "
             "Both text runs in the same process, one after the other, on the same bounded decoder.  "
             "CPU time (all threads of the process) is given beside wall time: the machine is shared, and "
             "on 2 idle cores the real-time factor lies between CPU/2 and CPU per audio second.", "",
             "| run | segments | wall time | real-time factor | CPU s per audio s | WER |", "|---|---|---|---|---|---|"]
    for name, wall, cpu, texts in rows:
        error = "" if texts is None else f"{100 * word_error_rate([reference], [' '.join(texts)]):.1f} %"
        lines.append(f"| {name} | {len(runs['no text'][0].segments)} | {wall:.1f} s | {wall / duration:.3f} | "
                     f"{cpu / duration:.3f} | {error} |")
    lines += ["", f"Notes of the one pass: {'; '.join(one_pass.notes) or 'none'}.", "",
              "Same emotion as Recognize on the original clip (segment vs the clip it overlaps most): "
              f"{agreement(runs['no text'][0])} hearing 1 s around each utterance (now), "
              f"{agreement(runs['no text, tight VAD crop (context 0 s)'][0])} with the tight VAD crop (before)."]
    write_section("text", "\n".join(lines))


# --------------------------------------------------------------------- batch

def batch(files: int) -> None:
    from ser.batch import run_batch

    inputs = [str(p) for p in corpus_clips()[::max(1, 1440 // files)][:files]]
    audio = sum(__import__("soundfile").info(p).duration for p in inputs)
    rows, tables = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in (("local, 1 process", dict(workers=1)), ("local, 2 processes", dict(workers=2)),
                             ("Ray local, 2 workers", dict(workers=2, ray_address="local"))):
            started = time.perf_counter()
            tables[name] = run_batch(inputs, Path(tmp) / f"{len(rows)}.csv", progress=False, **kwargs)
            wall = time.perf_counter() - started
            rows.append((name, wall))
            print(name, wall, flush=True)
    same = all((t["emotion"].tolist() == tables["local, 1 process"]["emotion"].tolist()) for t in tables.values())
    lines = ["## Batch throughput", "", f"Machine: {machine()}; commit {git_commit()}.",
             f"Command: `python bench/timeline_bench.py batch --files {files}`: {files} RAVDESS files "
             f"({audio / 60:.1f} min of audio), default model, CSV output; wall time includes starting "
             "workers and loading one model per worker (and starting Ray).", "",
             "| run | wall time | files/s | audio h per wall h |", "|---|---|---|---|"]
    lines += [f"| {n} | {w:.1f} s | {files / w:.2f} | {audio / w:.0f} |" for n, w in rows]
    lines += ["", f"Same emotions in every run: {same}."]
    write_section("batch", "\n".join(lines))


# ---------------------------------------------------------------------- live

def live(seconds: float) -> None:
    from ser import load_audio
    from ser.live import live_step

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.wav"
        build_recording(path, seconds / 60, seed=1)
        samples = load_audio(path, allow_silence=True)
    chunk = 16_000 // 4
    # Model loading and the first full-window shape are paid once per process, not per update.
    for seconds in (1, 2, 3):
        live_step(None, samples[16_000: 16_000 * (1 + seconds)], 16_000, every=0)
    state, compute = None, []
    for i in range(0, samples.size, chunk):
        state, updated = live_step(state, samples[i:i + chunk], 16_000)
        if updated and state.current is not None:
            compute.append(state.compute_seconds)
    compute = np.array(compute)
    lines = ["## Live-mode update latency", "", f"Machine: {machine()}; commit {git_commit()}.",
             f"Command: `python bench/timeline_bench.py live --seconds {seconds:g}`: {seconds:g} s of RAVDESS "
             "clips and pauses fed in 250 ms chunks to `ser.live.live_step` (3 s window, update every 1 s).", "",
             f"- updates with speech: {compute.size}",
             f"- recognition per update: median {np.median(compute) * 1000:.0f} ms, "
             f"p95 {np.percentile(compute, 95) * 1000:.0f} ms, max {compute.max() * 1000:.0f} ms",
             f"- worst-case speech-to-label latency = update period (1 s) + recognition: "
             f"{1 + compute.max():.2f} s (network and browser chunking add ~0.25 s)",
             f"- load average while measuring (shared machine): {os.getloadavg()[0]:.1f}"]
    write_section("live", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="part", required=True)
    p = sub.add_parser("scaling")
    p.add_argument("--minutes", type=float, nargs="+", default=[1, 10, 60])
    p.add_argument("--text", action="store_true", help="also transcribe each segment")
    p = sub.add_parser("child")
    p.add_argument("path")
    p.add_argument("--text", action="store_true")
    sub.add_parser("text").add_argument("--minutes", type=float, default=2.5)
    sub.add_parser("batch").add_argument("--files", type=int, default=60)
    sub.add_parser("live").add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    if args.part == "scaling":
        scaling(args.minutes, args.text)
    elif args.part == "child":
        child(args.path, args.text)
    elif args.part == "text":
        text(args.minutes)
    elif args.part == "batch":
        batch(args.files)
    else:
        live(args.seconds)


if __name__ == "__main__":
    main()
