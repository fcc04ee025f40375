"""Speaker-independent evaluation: folds that hold out whole speakers, UA and WA.

UA (unweighted accuracy) is the mean per-class recall; WA (weighted accuracy)
is plain accuracy.  Random splits, which let a speaker's voice leak into the
test fold, are available only on request and are labelled as such.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import numpy as np
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, StratifiedKFold

RANDOM_SPLIT = "random"
UNKNOWN_SPEAKER = "unknown"
# EmoBox's speaker-independent RAVDESS folds (test actors of each fold), so our
# RAVDESS numbers sit beside the published ones.
EMOBOX_RAVDESS_FOLDS = ((1, 11, 20, 21), (4, 10, 12, 14), (8, 9, 19, 23), (3, 5, 7, 24), (2, 15, 16, 18),
                        (6, 13, 17, 22))
ECE_BINS = 10


@dataclass
class Evaluation:
    """Scores of one model on one corpus under one protocol."""

    protocol: str
    labels: list[str]
    ua: float
    wa: float
    confusion: list[list[int]]  # rows: true label, columns: predicted label
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    support: dict[str, int]
    n_folds: int
    predicted_share: dict[str, float] = field(default_factory=dict)  # how often each label is answered
    ece: float | None = None  # expected calibration error of the top-class confidence, 10 bins
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def report(self) -> str:
        """A plain-text per-class report, like scikit-learn's."""
        ece = f"   ECE {self.ece:.3f}" if self.ece is not None else ""
        lines = [f"{self.protocol}", f"UA {self.ua:.3f}   WA {self.wa:.3f}{ece}", "",
                 f"{'':>10} precision  recall      f1  support  answered"]
        for label in self.labels:
            lines.append(f"{label:>10} {self.precision[label]:9.3f} {self.recall[label]:7.3f}"
                         f" {self.f1[label]:7.3f} {self.support[label]:8d}"
                         f" {self.predicted_share.get(label, 0.0):9.1%}")
        return "\n".join(lines)


def speaker_folds(speakers: Sequence[str], corpus: str | None = None) -> tuple[list[np.ndarray], str]:
    """Test-index folds that keep each speaker in exactly one fold.

    RAVDESS with all 24 actors: EmoBox's six folds of four actors
    (:data:`EMOBOX_RAVDESS_FOLDS`), other RAVDESS subsets 6 folds of
    consecutive actors; corpora with at most 12 speakers (EMO-DB, SAVEE,
    TESS): leave one speaker out; larger ones (ASED, CREMA-D): 5 folds, speakers
    sorted by id, fold = position mod 5.
    """
    speakers = np.asarray(speakers)
    unique = sorted(set(speakers))
    if len(unique) < 2:
        raise ValueError("Speaker-independent evaluation needs at least two speakers.")
    emobox = [[f"ravdess-{a:02d}" for a in fold] for fold in EMOBOX_RAVDESS_FOLDS]
    if corpus == "ravdess" and unique == sorted(sum(emobox, [])):
        groups = [np.array(g) for g in emobox]
        protocol = "speaker-independent, EmoBox's 6 folds of 4 actors"
    elif corpus == "ravdess":
        groups = np.array_split(np.array(unique), min(6, len(unique)))
        protocol = f"speaker-independent, {len(groups)} folds of whole speakers"
    elif len(unique) > 12:
        groups = [np.array(unique[k::5]) for k in range(5)]
        protocol = "speaker-independent, 5 folds of whole speakers (sorted ids, fold = position mod 5)"
    else:
        groups = [np.array([s]) for s in unique]
        protocol = f"speaker-independent, leave-one-speaker-out ({len(unique)} folds)"
    return [np.flatnonzero(np.isin(speakers, g)) for g in groups], protocol


def random_folds(labels: Sequence[str], n_folds: int = 5, seed: int = 0) -> tuple[list[np.ndarray], str]:
    """Stratified random folds. Speakers leak across folds: scores are optimistic."""
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    folds = [test for _, test in splitter.split(np.zeros(len(labels)), labels)]
    return folds, f"{RANDOM_SPLIT} split, {n_folds} stratified folds (speakers leak; not speaker-independent)"


def unknown_speaker(index: int) -> str:
    """The speaker id of a clip whose speaker nobody said: unique per clip, marked as unknown."""
    return f"{UNKNOWN_SPEAKER}-{index:06d}"


def speakers_unknown(speakers: Sequence[str]) -> np.ndarray:
    """Boolean mask of the clips whose speaker is not known (see :func:`unknown_speaker`)."""
    return np.char.startswith(np.asarray(speakers, dtype=str), f"{UNKNOWN_SPEAKER}-")


def evaluation_folds(speakers: Sequence[str], labels: Sequence[str], corpus: str | None = None, *,
                     n_folds: int = 5, seed: int = 0) -> tuple[list[np.ndarray], str]:
    """:func:`speaker_folds` when every clip's speaker is known, else seeded stratified folds.

    Holding out "speakers" that are really single files is no speaker
    independence: sorted file ids put one emotion in each fold (UA 0.15 on a
    4-emotion custom upload whose random-split UA is 0.6).  Without speakers
    the honest protocol is a stratified random split, and it says so.
    """
    if not speakers_unknown(speakers).any():
        return speaker_folds(speakers, corpus)
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    n_folds = min(n_folds, int(counts.min()))
    if n_folds < 2:
        raise ValueError("Cross-validation needs at least two clips of every emotion.")
    folds, _ = random_folds(labels, n_folds, seed)
    return folds, (f"{RANDOM_SPLIT} split, speakers unknown: {n_folds} stratified folds (seed {seed}); "
                   "a speaker may be in training and test, so scores are optimistic")


def search_folds(speakers: Sequence[str], labels: Sequence[str], n_folds: int = 3,
                 seed: int = 0) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """``(train, test)`` splits for a parameter search, of the same kind as :func:`evaluation_folds`.

    Whole speakers are held out where they are known; clips of unknown
    speakers are spread at random, stratified by emotion.
    """
    speakers, labels = np.asarray(speakers), np.asarray(labels)
    n_folds = min(n_folds, len(set(speakers)))
    if n_folds < 2:
        raise ValueError("Searching parameters needs at least two speakers.")
    unknown = speakers_unknown(speakers)
    if not unknown.any():
        splits = GroupKFold(n_splits=n_folds).split(speakers, labels, groups=speakers)
        return list(splits), f"{n_folds} folds of whole speakers"
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    protocol = (f"{n_folds} stratified folds, {RANDOM_SPLIT} split, speakers unknown (seed {seed})" if unknown.all()
                else f"{n_folds} stratified folds of whole speakers; clips of unknown speakers "
                     f"split at {RANDOM_SPLIT} (seed {seed})")
    return list(splitter.split(speakers, labels, groups=speakers)), protocol


def reliability(confidence: Sequence[float], correct: Sequence[bool], n_bins: int = ECE_BINS) -> list[dict]:
    """Equal-width confidence bins: count, mean confidence and accuracy of each.

    Empty bins are kept (count 0) so diagrams line up.
    """
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.clip((confidence * n_bins).astype(int), 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        inside = which == b
        bins.append({"low": b / n_bins, "high": (b + 1) / n_bins, "count": int(inside.sum()),
                     "confidence": float(confidence[inside].mean()) if inside.any() else None,
                     "accuracy": float(correct[inside].mean()) if inside.any() else None})
    return bins


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool],
                               n_bins: int = ECE_BINS) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over equal-width bins.

    Examples
    --------
    >>> expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True])
    0.4
    """
    bins = reliability(confidence, correct, n_bins)
    total = sum(b["count"] for b in bins)
    return float(sum(b["count"] * abs(b["confidence"] - b["accuracy"]) for b in bins if b["count"]) / total)


def score(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str], protocol: str,
          n_folds: int = 1, confidence: Sequence[float] | None = None) -> Evaluation:
    """UA, WA, confusion matrix, per-class precision/recall/F1 and share of each answer.

    With ``confidence`` (the probability of each predicted label) the result
    also holds the expected calibration error.
    """
    labels = list(labels)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    present = support > 0
    return Evaluation(
        protocol=protocol,
        labels=labels,
        ua=float(recall[present].mean()),
        wa=float((y_true == y_pred).mean()),
        confusion=confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        precision=dict(zip(labels, map(float, precision))),
        recall=dict(zip(labels, map(float, recall))),
        f1=dict(zip(labels, map(float, f1))),
        support=dict(zip(labels, map(int, support))),
        n_folds=n_folds,
        predicted_share={label: float((y_pred == label).mean()) for label in labels},
        ece=None if confidence is None else expected_calibration_error(confidence, y_true == y_pred),
    )


def cross_validate(
    estimator,
    X: np.ndarray,
    y: Sequence[str],
    folds: list[np.ndarray],
    protocol: str,
    *,
    extra_train: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Fit a clone of ``estimator`` per fold and score the pooled predictions.

    ``extra_train`` (features, labels) is added to every training fold, e.g.
    another corpus; it never enters a test fold.
    """
    y = np.asarray(y)
    predictions = np.empty(len(y), dtype=object)
    fit_seconds = predict_seconds = 0.0
    for k, test in enumerate(folds):
        train = np.setdiff1d(np.arange(len(y)), test)
        X_train, y_train = X[train], y[train]
        if extra_train is not None:
            X_train = np.vstack([X_train, extra_train[0]])
            y_train = np.concatenate([y_train, extra_train[1]])
        model = clone(estimator)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds += time.perf_counter() - start
        start = time.perf_counter()
        predictions[test] = model.predict(X[test])
        predict_seconds += time.perf_counter() - start
        if progress:
            progress(k + 1, len(folds))
    labels = [label for label in sorted(set(y))]
    result = score(y, predictions.astype(str), labels, protocol, n_folds=len(folds))
    result.fit_seconds, result.predict_seconds = fit_seconds, predict_seconds / len(y)
    return result
