"""Speaker-independent accuracy of every feature set x the main models, both corpora.

Run:  python bench/ser_accuracy.py      (writes bench/results/ser_accuracy.md)

Protocol: RAVDESS 8 classes, 6 folds of 4 whole actors; EMO-DB 7 classes,
leave-one-speaker-out.  Rows marked "per corpus" train on the corpus alone;
the "default recipe" row is the bundled model's recipe (the other corpus joins
every training fold, corpora weighted equally).  The seed-style baseline is
the seeds' librosa means with their MLP and SVC.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.common import DATASETS, RESULTS, git_commit, machine  # noqa: E402
from ser.models import make_classifier  # noqa: E402
from ser.training import DEFAULT_FEATURES, default_estimator, evaluate_corpus, load_dataset  # noqa: E402

FEATURE_SETS = ["librosa", "egemaps", "compare", "whisper-tiny", "whisper-base"]
MODELS = ["logreg", "svc", "mlp", "random_forest"]
CORPORA = ["ravdess", "emodb"]


def main() -> None:
    corpora = [(c, DATASETS / c) for c in CORPORA]
    everything = "+".join(FEATURE_SETS)
    data = load_dataset(corpora, everything)
    from ser.features import EXTRACTOR_SIZES

    offsets, start = {}, 0
    for name in FEATURE_SETS:
        offsets[name] = (start, start + EXTRACTOR_SIZES[name])
        start += EXTRACTOR_SIZES[name]

    def columns(feature_set: str):
        import numpy as np

        return np.concatenate([np.arange(*offsets[n]) for n in feature_set.split("+")])

    rows = []
    for feature_set in FEATURE_SETS:
        for model in MODELS:
            scores = []
            for corpus in CORPORA:
                part = data.subset(data.corpus == corpus)
                part.X = part.X[:, columns(feature_set)]
                start = time.perf_counter()
                result = evaluate_corpus(make_classifier(model), part, corpus)
                scores.append((result.ua, result.wa, time.perf_counter() - start))
            baseline = feature_set == "librosa" and model in {"mlp", "svc"}
            rows.append((feature_set, model, "per corpus" + (" (seed-style baseline)" if baseline else ""), scores))
            print(rows[-1], flush=True)
    joint = data.subset(data.corpus != "")
    joint.X = joint.X[:, columns(DEFAULT_FEATURES)]
    scores = []
    for corpus in CORPORA:
        start = time.perf_counter()
        result = evaluate_corpus(default_estimator(DEFAULT_FEATURES), joint, corpus)
        scores.append((result.ua, result.wa, time.perf_counter() - start))
    rows.append((DEFAULT_FEATURES, "late-fusion logreg", "**default recipe** (both corpora)", scores))
    print(rows[-1], flush=True)

    lines = [
        "# Speech emotion recognition: accuracy", "",
        f"- Machine: {machine()}", f"- Code: commit {git_commit()}",
        "- Command: `python bench/ser_accuracy.py`",
        "- Protocol: speaker-independent. RAVDESS 8 classes, 6 folds x 4 whole actors; "
        "EMO-DB 7 classes (2 s cropped copy), leave-one-speaker-out. UA = mean per-class recall, "
        "WA = accuracy. Time = wall time of the whole cross-validation on this machine.", "",
        "| features | model | training data | RAVDESS UA | RAVDESS WA | EMO-DB UA | EMO-DB WA | CV time (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for feature_set, model, how, ((rua, rwa, rt), (eua, ewa, et)) in rows:
        lines.append(f"| {feature_set} | {model} | {how} | {rua:.3f} | {rwa:.3f} | {eua:.3f} | {ewa:.3f} | {rt + et:.0f} |")
    lines += ["", "Published references (speaker-independent): EmoBox RAVDESS Whisper-large-v3 0.753, "
              "WavLM-large 0.720, HuBERT-base 0.654, wav2vec2-base 0.543; EMO-DB LOSO ComParE + SVM 0.771.",
              "Seed projects report 0.77-0.91 on random splits, which leak speakers into the test folds."]
    (RESULTS / "ser_accuracy.md").write_text("\n".join(lines) + "\n")
    print("wrote", RESULTS / "ser_accuracy.md")


if __name__ == "__main__":
    main()
