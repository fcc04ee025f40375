"""The classifier zoo: scikit-learn estimators with ``predict_proba``.

Every model is a pipeline of standardisation and a classifier, so features on
very different scales (Whisper states, openSMILE functionals) work unchanged.
Defaults follow the seed projects' tuned settings where they gave them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

CLASSIFIERS: dict[str, Callable[[], BaseEstimator]] = {
    "logreg": lambda: LogisticRegression(C=0.1, max_iter=3000),
    # Platt-scaled SVC; scikit-learn 1.9 replaces SVC(probability=True) with this.
    "svc": lambda: CalibratedClassifierCV(SVC(C=10, gamma="scale", random_state=0), ensemble=False),
    "random_forest": lambda: RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=-1),
    "gradient_boosting": lambda: GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0),
    "knn": lambda: KNeighborsClassifier(n_neighbors=7, weights="distance"),
    "mlp": lambda: MLPClassifier(hidden_layer_sizes=(300,), alpha=0.01, batch_size=256,
                                 learning_rate="adaptive", max_iter=500, early_stopping=True,
                                 n_iter_no_change=25, random_state=0),
    "bagging": lambda: BaggingClassifier(n_estimators=50, random_state=0, n_jobs=-1),
    "adaboost": lambda: AdaBoostClassifier(n_estimators=200, learning_rate=0.5, random_state=0),
    "decision_tree": lambda: DecisionTreeClassifier(max_depth=12, random_state=0),
}


def make_classifier(name: str = "logreg", **params) -> Pipeline:
    """A ``StandardScaler`` + classifier pipeline from the zoo.

    Examples
    --------
    >>> make_classifier("knn", n_neighbors=3).named_steps["clf"].n_neighbors
    3
    """
    if name not in CLASSIFIERS:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(CLASSIFIERS)}.")
    classifier = CLASSIFIERS[name]()
    if isinstance(classifier, CalibratedClassifierCV):
        classifier.estimator.set_params(**params)
    else:
        classifier.set_params(**params)
    return Pipeline([("scale", StandardScaler()), ("clf", classifier)])


class _FromLogProba:
    """``predict_proba`` and ``predict`` of a classifier that defines ``predict_log_proba``."""

    def predict_proba(self, X):
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]


class FrameClassifier(_FromLogProba, ClassifierMixin, BaseEstimator):
    """A logistic regression on every frame of a clip; the clip's log-probabilities average its frames'.

    Rows of ``X`` are flattened ``(frames, width)`` sequences (e.g.
    ``whisper-base-l2-ln-frames``), zero rows past each clip's end.  Every
    frame is a training example carrying its clip's label and ``1 / frames``
    of its clip's weight, so long and short clips count alike; every
    ``step``-th frame is used for training (neighbours are nearly the same).
    Scoring averages the frames' log-probabilities (a product of experts over
    time) and multiplies the result by ``scale_`` (1 unless temperature-scaled,
    :func:`scale_logits`).

    Measured (bench/results/ser_generalization.md): on speech of a corpus it
    never heard, this frame-level model beats a logistic regression on the
    same states mean+std pooled: what a clip's frames say one by one
    survives a new language and channel better than their average.

    Parameters
    ----------
    width : int
        Values per frame.
    C : float
        Inverse L2 strength of the frame logistic regression.
    step : int
        Training uses frames ``0, step, 2 step …`` of each clip.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.zeros((40, 3 * 2)); y = np.array(["a", "b"] * 20)
    >>> X[:, :4] = rng.normal(size=(40, 4)) + np.where(y == "a", 2.0, -2.0)[:, None]
    >>> model = FrameClassifier(width=2, step=1).fit(X, y)
    >>> float((model.predict(X) == y).mean())
    1.0
    """

    def __init__(self, width: int = 512, C: float = 0.01, step: int = 2, max_iter: int = 300):
        self.width = width
        self.C = C
        self.step = step
        self.max_iter = max_iter

    def frames(self, X, step: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(frames, owner, count)``: the non-zero frames of each row, the row each came from, frames per row."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] % self.width:
            raise ValueError(f"Expected rows of flattened {self.width}-value frames, got shape {X.shape}.")
        sequences = X.reshape(len(X), -1, self.width)[:, ::step]
        valid = np.any(sequences != 0, axis=2)
        owner = np.nonzero(valid)[0]
        return sequences[valid], owner, np.bincount(owner, minlength=len(X))

    def fit(self, X, y, sample_weight=None):
        frames, owner, count = self.frames(X, self.step)
        weight = np.ones(len(count)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        per_frame = weight[owner] / count[owner]
        self.model_ = make_classifier("logreg", C=self.C, max_iter=self.max_iter)
        self.model_.fit(frames, np.asarray(y)[owner], clf__sample_weight=per_frame * len(per_frame) / per_frame.sum())
        self.classes_ = self.model_.classes_
        self.scale_ = 1.0
        return self

    def predict_log_proba(self, X):
        check_is_fitted(self, "model_")
        frames, owner, count = self.frames(X)
        logp = np.zeros((len(count), len(self.classes_)))
        if len(frames):
            np.add.at(logp, owner, self._frame_log_proba(frames))
        logp = self.scale_ * logp / np.maximum(count, 1)[:, None]  # a clip without frames: uniform
        return logp - np.logaddexp.reduce(logp, axis=1, keepdims=True)

    def _frame_log_proba(self, frames: np.ndarray) -> np.ndarray:
        """Each frame's log-probabilities from its logits (finite, where log(predict_proba) underflows to -inf)."""
        logits = self.model_.decision_function(frames)
        if logits.ndim == 1:  # two classes: p(second) = sigmoid(z) = softmax([0, z])
            logits = np.column_stack([np.zeros_like(logits), logits])
        return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


class LateFusionClassifier(_FromLogProba, ClassifierMixin, BaseEstimator):
    """One classifier per block of feature columns; log-probabilities averaged.

    Each feature set (Whisper tiny, Whisper base, eGeMAPS …) gets its own
    regularised model, so a 1024-dimensional block cannot drown an
    88-dimensional one.  The experts' log-probabilities are averaged (a
    normalised geometric mean): the same decision as a product of experts,
    without multiplying their confidence.

    Parameters
    ----------
    blocks : list of (start, stop)
        Column ranges of ``X``, one per expert.
    estimator : estimator
        Template cloned for each block (a standardised logistic regression if None).
    frame_estimator : estimator, optional
        Template cloned instead for the blocks listed in ``frame_blocks``
        (frame-level features: a :class:`FrameClassifier`).
    frame_blocks : tuple of int
        Positions in ``blocks`` of the frame-level blocks.
    """

    def __init__(self, blocks=((0, None),), estimator=None, frame_estimator=None, frame_blocks=()):
        self.blocks = blocks
        self.estimator = estimator
        self.frame_estimator = frame_estimator
        self.frame_blocks = frame_blocks

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X, dtype=np.float32)
        self.estimators_ = []
        for template, (start, stop) in zip(self.templates(), self.blocks):
            model = clone(template)
            if sample_weight is None:
                model.fit(X[:, start:stop], y)
            else:
                last = model.steps[-1][0] if isinstance(model, Pipeline) else None
                key = f"{last}__sample_weight" if last else "sample_weight"
                model.fit(X[:, start:stop], y, **{key: sample_weight})
            self.estimators_.append(model)
        self.classes_ = self.estimators_[0].classes_
        return self

    def templates(self) -> list:
        """The unfitted model of each block."""
        plain = self.estimator if self.estimator is not None else make_classifier("logreg")
        framed = self.frame_estimator if self.frame_estimator is not None else FrameClassifier()
        return [framed if i in set(self.frame_blocks) else plain for i in range(len(self.blocks))]

    def predict_log_proba(self, X):
        check_is_fitted(self, "estimators_")
        X = np.asarray(X, dtype=np.float32)
        logp = np.mean([
            model.predict_log_proba(X[:, start:stop]) if isinstance(model, FrameClassifier) else
            np.log(np.clip(model.predict_proba(X[:, start:stop]), 1e-12, None))
            for model, (start, stop) in zip(self.estimators_, self.blocks)
        ], axis=0)
        return logp - np.logaddexp.reduce(logp, axis=1, keepdims=True)


def restrict_proba(proba: np.ndarray, classes, subset) -> tuple[np.ndarray, list[str]]:
    """Keep the columns of ``subset`` and renormalise each row to sum to one.

    Examples
    --------
    >>> p, labels = restrict_proba(np.array([[0.5, 0.3, 0.2]]), ["a", "b", "c"], ["b", "c"])
    >>> labels, p.round(2).tolist()
    (['b', 'c'], [[0.6, 0.4]])
    """
    classes = [str(c) for c in classes]
    missing = [label for label in subset if label not in classes]
    if missing:
        raise ValueError(f"The model does not know {', '.join(missing)}; it knows {', '.join(classes)}.")
    subset = [str(label) for label in classes if label in set(subset)]
    kept = proba[:, [classes.index(label) for label in subset]]
    return kept / np.clip(kept.sum(axis=1, keepdims=True), 1e-12, None), subset


def supports_temperature(model) -> bool:
    """Whether :func:`scale_logits` applies: a logistic regression, a frame classifier or a late fusion of them."""
    if isinstance(model, FrameClassifier):
        return True
    if isinstance(model, LateFusionClassifier):
        experts = getattr(model, "estimators_", None) or model.templates()
        return all(supports_temperature(e) for e in experts)
    return (isinstance(model, Pipeline) and isinstance(model.steps[-1][1], LogisticRegression)
            and len(model.steps) == 2)


def scale_logits(model, factor: float):
    """A copy of a fitted linear model (or late fusion) whose logits are multiplied by ``factor``.

    Temperature scaling with ``factor = 1 / T``.  A late fusion averages its
    experts' log-probabilities, which equals a softmax of the mean logits, so
    scaling every expert scales the fusion's logits exactly; a frame
    classifier's clip-level log-probabilities are multiplied by its
    ``scale_``.  The bundle stores the scaled weights as they are.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> model = make_classifier("logreg").fit(X, y)
    >>> cooler = scale_logits(model, 0.5)
    >>> bool((cooler.predict(X) == model.predict(X)).all()), bool(cooler.predict_proba(X).max() < model.predict_proba(X).max())
    (True, True)
    """
    import copy

    scaled = copy.deepcopy(model)
    for expert in (scaled.estimators_ if isinstance(scaled, LateFusionClassifier) else [scaled]):
        if isinstance(expert, FrameClassifier):
            expert.scale_ = expert.scale_ * factor
            continue
        clf = expert.steps[-1][1]
        clf.coef_ = clf.coef_ * factor
        clf.intercept_ = clf.intercept_ * factor
    return scaled
