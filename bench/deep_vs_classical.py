"""Deep models (ser.deep) against the classical zoo, speaker-independent, on RAVDESS and EMO-DB.

Every model sees the same folds of whole speakers; each corpus is trained and
scored on its own.  Training time is the sum over folds, on this machine's
CPU with BLAS and TensorFlow limited to 2 threads.

    python bench/deep_vs_classical.py                       # full run
    python bench/deep_vs_classical.py --folds 3 --epochs 20 # fewer folds (stated in the results)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.common import DATASETS, RESULTS, git_commit, machine  # noqa: E402
from ser.evaluation import score  # noqa: E402
from ser.training import fit, load_dataset  # noqa: E402
from ser.workbench import is_deep, make_model  # noqa: E402

CLASSICAL = {"logreg": "whisper-tiny", "svc": "whisper-tiny", "mlp": "whisper-tiny", "knn": "whisper-tiny",
             "random_forest": "whisper-tiny", "svc ": "compare"}
DEEP = {"cnn1d": "whisper-tiny-seq", "cnn_lstm": "whisper-tiny-seq", "lstm": "whisper-tiny-seq",
        "cnn2d": "logmel-seq", "cnn1d ": "mfcc-seq"}


def grouped_folds(speakers: np.ndarray, n_folds: int) -> list[np.ndarray]:
    groups = np.array_split(np.array(sorted(set(speakers))), n_folds)
    return [np.flatnonzero(np.isin(speakers, g)) for g in groups]


def run(model: str, feature_set: str, data, folds, epochs: int) -> dict:
    estimator = make_model(model.strip(), feature_set, epochs=epochs if is_deep(model.strip()) else None)
    predictions = np.empty(len(data.emotion), dtype=object)
    fit_seconds = predict_seconds = 0.0
    for test in folds:
        train = np.setdiff1d(np.arange(len(data.emotion)), test)
        start = time.perf_counter()
        trained = fit(estimator, data.X[train], data.emotion[train])
        fit_seconds += time.perf_counter() - start
        start = time.perf_counter()
        predictions[test] = trained.predict(data.X[test])
        predict_seconds += time.perf_counter() - start
    labels = sorted(set(data.emotion))
    result = score(data.emotion, predictions.astype(str), labels, "", n_folds=len(folds))
    return {"ua": result.ua, "wa": result.wa, "fit_s": fit_seconds,
            "predict_ms": 1000 * predict_seconds / len(data.emotion)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=0, help="folds of whole speakers per corpus "
                        "(0: RAVDESS 6 x 4 actors, EMO-DB leave-one-speaker-out)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--models", help="comma-separated subset of the rows")
    parser.add_argument("--sequence-features", help="frame-level features of every deep row "
                        "(e.g. logmel-seq when whisper-tiny-seq is not cached yet)")
    parser.add_argument("--out", default=str(RESULTS / "deep_vs_classical.md"))
    args = parser.parse_args(argv)
    deep = {m: args.sequence_features or f for m, f in DEEP.items()}
    rows = {**CLASSICAL, **{m: f for m, f in deep.items() if m.strip() not in deep or m == m.strip()
                            or not args.sequence_features}}
    if args.models:
        rows = {m: f for m, f in rows.items() if m.strip() in args.models.split(",")}
    results: dict[str, dict[str, dict]] = {}
    for corpus in ("ravdess", "emodb"):
        datasets = {}
        for model, feature_set in rows.items():
            if feature_set not in datasets:
                datasets[feature_set] = load_dataset([(corpus, DATASETS / corpus)], feature_set)
            data = datasets[feature_set]
            n = args.folds or (6 if corpus == "ravdess" else len(set(data.speaker)))
            result = run(model, feature_set, data, grouped_folds(data.speaker, n), args.epochs)
            result["folds"] = n
            results.setdefault(f"{model.strip()} ({feature_set})", {})[corpus] = result
            print(f"{corpus} {model.strip():>14} {feature_set:>17}: UA {result['ua']:.3f} WA {result['wa']:.3f} "
                  f"fit {result['fit_s']:.0f} s", flush=True)
    write(results, args, Path(args.out))
    return 0


def write(results: dict, args, out: Path) -> None:
    lines = [
        "# Deep models against the classical zoo (speaker-independent)", "",
        f"Machine: {machine()}; commit {git_commit()}; BLAS and TensorFlow limited to 2 threads.", "",
        f"Command: `python bench/deep_vs_classical.py {' '.join(sys.argv[1:])}`", "",
        "Each corpus is trained and scored on its own, every model on the same folds of whole speakers "
        f"({'%d folds per corpus' % args.folds if args.folds else 'RAVDESS 6 x 4 actors, EMO-DB LOSO'}). "
        f"Deep models: at most {args.epochs} epochs, early stopping on 10 % of the training clips "
        "(patience 5, best weights restored), balanced class weights, seed 0.", "",
        "| model (features) | RAVDESS UA | RAVDESS WA | EMO-DB UA | EMO-DB WA | fit s RAVDESS / EMO-DB (all folds) "
        "| predict ms/clip |", "|---|---|---|---|---|---|---|",
    ]
    for name, by_corpus in sorted(results.items(), key=lambda kv: -np.mean([r["ua"] for r in kv[1].values()])):
        r, e = by_corpus.get("ravdess"), by_corpus.get("emodb")
        cell = lambda x, k: f"{x[k]:.3f}" if x else "–"  # noqa: E731
        lines.append(f"| {name} | {cell(r, 'ua')} | {cell(r, 'wa')} | {cell(e, 'ua')} | {cell(e, 'wa')} | "
                     f"{r['fit_s'] if r else 0:.0f} / {e['fit_s'] if e else 0:.0f} | "
                     f"{np.mean([x['predict_ms'] for x in by_corpus.values()]):.2f} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    print(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
