"""Keras sequence models: the sklearn contract, reproducibility, .keras bundles in safe mode."""

import numpy as np
import pytest

import ser  # noqa: F401  loads openSMILE before TensorFlow (see ser/__init__.py)

pytest.importorskip("keras")

from sklearn.base import clone  # noqa: E402

from ser.bundle import ModelBundle, load_bundle, save_bundle  # noqa: E402
from ser.deep import ARCHITECTURES, KerasSequenceClassifier  # noqa: E402
from ser.workbench import DEEP_MODELS  # noqa: E402

FRAMES, WIDTH = 12, 6


def sequences(n=60, seed=0):
    """Two classes: a rising or a falling ramp over time, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.array(["up", "down"] * (n // 2))
    ramp = np.linspace(-1, 1, FRAMES)[:, None]
    X = np.stack([(ramp if label == "up" else -ramp) + 0.3 * rng.standard_normal((FRAMES, WIDTH))
                  for label in y])
    return X.reshape(n, -1).astype(np.float32), y


def test_architectures_match_the_workbench():
    assert tuple(ARCHITECTURES) == DEEP_MODELS


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_each_architecture_learns_and_predicts(architecture):
    X, y = sequences()
    model = KerasSequenceClassifier(architecture, frames=FRAMES, units=16, epochs=15, batch_size=16)
    model.fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert set(model.classes_) == {"up", "down"} and set(model.history_) >= {"loss", "val_loss"}
    assert (model.predict(X) == y).mean() > 0.65  # chance is 0.5; 15 epochs on 60 clips


def test_same_seed_same_model():
    X, y = sequences()
    template = KerasSequenceClassifier("cnn1d", frames=FRAMES, units=8, epochs=3)
    a, b = clone(template).fit(X, y), clone(template).fit(X, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), atol=1e-5)


def test_rows_must_hold_whole_frames():
    with pytest.raises(ValueError, match="flattened frames"):
        KerasSequenceClassifier(frames=7).fit(np.zeros((4, 10)), ["a", "b", "a", "b"])


def test_keras_bundle_round_trip(tmp_path):
    X, y = sequences()
    model = KerasSequenceClassifier("cnn_lstm", frames=FRAMES, units=8, epochs=2).fit(X, y)
    path = save_bundle(ModelBundle(emotion_model=model, feature_set="mfcc-seq", name="deep"), tmp_path / "deep")
    assert (path / "emotion.keras").is_file() and not list(path.glob("*.skops"))
    loaded = load_bundle(path)
    np.testing.assert_allclose(loaded.emotion_model.predict_proba(X), model.predict_proba(X), atol=1e-6)
    assert loaded.emotion_model.get_params() == model.get_params() and loaded.labels == ["down", "up"]
