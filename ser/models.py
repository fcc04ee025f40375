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


class LateFusionClassifier(ClassifierMixin, BaseEstimator):
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
        Template cloned for each block.
    """

    def __init__(self, blocks=((0, None),), estimator=None):
        self.blocks = blocks
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None):
        X = np.asarray(X, dtype=np.float32)
        template = self.estimator if self.estimator is not None else make_classifier("logreg")
        self.estimators_ = []
        for start, stop in self.blocks:
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

    def predict_log_proba(self, X):
        check_is_fitted(self, "estimators_")
        X = np.asarray(X, dtype=np.float32)
        logp = np.mean([
            np.log(np.clip(model.predict_proba(X[:, start:stop]), 1e-12, None))
            for model, (start, stop) in zip(self.estimators_, self.blocks)
        ], axis=0)
        return logp - np.logaddexp.reduce(logp, axis=1, keepdims=True)

    def predict_proba(self, X):
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]


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
    """Whether :func:`scale_logits` applies: a scaled logistic regression or a late fusion of them."""
    if isinstance(model, LateFusionClassifier):
        template = model.estimator if model.estimator is not None else make_classifier("logreg")
        experts = getattr(model, "estimators_", [template])
        return all(supports_temperature(e) for e in experts)
    return (isinstance(model, Pipeline) and isinstance(model.steps[-1][1], LogisticRegression)
            and len(model.steps) == 2)


def scale_logits(model, factor: float):
    """A copy of a fitted linear model (or late fusion) whose logits are multiplied by ``factor``.

    Temperature scaling with ``factor = 1 / T``.  A late fusion averages its
    experts' log-probabilities, which equals a softmax of the mean logits, so
    scaling every expert scales the fusion's logits exactly; the bundle stores
    the scaled weights as they are.

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
        clf = expert.steps[-1][1]
        clf.coef_ = clf.coef_ * factor
        clf.intercept_ = clf.intercept_ * factor
    return scaled
