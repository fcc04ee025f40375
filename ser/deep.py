"""Deep emotion models (Keras 3 on TensorFlow) behind the scikit-learn estimator contract.

:class:`KerasSequenceClassifier` takes the frame-level sequence feature sets of
:mod:`ser.features` (``mfcc-seq``, ``logmel-seq``, ``whisper-tiny-seq``): each
row is a fixed number of time steps flattened, so the same datasets,
speaker-independent evaluation, parameter search and model bundles serve the
classical zoo and the deep models alike.  Bundles store the network in Keras'
native ``.keras`` format, loaded with ``safe_mode=True`` (no Python lambdas
or pickles run on load).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _keras():
    # openSMILE's native library must load before TensorFlow's: in the other order eGeMAPS
    # extraction corrupts the heap and aborts the process ("malloc(): invalid size").
    import opensmile  # noqa: F401  isort: skip

    try:
        import keras
        import tensorflow as tf
    except ImportError as error:
        raise RuntimeError("Deep models need TensorFlow and Keras: "
                           "pip install -r requirements-deep.txt") from error

    try:  # TF's thread pools are fixed at first use; two cores are all a laptop run gets here
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    return keras


def build_network(architecture: str, frames: int, width: int, n_classes: int, *, units: int = 64,
                  dropout: float = 0.3):
    """An uncompiled Keras model from ``(frames, width)`` sequences to class probabilities.

    ``cnn1d``: two 1-D convolutions over time; ``cnn2d``: three 2-D
    convolutions over the time x feature plane (log-mel images); ``lstm``: two
    stacked LSTMs; ``cnn_lstm``: a convolution, then an LSTM over its outputs.
    """
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((frames, width))
    if architecture == "cnn1d":
        x = layers.Conv1D(units, 5, padding="same", activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling1D(2, padding="same")(x)
        x = layers.Dropout(dropout)(x)
        x = layers.Conv1D(2 * units, 5, padding="same", activation="relu")(x)
        x = layers.BatchNormalization()(x)
        x = layers.GlobalAveragePooling1D()(x)
    elif architecture == "cnn2d":
        x = layers.Reshape((frames, width, 1))(inputs)
        for filters in (units // 4, units // 2, units):
            x = layers.Conv2D(max(filters, 8), 3, padding="same", activation="relu")(x)
            x = layers.BatchNormalization()(x)
            x = layers.MaxPooling2D(2, padding="same")(x)
        x = layers.GlobalAveragePooling2D()(x)
    elif architecture == "lstm":
        x = layers.LSTM(units, return_sequences=True)(inputs)
        x = layers.Dropout(dropout)(x)
        x = layers.LSTM(units)(x)
    elif architecture == "cnn_lstm":
        x = layers.Conv1D(units, 5, padding="same", activation="relu")(inputs)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling1D(2, padding="same")(x)
        x = layers.LSTM(units)(x)
    else:
        raise ValueError(f"Unknown architecture {architecture!r}; choose one of {', '.join(ARCHITECTURES)}.")
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=architecture)


ARCHITECTURES = ("cnn1d", "cnn2d", "lstm", "cnn_lstm")


class KerasSequenceClassifier(ClassifierMixin, BaseEstimator):
    """A Keras network on flattened frame sequences, with the scikit-learn contract.

    Features are standardised per feature dimension (over clips and time);
    training holds out ``validation_fraction`` of the clips for early stopping
    (best weights restored), weights classes to balance them (times any
    ``sample_weight``), and is reproducible for a given ``seed``.

    Parameters
    ----------
    architecture : {"cnn1d", "cnn2d", "lstm", "cnn_lstm"}
    frames : int
        Time steps per row; ``X.shape[1]`` must be a multiple of it.
    units, dropout, learning_rate, epochs, batch_size, patience : network and training settings.
    validation_fraction : float
        Share of the training clips used for early stopping.
    seed : int

    Examples
    --------
    >>> model = KerasSequenceClassifier("cnn1d", frames=50, epochs=5)   # doctest: +SKIP
    >>> model.fit(X_train, y_train).predict(X_test)                     # doctest: +SKIP
    """

    #: How :mod:`ser.bundle` stores it (:data:`ser.bundle.MODEL_KINDS`): Keras' native format, safe mode.
    bundle_kind = "keras"

    def __init__(self, architecture: str = "cnn1d", frames: int = 50, units: int = 64, dropout: float = 0.3,
                 learning_rate: float = 1e-3, epochs: int = 30, batch_size: int = 32, patience: int = 5,
                 validation_fraction: float = 0.1, seed: int = 0):
        self.architecture = architecture
        self.frames = frames
        self.units = units
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.seed = seed

    def _sequences(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] % self.frames:
            raise ValueError(f"Expected rows of {self.frames} flattened frames, got shape {X.shape}.")
        X = X.reshape(len(X), self.frames, -1)
        if hasattr(self, "mean_"):
            X = (X - self.mean_) / self.scale_
        return X

    def fit(self, X, y, sample_weight=None):
        keras = _keras()
        keras.utils.set_random_seed(self.seed)
        y = np.asarray(y)
        for attribute in ("mean_", "scale_"):
            self.__dict__.pop(attribute, None)
        sequences = self._sequences(X)
        self.mean_ = sequences.mean(axis=(0, 1)).astype(np.float32)
        self.scale_ = (sequences.std(axis=(0, 1)) + 1e-6).astype(np.float32)
        sequences = (sequences - self.mean_) / self.scale_
        self.classes_, targets = np.unique(y, return_inverse=True)
        weights = compute_sample_weight("balanced", targets)
        if sample_weight is not None:
            weights = weights * np.asarray(sample_weight)
        train, valid = np.arange(len(y)), None
        if self.validation_fraction and len(y) * self.validation_fraction >= len(self.classes_):
            split = StratifiedShuffleSplit(n_splits=1, test_size=self.validation_fraction, random_state=self.seed)
            try:
                train, valid = next(split.split(sequences, targets))
            except ValueError:  # a class with a single clip cannot be stratified
                pass
        self.model_ = build_network(self.architecture, self.frames, sequences.shape[2], len(self.classes_),
                                    units=self.units, dropout=self.dropout)
        self.model_.compile(optimizer=keras.optimizers.Adam(self.learning_rate),
                            loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        callbacks = []
        validation = None
        if valid is not None:
            validation = (sequences[valid], targets[valid], weights[valid])
            callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=self.patience,
                                                           restore_best_weights=True))
        history = self.model_.fit(sequences[train], targets[train], sample_weight=weights[train],
                                  validation_data=validation, epochs=self.epochs, batch_size=self.batch_size,
                                  callbacks=callbacks, verbose=0, shuffle=True)
        self.history_ = {k: [float(v) for v in values] for k, values in history.history.items()}
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        sequences = self._sequences(X)
        return np.concatenate([np.asarray(self.model_(sequences[i:i + 256], training=False))
                               for i in range(0, len(sequences), 256)]).astype(np.float64)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    # -- bundles --------------------------------------------------------------

    def save_network(self, path: str | Path) -> None:
        """Write the network in Keras' native format (``.keras``)."""
        check_is_fitted(self, "model_")
        self.model_.save(Path(path))

    @classmethod
    def from_saved(cls, path: str | Path, params: dict, classes, mean: np.ndarray, scale: np.ndarray,
                   history: dict | None = None) -> "KerasSequenceClassifier":
        """A fitted classifier from a ``.keras`` file (loaded in safe mode) and its bundle metadata."""
        keras = _keras()
        model = cls(**params)
        model.model_ = keras.saving.load_model(Path(path), safe_mode=True, compile=False)
        model.classes_ = np.asarray(classes)
        model.mean_, model.scale_ = np.asarray(mean, np.float32), np.asarray(scale, np.float32)
        model.history_ = history or {}
        return model
