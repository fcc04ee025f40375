"""Command line: ``python -m ser recognize|train|evaluate|timeline|batch …``.

A face: it parses arguments, calls the use cases of :mod:`pipelines` (recognize,
timeline, train) or the package's own functions, and prints; errors end as every
CLI's do (:func:`pipelines.errors.run_command`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.errors import run_command
from pipelines.settings import Settings

from .choice import MODELS_DIR

DEFAULT_CORPORA = ("ravdess", "emodb", "ased")


def _default_corpora() -> list[tuple[str, Path]]:
    datasets = Settings.from_env().datasets_dir
    return [(name, datasets / name) for name in DEFAULT_CORPORA if (datasets / name).is_dir()]


def _corpus_args(values: list[str]) -> list[tuple[str | None, Path]]:
    corpora = []
    for value in values:
        name, _, path = value.rpartition("=")
        corpora.append((name or None, Path(path)))
    return corpora


def _emotions(value: str | None) -> list[str] | None:
    return [e.strip() for e in value.split(",") if e.strip()] if value else None


_last_progress = [None]


def _progress(fraction: float, message: str) -> None:
    width = 30
    filled = int(round(width * fraction))
    step = (message.split(" ")[0], int(fraction * 100))
    if step == _last_progress[0] or not sys.stderr.isatty() and fraction < 1 and step[1] % 10:
        return
    _last_progress[0] = step
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {message:<40}")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_recognize(args) -> int:
    from pipelines.recognize import RecognizeRequest, recognize

    result = recognize(args.file, RecognizeRequest(_emotions(args.emotions), args.model), settings=Settings.from_env())
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"{result.label if not result.sure else f'{result.emotion} ({result.confidence:.0%})'}, "
          f"{result.gender or 'gender unknown'}"
          + (f" ({result.gender_confidence:.0%})" if result.gender_confidence else ""))
    for label, p in sorted(result.probabilities.items(), key=lambda kv: -kv[1]):
        print(f"  {label:<10} {p:6.1%} {'█' * int(round(p * 40))}")
    return 0


def _dataset(args):
    from .training import load_dataset

    corpora = _corpus_args(args.corpus) if args.corpus else _default_corpora()
    return load_dataset(corpora, args.features, emotions=_emotions(args.emotions),
                        speaker_pattern=args.speaker_pattern, progress=_progress)


def _estimator(args):
    from .workbench import make_model

    return make_model(args.model, args.features)


def cmd_workbench(args, models: list[str]) -> int:
    """Several models, deep models, parameter search or a zip upload: the Train tab's run."""
    from pipelines.train import TrainRequest, train

    from .recognizer import DEFAULT_MODEL
    from .workbench import ZipLimits

    corpora = () if args.zip else (_corpus_args(args.corpus) if args.corpus else _default_corpora())
    request = TrainRequest(corpora, Path(args.zip) if args.zip else None, models=models, features=args.features,
                           sequence_features=args.sequence_features, emotions=_emotions(args.emotions),
                           search=args.search, n_iter=args.n_iter, epochs=args.epochs, name=args.name,
                           out=DEFAULT_MODEL if args.default else Path(args.out or MODELS_DIR / args.name),
                           speaker_pattern=args.speaker_pattern,
                           zip_limits=ZipLimits(max_bytes=int(args.max_zip_mb * 2**20)))
    print(train(request, progress=_progress).summary())
    return 0


def cmd_train(args) -> int:
    from .bundle import check_bundle_name, save_bundle
    from .recognizer import DEFAULT_MODEL
    from .training import model_card, train_bundle
    from .workbench import is_deep

    check_bundle_name(args.name)  # before reading any corpus
    models = [m.strip() for m in args.model.split(",") if m.strip()]
    if len(models) > 1 or args.search or args.zip or any(map(is_deep, models)):
        return cmd_workbench(args, models)
    data = _dataset(args)
    bundle = train_bundle(data, _estimator(args), name=args.name, evaluate=not args.no_eval,
                          progress=_progress)
    bundle.info["command"] = "python -m ser " + " ".join(args.argv)
    bundle.card = model_card(bundle)
    out = DEFAULT_MODEL if args.default else Path(args.out or MODELS_DIR / args.name)
    save_bundle(bundle, out)
    for corpus, m in bundle.metrics.items():
        if corpus != "gender":
            print(f"{corpus}: UA {m['ua']:.3f}  WA {m['wa']:.3f}  ({m['protocol']})")
    for corpus, m in bundle.metrics.get("gender", {}).items():
        print(f"{corpus} gender: WA {m['wa']:.3f}")
    print(f"Saved {out}")
    return 0


def _evaluation_json(r) -> dict:
    return {"ua": r.ua, "wa": r.wa, "recall": r.recall, "precision": r.precision, "f1": r.f1,
            "predicted_share": r.predicted_share, "ece": r.ece, "support": r.support,
            "confusion": r.confusion, "labels": r.labels, "protocol": r.protocol}


def cmd_cross_corpus(args) -> int:
    from .training import cross_corpus, load_dataset

    emotions = _emotions(args.emotions)
    train = load_dataset(_corpus_args(args.train), args.features, emotions=emotions, progress=_progress)
    test = load_dataset(_corpus_args([args.test]), args.features, emotions=emotions, progress=_progress)
    result = cross_corpus(_estimator(args), train, test, calibration=not args.no_calibration)
    if args.json:
        extra = {k: v for k, v in result.extra.items() if k != "per_clip"}
        print(json.dumps({**_evaluation_json(result), **extra}, indent=1))
    else:
        print(result.report())
    return 0


def cmd_evaluate(args) -> int:
    from .training import evaluate_corpus

    if args.train or args.test:
        if not (args.train and args.test) or args.corpus:
            raise ValueError("Cross-corpus evaluation takes --train (one or more) and one --test, "
                             "and no --corpus.")
        return cmd_cross_corpus(args)
    data = _dataset(args)
    results = {c: evaluate_corpus(_estimator(args), data, c, random_split=args.random_split,
                                  target=args.target, calibration=not args.no_calibration,
                                  progress=_progress)
               for c in sorted(set(data.corpus))}
    if args.json:
        print(json.dumps({c: _evaluation_json(r) for c, r in results.items()}, indent=1))
    else:
        for r in results.values():
            print(r.report(), end="\n\n")
    return 0


def cmd_timeline(args) -> int:
    from pipelines.timeline import analyze_timeline

    timeline = analyze_timeline(args.file, model=args.model, emotions=_emotions(args.emotions),
                                asr_backend=None if args.no_text else args.asr, language=args.language,
                                max_segment=args.max_segment, progress=None if args.json else _progress,
                                settings=Settings.from_env())
    if args.out:
        suffix = Path(args.out).suffix.lower()
        exports = {".json": timeline.to_json, ".csv": timeline.to_csv, ".srt": timeline.to_srt}
        if suffix not in exports:
            raise ValueError(f"--out must end in .json, .csv or .srt, not {suffix or 'nothing'}.")
        Path(args.out).write_text(exports[suffix](), encoding="utf-8")
    if args.json:
        print(timeline.to_json())
        return 0
    for s in timeline.segments:
        print(f"{s.start:8.2f} {s.end:8.2f}  {s.emotion:<10} {s.confidence:4.0%}  {s.text}")
    for note in timeline.notes:
        print(f"note: {note}")
    print("share of speech time: " + ", ".join(f"{e} {p:.0%}" for e, p in timeline.summary().items()))
    return 0


def cmd_batch(args) -> int:
    from .batch import run_batch

    if Path(args.out).suffix.lower() not in (".csv", ".parquet"):
        raise ValueError("--out must end in .csv or .parquet.")
    table = run_batch(args.inputs, args.out, model=args.model, emotions=_emotions(args.emotions),
                      workers=args.workers, ray_address=args.ray)
    errors = int((table["error"] != "").sum())
    print(f"{len(table)} files, {errors} with errors, written to {args.out}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ser", description="Speech emotion recognition.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("recognize", help="emotion and gender of an audio file")
    p.add_argument("file")
    p.add_argument("--emotions", help="comma-separated subset, e.g. angry,neutral,sad")
    p.add_argument("--model", default="default", help="bundle folder or Hub repo id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_recognize)

    for name, run, helptext in (("train", cmd_train, "train a model bundle"),
                                ("evaluate", cmd_evaluate, "speaker-independent cross-validation, or "
                                 "cross-corpus with --train/--test")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--corpus", action="append", metavar="NAME=PATH",
                       help="corpus folder, repeatable; NAME in ravdess, emodb, ased, tess, savee, cremad,"
                            " custom (auto-detected if omitted). Default: ../shared/datasets")
        p.add_argument("--features", help="feature set, names joined by '+' (default: the default recipe's)")
        p.add_argument("--model", default="default",
                       help="default (late-fusion logistic regression), a zoo name (logreg, svc, "
                            "random_forest, gradient_boosting, knn, mlp, bagging, adaboost, decision_tree) "
                            "or a deep model (cnn1d, cnn2d, lstm, cnn_lstm); train takes several, "
                            "comma-separated, compares them and saves the best")
        p.add_argument("--emotions", help="comma-separated subset of emotions")
        p.add_argument("--speaker-pattern", metavar="REGEX",
                       help="speaker of files whose names give none (custom layout), e.g. "
                            "'(?P<speaker>spk\\d+)_'; a speakers.csv (file,speaker) in the folder wins; "
                            "without either such files are scored on a random split")
        p.set_defaults(run=run)
    p = sub.choices["train"]
    p.add_argument("--name", default="model", help="bundle name: 1-64 letters, digits, _ or - (default %(default)s)")
    p.add_argument("--out", help="bundle folder (default: the project's models/NAME)")
    p.add_argument("--default", action="store_true", help="write the bundled default model in assets/")
    p.add_argument("--no-eval", action="store_true", help="skip cross-validation")
    p.add_argument("--search", choices=["grid", "random"], help="tune each model's parameters by UA on "
                   "folds of whole speakers")
    p.add_argument("--n-iter", type=int, default=6, help="candidates of a random search")
    p.add_argument("--zip", help="train on a zip of labelled audio (instead of --corpus)")
    p.add_argument("--max-zip-mb", type=float, default=1024,
                   help="most MiB the zip may unpack to, counted while unpacking (default 1024)")
    p.add_argument("--sequence-features", help="frame-level features of the deep models: mfcc-seq, "
                   "logmel-seq or whisper-tiny-seq (default: logmel-seq for cnn2d, else whisper-tiny-seq)")
    p.add_argument("--epochs", type=int, help="most epochs of a deep model (early stopping ends sooner)")
    p = sub.choices["evaluate"]
    p.add_argument("--train", action="append", metavar="NAME=PATH",
                   help="cross-corpus: a training corpus, repeatable (needs --test)")
    p.add_argument("--test", metavar="NAME=PATH",
                   help="cross-corpus: the corpus to score, none of whose speakers are trained on")
    p.add_argument("--no-calibration", action="store_true",
                   help="skip temperature scaling on held-out training speakers")
    p.add_argument("--json", action="store_true")
    p.add_argument("--target", choices=["emotion", "gender"], default="emotion")
    p.add_argument("--random-split", action="store_true",
                   help="random stratified folds (speakers leak; not speaker-independent)")

    p = sub.add_parser("timeline", help="emotion (and transcript) of each utterance of a long recording")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the segments as JSON")
    p.add_argument("--out", help="also write the segments to FILE.json, FILE.csv or FILE.srt")
    p.add_argument("--model", default="default", help="bundle folder or Hub repo id")
    p.add_argument("--emotions", help="comma-separated subset")
    p.add_argument("--asr", default="faster-whisper", help="ASR backend for the text of each segment")
    p.add_argument("--language", help="language of the speech (default: detect)")
    p.add_argument("--no-text", action="store_true", help="skip transcription")
    p.add_argument("--max-segment", type=float, default=8.0, help="longest segment in seconds")
    p.set_defaults(run=cmd_timeline)

    p = sub.add_parser("batch", help="emotion of every file of a folder or glob, resumable")
    p.add_argument("inputs", metavar="INPUT_DIR_OR_GLOB")
    p.add_argument("--out", required=True, help="results.csv or results.parquet")
    p.add_argument("--model", default="default", help="bundle folder or Hub repo id")
    p.add_argument("--emotions", help="comma-separated subset")
    p.add_argument("--workers", type=int, help="processes or Ray actors (default: all local cores)")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="run on Ray: 'local' starts one here, 'auto' or ray://HOST:PORT joins a cluster")
    p.set_defaults(run=cmd_batch)

    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    if args.command in ("train", "evaluate") and not args.features:
        from .training import DEFAULT_FEATURES

        args.features = DEFAULT_FEATURES
    return run_command(lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
