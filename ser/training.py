"""Train and evaluate emotion models on labelled corpora.

The recipe behind the default model, and behind every score we report:

1. read each corpus (:mod:`ser.corpora`) and extract features (cached);
2. for each corpus, hold out whole speakers (RAVDESS 6 folds x 4 actors,
   smaller corpora leave-one-speaker-out); train on the remaining speakers of
   that corpus *plus all other corpora*, with sample weights giving each corpus
   the same total weight; predict the held-out speakers over the corpus' own
   label set (probabilities renormalised over it);
3. train the final model the same way on everything;
4. calibrate: a temperature that divides the model's logits is fitted on
   held-out *training* speakers (:func:`calibrate`), and the confidence below
   which the model says "not sure" is chosen on the same held-out predictions.

:func:`cross_corpus` scores a model on a corpus none of whose speakers,
language or recording conditions it was trained on.
"""

from __future__ import annotations

import csv
import platform
import re
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from .audio import AudioError, load_audio
from .bundle import ModelBundle, check_bundle_name
from .corpora import Utterance, read_corpus
from .evaluation import (Evaluation, evaluation_folds, expected_calibration_error, random_folds, score,
                         speakers_unknown, unknown_speaker)
from .features import FeatureCache, extract_features, parse_feature_set
from .models import (FrameClassifier, LateFusionClassifier, make_classifier, restrict_proba, scale_logits,
                     supports_temperature)

# Chosen by bench/ser_generalization.py on the worst, then mean, leave-one-corpus-out UA over
# RAVDESS, EMO-DB and ASED (5 emotions, every clip; the numbers are in
# bench/results/ser_generalization.md): Whisper base's states after its 2nd of 6 encoder layers,
# every 40 ms, each frame scored by a logistic regression (FRAME_C) and the frames'
# log-probabilities averaged, fused with eGeMAPS (C = DEFAULT_C), both on loudness-normalised input.
DEFAULT_FEATURES = "whisper-base-l2-ln-frames+egemaps-ln"
DEFAULT_C = 0.3
# The frame classifier's C and frame step, set before any benchmark ran (a strong penalty for
# 512 correlated values and tens of thousands of frames; every 2nd 40 ms frame).
FRAME_C = 0.01
FRAME_STEP = 2
GENDER_C = 0.01
GENDER_ESTIMATOR = make_classifier("logreg", C=GENDER_C)
# Calibration folds: held-out training speakers (sorted, fold = position mod 3)
# and, with two or more training corpora, each training corpus held out in turn.
CALIBRATION_SPEAKER_FOLDS = 3
# "Not sure" below the confidence at which held-out answers are right this often.
SURE_PRECISION = 0.7
SURE_RANGE = (0.4, 0.9)
Progress = Callable[[float, str], None]
# Who speaks in each file of a custom layout, inside the folder or zip (columns file, speaker).
SPEAKERS_CSV = "speakers.csv"


@dataclass
class Dataset:
    """Features and labels of labelled utterances, one row each."""

    X: np.ndarray
    emotion: np.ndarray
    gender: np.ndarray
    speaker: np.ndarray
    corpus: np.ndarray
    paths: list[Path]
    feature_set: str
    skipped: list[tuple[Path, str]]

    def subset(self, mask: np.ndarray) -> "Dataset":
        return Dataset(self.X[mask], self.emotion[mask], self.gender[mask], self.speaker[mask],
                       self.corpus[mask], [p for p, m in zip(self.paths, mask) if m],
                       self.feature_set, self.skipped)


def load_dataset(
    corpora: Sequence[tuple[str | None, str | Path]] | Sequence[Utterance],
    feature_set: str = DEFAULT_FEATURES,
    *,
    emotions: Sequence[str] | None = None,
    cache: FeatureCache | bool = True,
    speaker_pattern: str | None = None,
    progress: Progress | None = None,
) -> Dataset:
    """Read corpora (``[(name or None, folder), …]``) or utterances and extract features.

    Files that cannot be decoded are skipped and listed in ``skipped``.  Files
    whose corpus naming has no speaker (the custom layout) take theirs from a
    :data:`SPEAKERS_CSV` in the folder, else from ``speaker_pattern`` (see
    :func:`assign_speakers`); the rest are scored on a random split, labelled so.
    """
    parse_feature_set(feature_set)
    if corpora and isinstance(corpora[0], Utterance):
        items = list(corpora)
    else:
        items = [u for name, root in corpora
                 for u in assign_speakers(list(read_corpus(root, name)), root, speaker_pattern)]
    if emotions:
        items = [u for u in items if u.emotion in set(emotions)]
    if not items:
        raise ValueError("No labelled audio found for the chosen corpora and emotions.")
    kept, rows, skipped = [], [], []
    for i, item in enumerate(items, 1):
        try:
            samples = load_audio(item.path)
        except AudioError as error:
            skipped.append((item.path, str(error)))
            continue
        rows.append(extract_features([samples], feature_set, cache=cache)[0])
        kept.append(item)
        if progress:
            progress(i / len(items), f"Features {i}/{len(items)}")
    if not kept:
        raise ValueError("None of the audio files could be read.")
    return Dataset(
        X=np.vstack(rows), emotion=np.array([u.emotion for u in kept]),
        gender=np.array([u.gender or "unknown" for u in kept]),
        speaker=np.array([u.speaker or unknown_speaker(i) for i, u in enumerate(kept)]),
        corpus=np.array([u.corpus for u in kept]), paths=[u.path for u in kept],
        feature_set=feature_set, skipped=skipped,
    )


def assign_speakers(items: list[Utterance], root: str | Path, pattern: str | None = None) -> list[Utterance]:
    """Speakers for the utterances whose corpus naming has none.

    A :data:`SPEAKERS_CSV` anywhere under ``root`` (columns ``file``,
    ``speaker``; ``file`` relative to the table's folder, or a bare file
    name) comes first; else ``pattern``, a regular expression with a named
    group ``speaker``, searched in each path relative to ``root``.  Speakers
    are prefixed with the corpus name; files neither names stay unknown.

    Examples
    --------
    >>> items = assign_speakers(list(read_corpus("takes")), "takes",
    ...                         r"(?P<speaker>spk\d+)_")      # doctest: +SKIP
    >>> items[0].speaker                                      # doctest: +SKIP
    'custom-spk01'
    """
    root = Path(root)
    regex = None
    if pattern:
        try:
            regex = re.compile(pattern)
        except re.error as error:
            raise ValueError(f"The speaker pattern {pattern!r} is not a regular expression: {error}.") from None
        if "speaker" not in regex.groupindex:
            raise ValueError("The speaker pattern needs a named group, e.g. (?P<speaker>spk\\d+)_.")
    table = _speaker_table(root) if any(u.speaker is None for u in items) else {}
    out, matched = [], 0
    for item in items:
        speaker = None
        if item.speaker is None:
            relative = item.path.relative_to(root).as_posix() if item.path.is_relative_to(root) else item.path.name
            speaker = table.get(relative) or table.get(item.path.name)
            found = regex.search(relative) if regex and not speaker else None
            speaker = speaker or (found.group("speaker") if found else None)
            matched += found is not None
        out.append(replace(item, speaker=f"{item.corpus}-{speaker}") if speaker else item)
    if regex and not matched and not table and any(u.speaker is None for u in items):
        raise ValueError(f"The speaker pattern {pattern!r} matches none of the files under {root.name}.")
    return out


def _speaker_table(root: Path) -> dict[str, str]:
    table: dict[str, str] = {}
    for found in sorted(root.rglob(SPEAKERS_CSV)):
        with found.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not {"file", "speaker"} <= set(reader.fieldnames or ()):
                raise ValueError(f"{SPEAKERS_CSV} needs the columns file and speaker (one row per clip).")
            for row in reader:
                file, speaker = (row["file"] or "").strip(), (row["speaker"] or "").strip()
                if file and speaker:
                    path = (found.parent.relative_to(root) / file).as_posix()
                    table[path.removeprefix("./")] = table[PurePosixPath(file).name] = speaker
    return table


def default_estimator(feature_set: str = DEFAULT_FEATURES, C: float = DEFAULT_C, *, frame_C: float = FRAME_C):
    """Late fusion of one logistic regression per feature block.

    A frame-level block (``whisper-base-l2-ln-frames`` …) gets a
    :class:`~ser.models.FrameClassifier` with ``frame_C``; the others a
    standardised logistic regression with ``C``.
    """
    from .features import EXTRACTORS

    blocks, framed, widths, start = [], [], set(), 0
    for i, name in enumerate(parse_feature_set(feature_set)):
        extractor = EXTRACTORS[name]
        blocks.append((start, start + extractor.size))
        start += extractor.size
        if extractor.frames:
            framed.append(i)
            widths.add(extractor.shape[1])
    if len(widths) > 1:
        raise ValueError(f"{feature_set!r} mixes frame-level sets of different widths; use one at a time.")
    return LateFusionClassifier(
        blocks=blocks, estimator=make_classifier("logreg", C=C), frame_blocks=tuple(framed),
        frame_estimator=FrameClassifier(width=widths.pop(), C=frame_C, step=FRAME_STEP) if widths else None)


def gender_estimator(feature_set: str):
    """The gender model: one logistic regression on every feature, or a late fusion where frames take part."""
    fused = default_estimator(feature_set, GENDER_C, frame_C=GENDER_C)
    return fused if fused.frame_blocks else GENDER_ESTIMATOR


def corpus_weights(corpus: np.ndarray) -> np.ndarray:
    """Sample weights giving every corpus the same total weight (mean weight 1)."""
    names, counts = np.unique(corpus, return_counts=True)
    per = dict(zip(names, 1.0 / counts))
    weights = np.array([per[c] for c in corpus])
    return weights * len(weights) / weights.sum()


def fit(estimator, X: np.ndarray, y: np.ndarray, corpus: np.ndarray | None = None):
    """Fit a clone of ``estimator``, balancing corpora when the model accepts weights."""
    # Multi-threaded BLAS on small matrices spins against other work on a 2-core
    # machine: one thread fits a logistic regression 20x faster under load.
    with threadpool_limits(limits=1):
        return _fit(clone(estimator), X, y, corpus)


def _fit(model, X, y, corpus):
    if corpus is None or len(set(corpus)) < 2:
        return model.fit(X, y)
    weights = corpus_weights(corpus)
    try:
        if hasattr(model, "steps"):
            return model.fit(X, y, **{f"{model.steps[-1][0]}__sample_weight": weights})
        return model.fit(X, y, sample_weight=weights)
    except TypeError:  # KNN, MLP … take no weights
        return model.fit(X, y)


def evaluate_corpus(
    estimator,
    data: Dataset,
    corpus: str,
    *,
    target: str = "emotion",
    random_split: bool = False,
    calibration: bool = True,
    progress: Progress | None = None,
) -> Evaluation:
    """Cross-validate on one corpus of ``data``; the other corpora join every training fold.

    With ``calibration`` (emotion only) each fold's model is temperature-scaled
    on held-out speakers of its own training data, and the result holds the ECE.
    """
    inside = data.corpus == corpus
    y_all = getattr(data, target)
    own, others = np.flatnonzero(inside), np.flatnonzero(~inside)
    y = y_all[own]
    labels = sorted(set(y))
    calibration = calibration and target == "emotion" and not random_split
    if random_split:
        folds, protocol = random_folds(y)
    else:
        folds, protocol = evaluation_folds(data.speaker[own], y, corpus)
    if len(others):
        protocol += f"; training folds also hold all of {', '.join(sorted(set(data.corpus[others])))}"
    predictions = np.empty(len(own), dtype=object)
    confidence = np.zeros(len(own))
    fit_seconds = predict_seconds = 0.0
    for k, test in enumerate(folds):
        train = np.concatenate([np.setdiff1d(own, own[test]), others])
        start = time.perf_counter()
        if calibration:
            model, _ = fit_calibrated(estimator, data.subset(np.isin(np.arange(len(y_all)), train)),
                                      unseen_corpora=False)
        else:
            model = fit(estimator, data.X[train], y_all[train], data.corpus[train])
        fit_seconds += time.perf_counter() - start
        start = time.perf_counter()
        proba, kept = restrict_proba(model.predict_proba(data.X[own[test]]), model.classes_,
                                     [c for c in model.classes_ if c in labels])
        predict_seconds += time.perf_counter() - start
        predictions[test] = np.array(kept)[proba.argmax(axis=1)]
        confidence[test] = proba.max(axis=1)
        if progress:
            progress((k + 1) / len(folds), f"{corpus}: fold {k + 1}/{len(folds)}")
    if calibration:
        protocol += "; temperature from held-out speakers (not corpora) of each training fold"
    result = score(y, predictions.astype(str), labels, f"{corpus}: {protocol}", n_folds=len(folds),
                   confidence=confidence)
    result.fit_seconds, result.predict_seconds = fit_seconds, predict_seconds / len(y)
    result.extra["per_clip"] = {"confidence": confidence.tolist(), "correct": (predictions == y).tolist()}
    return result


def _calibration_folds(data: Dataset, unseen_corpora: bool = True) -> list[np.ndarray]:
    speakers = sorted(set(data.speaker))
    folds = [np.flatnonzero(np.isin(data.speaker, speakers[k::CALIBRATION_SPEAKER_FOLDS]))
             for k in range(min(CALIBRATION_SPEAKER_FOLDS, len(speakers)))]
    corpora = sorted(set(data.corpus))
    if unseen_corpora and len(corpora) > 1:
        folds += [np.flatnonzero(data.corpus == c) for c in corpora]
    return [f for f in folds if 0 < len(f) < len(data.emotion)]


def held_out_proba(estimator, data: Dataset, *, unseen_corpora: bool = True
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities of training clips from models that never saw their speakers.

    Returns ``(proba, y, classes)``: one row per clip and fold of
    :func:`_calibration_folds` (a clip appears once per fold holding it out;
    with ``unseen_corpora`` each training corpus is also held out whole).
    """
    classes = np.array(sorted(set(data.emotion)))
    rows, truth = [], []
    for test in _calibration_folds(data, unseen_corpora):
        train = np.setdiff1d(np.arange(len(data.emotion)), test)
        model = fit(estimator, data.X[train], data.emotion[train], data.corpus[train])
        test = test[np.isin(data.emotion[test], model.classes_)]  # a held-out corpus' own labels (calm …)
        proba = np.zeros((len(test), len(classes)))
        proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(data.X[test])
        rows.append(proba)
        truth.append(data.emotion[test])
    return np.vstack(rows), np.concatenate(truth), classes


def fit_temperature(proba: np.ndarray, y: np.ndarray, classes: Sequence[str]) -> float:
    """The temperature T minimising the negative log-likelihood of ``softmax(log p / T)``."""
    from scipy.optimize import minimize_scalar

    logp = np.log(np.clip(proba, 1e-12, None))
    target = np.searchsorted(np.asarray(classes), y)

    def nll(log_t: float) -> float:
        z = logp / np.exp(log_t)
        z = z - np.logaddexp.reduce(z, axis=1, keepdims=True)
        return float(-z[np.arange(len(y)), target].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def sure_threshold(confidence: np.ndarray, correct: np.ndarray, precision: float = SURE_PRECISION) -> float:
    """Lowest confidence above which held-out answers are right at least ``precision`` of the time.

    Clamped to :data:`SURE_RANGE`, so a model never claims every answer nor none.
    """
    order = np.argsort(-confidence)
    running = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(running >= precision)
    threshold = float(confidence[order][ok[-1]]) if len(ok) else SURE_RANGE[1]
    return float(np.clip(threshold, *SURE_RANGE))


def calibrate(estimator, data: Dataset, *, unseen_corpora: bool = True) -> dict:
    """Temperature and "not sure" threshold from held-out speakers (and corpora) of ``data``.

    ``unseen_corpora`` calibrates for speech of corpora the model never heard
    (the shipped model's case: each training corpus is held out in turn as well
    as speaker folds); without it, for new speakers of the training corpora
    only (in-corpus evaluation).  The two differ: a model is right far more
    often on new speakers of a known corpus, and one temperature fitted to the
    mix left in-corpus answers underconfident (ECE 0.19 in-corpus, 0.05 cross).
    Only models whose logits can be divided by a temperature (linear models
    and late fusions of them) are calibrated; others get ``temperature`` 1.
    """
    proba, y, classes = held_out_proba(estimator, data, unseen_corpora=unseen_corpora)
    temperature = 1.0
    if supports_temperature(estimator):
        temperature = fit_temperature(proba, y, classes)
        logp = np.log(np.clip(proba, 1e-12, None)) / temperature
        proba = np.exp(logp - np.logaddexp.reduce(logp, axis=1, keepdims=True))
    confidence, correct = proba.max(axis=1), classes[proba.argmax(axis=1)] == y
    return {"temperature": round(temperature, 4),
            "sure_threshold": round(sure_threshold(confidence, correct), 4),
            "held_out_ece": round(expected_calibration_error(confidence, correct), 4),
            "held_out": f"{len(y)} predictions of models that did not see the clip's speakers "
                        f"({CALIBRATION_SPEAKER_FOLDS} folds of training speakers"
                        + (", and each training corpus held out in turn)"
                           if unseen_corpora and len(set(data.corpus)) > 1 else ")")}


def fit_calibrated(estimator, data: Dataset, *, calibration: bool = True, unseen_corpora: bool = True):
    """Fit on all of ``data``; with ``calibration``, divide its logits by the held-out temperature.

    Returns ``(model, calibration_info)`` (info is empty without calibration);
    ``unseen_corpora`` as in :func:`calibrate`.
    """
    model = fit(estimator, data.X, data.emotion, data.corpus)
    # Models without logits to scale (knn, forests, deep) keep their probabilities, and their
    # held-out refits would only cost time: on a small upload knn's folds held fewer clips
    # than its neighbours ("n_neighbors <= n_samples_fit") and the whole run failed.
    if not calibration or len(set(data.speaker)) < 2 or not supports_temperature(model):
        return model, {}
    info = calibrate(estimator, data, unseen_corpora=unseen_corpora)
    return (scale_logits(model, 1 / info["temperature"]) if supports_temperature(model) else model), info


def cross_corpus(
    estimator,
    train: Dataset,
    test: Dataset,
    *,
    calibration: bool = True,
) -> Evaluation:
    """Train on ``train`` and score on ``test``, a corpus none of whose speakers were trained on.

    Test clips are scored over their own labels restricted to those the
    training data has (probabilities renormalised over them), one clip at a
    time: nothing about the test corpus is used before its clips are predicted.
    With ``calibration`` the temperature is fitted on held-out speakers of the
    training corpora only.
    """
    # Clips of unknown speakers get ids unique within one dataset only; real ids must not collide.
    overlap = set(train.speaker[~speakers_unknown(train.speaker)]) & set(test.speaker)
    if overlap:
        raise ValueError(f"Train and test share speakers ({', '.join(sorted(overlap)[:3])} …); "
                         "cross-corpus evaluation needs disjoint speakers.")
    labels = sorted(set(test.emotion) & set(train.emotion))
    if len(labels) < 2:
        raise ValueError("Train and test corpora share fewer than two emotions.")
    test = test.subset(np.isin(test.emotion, labels))
    start = time.perf_counter()
    model, info = fit_calibrated(estimator, train, calibration=calibration)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba, kept = restrict_proba(model.predict_proba(test.X), model.classes_, labels)
    predict_seconds = (time.perf_counter() - start) / len(test.emotion)
    predicted = np.array(kept)[proba.argmax(axis=1)]
    trained_on = ", ".join(sorted(set(train.corpus)))
    protocol = (f"cross-corpus: trained on {trained_on} ({len(set(train.speaker))} speakers), "
                f"tested on {', '.join(sorted(set(test.corpus)))} ({len(set(test.speaker))} unseen speakers), "
                f"{len(labels)} classes, one clip at a time; "
                + (f"temperature {info['temperature']:.2f} from held-out training speakers" if info
                   else "uncalibrated"))
    result = score(test.emotion, predicted, labels, protocol, confidence=proba.max(axis=1))
    result.fit_seconds, result.predict_seconds = fit_seconds, predict_seconds
    result.extra = {"calibration": info, "n_train": int(len(train.emotion)), "n_test": int(len(test.emotion)),
                    "per_clip": {"confidence": proba.max(axis=1).tolist(),
                                 "correct": (predicted == test.emotion).tolist()}}
    return result


def train_bundle(
    data: Dataset,
    estimator=None,
    *,
    name: str = "model",
    evaluate: bool = True,
    random_split: bool = False,
    progress: Progress | None = None,
) -> ModelBundle:
    """Evaluate per corpus, then fit the emotion and gender models on all of ``data``."""
    check_bundle_name(name)
    estimator = estimator if estimator is not None else default_estimator(data.feature_set)
    metrics = {}
    corpora = sorted(set(data.corpus))
    if evaluate:
        for corpus in corpora:
            inside = data.corpus == corpus
            if len(set(data.speaker[inside])) < 2 and not random_split:
                continue
            result = evaluate_corpus(estimator, data, corpus, random_split=random_split, progress=progress)
            metrics[corpus] = result.to_dict()
            if len(set(data.gender[inside])) == 2:
                gender = evaluate_corpus(gender_estimator(data.feature_set), data.subset(data.gender != "unknown"),
                                         corpus, target="gender", random_split=random_split)
                metrics.setdefault("gender", {})[corpus] = {"ua": gender.ua, "wa": gender.wa,
                                                            "protocol": gender.protocol}
    start = time.perf_counter()
    emotion_model, calibration = fit_calibrated(estimator, data)
    known = data.gender != "unknown"
    gender_model = None
    if len(set(data.gender[known])) == 2:
        gender_model = fit(gender_estimator(data.feature_set), data.X[known], data.gender[known], data.corpus[known])
    train_seconds = time.perf_counter() - start
    info = {
        "corpora": {c: int((data.corpus == c).sum()) for c in corpora},
        "speakers": int(len(set(data.speaker[~speakers_unknown(data.speaker)]))),
        "estimator": type(estimator).__name__,
        "train_seconds": round(train_seconds, 2),
        "trained_on": f"{date.today().isoformat()}, {platform.machine()}, Python {platform.python_version()}",
        "skipped": [f"{p}: {why}" for p, why in data.skipped],
    }
    if calibration:  # the recognizer says "not sure" below sure_threshold
        info.update(calibration=calibration, sure_threshold=calibration["sure_threshold"])
    bundle = ModelBundle(emotion_model=emotion_model, gender_model=gender_model,
                         feature_set=data.feature_set, name=name, metrics=metrics, info=info)
    bundle.card = model_card(bundle)
    return bundle


def _fusion_words(model) -> str:
    experts = getattr(model, "estimators_", [])
    if not any(isinstance(e, FrameClassifier) for e in experts):
        return "standardised logistic regression per feature block, log-probabilities averaged"
    return ("a logistic regression on every frame of the frame-level block, its frames' log-probabilities "
            "averaged, and a standardised logistic regression per other block; the blocks' log-probabilities "
            "averaged")


def model_card(bundle: ModelBundle) -> str:
    """A Markdown model card (Hugging Face style front matter) for ``bundle``."""
    emotion_metrics = {c: m for c, m in bundle.metrics.items() if c != "gender"}
    independent = all("speaker-independent" in m["protocol"] for m in emotion_metrics.values())
    lines = [
        "---", "library_name: sklearn", "tags: [speech-emotion-recognition, audio-classification]",
        "license: cc-by-nc-sa-4.0", "---", "", f"# {bundle.name}", "",
        "Speech emotion recognition model of the emotion-aware speech studio.", "",
        f"- **Labels**: {', '.join(bundle.labels)}",
        f"- **Features**: `{bundle.feature_set}`",
        f"- **Emotion model**: {bundle.info.get('estimator')} ({_fusion_words(bundle.emotion_model)})"
        if bundle.info.get("estimator") == "LateFusionClassifier"
        else f"- **Emotion model**: {bundle.info.get('estimator')}",
        f"- **Gender model**: {'logistic regression' if bundle.gender_model is not None else 'none'}",
        f"- **Training data**: " + ", ".join(f"{c} ({n} clips)" for c, n in bundle.info.get("corpora", {}).items()),
        f"- **Trained**: {bundle.info.get('trained_on')}; fit took {bundle.info.get('train_seconds')} s",
        "- **Format**: arrays in `weights.safetensors` (or allow-listed `skops`), no pickle", "",
        "## Speaker-independent results" if independent else "## Cross-validated results (see each protocol)", "",
        "| corpus | classes | UA | WA | protocol |", "|---|---|---|---|---|",
    ]
    for corpus, m in emotion_metrics.items():
        lines.append(f"| {corpus} | {len(m['labels'])} | {m['ua']:.3f} | {m['wa']:.3f} | {m['protocol']} |")
    lines += ["", "UA = mean per-class recall; WA = accuracy. Each corpus is scored over its own label set.", ""]
    if bundle.metrics.get("gender"):
        lines += ["Gender, same protocol: " + "; ".join(
            f"{c} WA {m['wa']:.3f}" for c, m in bundle.metrics["gender"].items()), ""]
    if bundle.info.get("command"):
        lines += ["Reproduce with:", "", f"    {bundle.info['command']}", ""]
    for corpus, m in emotion_metrics.items():
        lines += [f"### {corpus}: per-class recall", "",
                  "| " + " | ".join(m["labels"]) + " |", "|" + "---|" * len(m["labels"]),
                  "| " + " | ".join(f"{m['recall'][l]:.2f}" for l in m["labels"]) + " |", ""]
    return "\n".join(lines)
