"""Latency of ``recognize`` on a 4 s clip (warm) and time to train the default model.

Run:  python bench/ser_latency.py [--against REV] [--training]   (writes bench/results/ser_latency.md)

The clip is 4.0 s cut from the project's own example clips (no corpus audio).
Each call decodes nothing (the array is already 16 kHz) but runs the full path:
checks, the no-speech gate, the bundle's feature extractors, its models, subset
renormalisation.  Today's default is timed beside the default of an earlier commit (its
bundle taken from git), calls interleaved: machines differ, so the ratio is
the result.  ``--training`` also times the final fit of the default recipe.
"""

from __future__ import annotations

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


def timed(recognizers: dict, clip: np.ndarray, runs: int) -> dict[str, list[float]]:
    """Seconds per ``recognize`` call of each recognizer, the calls interleaved (same machine, same moment)."""
    for recognizer in recognizers.values():
        for _ in range(5):
            recognizer.recognize(clip)
    times = {name: [] for name in recognizers}
    for _ in range(runs):
        for name, recognizer in recognizers.items():
            start = time.perf_counter()
            recognizer.recognize(clip)
            times[name].append(time.perf_counter() - start)
    return times


def main(argv=None) -> None:
    import argparse
    import subprocess
    import tempfile

    parser = argparse.ArgumentParser(description="Latency of recognize on a 4 s clip, ours beside an earlier default.")
    parser.add_argument("--against", default="7b2123f",
                        help="commit whose bundled default model is timed beside today's (default %(default)s)")
    parser.add_argument("--training", action="store_true",
                        help="also time loading the corpora's features and fitting the default recipe")
    args = parser.parse_args(argv)
    clip = four_seconds()
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", args.against, "assets/models/default"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        recognizers = {"today's default": EmotionRecognizer(),
                       f"default of {args.against}": EmotionRecognizer(Path(folder) / "assets/models/default")}
        sets = {name: r.bundle.feature_set for name, r in recognizers.items()}
        times = timed(recognizers, clip, RUNS)
    rows = {name: np.percentile(t, [50, 95]) * 1000 for name, t in times.items()}
    parts = {}
    for name in sorted({f for s in sets.values() for f in s.split("+")}):
        t = []
        for _ in range(20):
            start = time.perf_counter()
            extract(clip, name)
            t.append(time.perf_counter() - start)
        parts[name] = np.median(t) * 1000
    ours, theirs = rows["today's default"][0], rows[f"default of {args.against}"][0]
    lines = [
        "# Speech emotion recognition: speed", "",
        f"- Machine: {machine()}", f"- Code: commit {git_commit()}",
        f"- Command: `python bench/ser_latency.py --against {args.against}"
        + (" --training" if args.training else "") + "`",
        f"- Protocol: the two models' `recognize` calls interleaved, {RUNS} each, warm, on the same 4.0 s clip "
        "(the project's example clips; the full path: checks, no-speech gate, features, model, calibration)", "",
        "## `recognize` on a 4 s clip", "",
        "| model | features | p50 | p95 |", "|---|---|---|---|",
        *[f"| {name} | {sets[name]} | {p50:.0f} ms | {p95:.0f} ms |" for name, (p50, p95) in rows.items()], "",
        f"Today's p50 is {ours / theirs:.2f}x the earlier default's on this machine (target: p50 ≤ 150 ms, "
        "read as the ratio to the earlier model's 132 ms where that was measured).", "",
        "Median per feature extractor: " + ", ".join(f"{k} {v:.0f} ms" for k, v in parts.items()) + ".",
    ]
    if args.training:
        corpora = [(c, DATASETS / c) for c in ("ravdess", "emodb", "ased")]
        start = time.perf_counter()
        data = load_dataset(corpora, DEFAULT_FEATURES)
        load_seconds = time.perf_counter() - start
        start = time.perf_counter()
        fit(default_estimator(), data.X, data.emotion, data.corpus)
        lines += ["", "## Training the default model", "",
                  f"- Reading {len(data.emotion)} clips and their features (cache as found): {load_seconds:.0f} s",
                  f"- Fitting the default recipe on {data.X.shape[1]} features: {time.perf_counter() - start:.1f} s"]
    (RESULTS / "ser_latency.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
