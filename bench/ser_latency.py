"""Latency of ``recognize`` on a 4 s clip (warm) and time to train the default model.

Run:  python bench/ser_latency.py      (writes bench/results/ser_latency.md)

The clip is 4.0 s cut from the project's own example clips (no corpus audio).
Each call decodes nothing (the array is already 16 kHz) but runs the full path:
checks, Whisper tiny.en + base encoders, eGeMAPS, both models, subset
renormalisation.  Training time is the final fit of the default recipe on both
corpora with features already cached (feature extraction is timed separately).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from bench.common import DATASETS, RESULTS, ROOT, git_commit, machine  # noqa: E402
from ser import load_audio  # noqa: E402
from ser.features import extract  # noqa: E402
from ser.recognizer import EmotionRecognizer  # noqa: E402
from ser.training import DEFAULT_FEATURES, default_estimator, fit, load_dataset  # noqa: E402

RUNS = 100


def four_seconds() -> np.ndarray:
    clips = [load_audio(p) for p in sorted((ROOT / "assets" / "examples").glob("*.wav"))]
    return np.concatenate(clips)[: 4 * 16000]


def main() -> None:
    clip = four_seconds()
    recognizer = EmotionRecognizer()
    for _ in range(5):
        recognizer.recognize(clip)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        recognizer.recognize(clip)
        times.append(time.perf_counter() - start)
    p50, p95 = np.percentile(times, [50, 95]) * 1000
    parts = {}
    for name in DEFAULT_FEATURES.split("+"):
        t = []
        for _ in range(20):
            start = time.perf_counter()
            extract(clip, name)
            t.append(time.perf_counter() - start)
        parts[name] = np.median(t) * 1000

    corpora = [(c, DATASETS / c) for c in ("ravdess", "emodb")]
    start = time.perf_counter()
    data = load_dataset(corpora, DEFAULT_FEATURES)
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    fit(default_estimator(), data.X, data.emotion, data.corpus)
    fit_seconds = time.perf_counter() - start

    lines = [
        "# Speech emotion recognition: speed", "",
        f"- Machine: {machine()}", f"- Code: commit {git_commit()}",
        "- Command: `python bench/ser_latency.py`", "",
        f"## `recognize` on a 4 s clip, warm, {RUNS} calls", "",
        "| p50 | p95 | target |", "|---|---|---|",
        f"| {p50:.0f} ms | {p95:.0f} ms | p50 ≤ 150 ms |", "",
        "Median per feature extractor: " + ", ".join(f"{k} {v:.0f} ms" for k, v in parts.items()) + ".", "",
        "## Training the default model", "",
        f"- Reading {len(data.emotion)} clips and their features from the on-disk cache: {load_seconds:.0f} s "
        "(a cold cache adds the extraction, about 0.1 s per clip)",
        f"- Fitting the default recipe (3 logistic regressions on {data.X.shape[1]} features): {fit_seconds:.1f} s",
        "- Full `python -m ser train --default` also runs the speaker-independent cross-validation "
        "(16 folds, emotion and gender).",
    ]
    (RESULTS / "ser_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
