"""Features, the classifier zoo, evaluation maths and bundles."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from ser.bundle import BundleError, ModelBundle, load_bundle, save_bundle
from ser.evaluation import score, speaker_folds
from ser.features import EXTRACTOR_SIZES, FeatureCache, extract, extract_features
from ser.models import CLASSIFIERS, LateFusionClassifier, make_classifier, restrict_proba


@pytest.mark.parametrize("name", list(EXTRACTOR_SIZES))
def test_every_feature_set_has_its_documented_size(speech, name):
    vector = extract(speech, name)
    assert vector.shape == (EXTRACTOR_SIZES[name],)
    assert np.all(np.isfinite(vector))


def test_feature_cache_hits_disk_and_survives_damage(tmp_path, speech):
    cache = FeatureCache(tmp_path)
    first = extract_features([speech], "egemaps", cache=cache)
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1
    assert np.array_equal(extract_features([speech], "egemaps", cache=cache), first)
    files[0].write_bytes(b"garbage")
    assert np.allclose(extract_features([speech], "egemaps", cache=cache), first)


def test_unknown_feature_set():
    with pytest.raises(ValueError, match="Unknown feature set"):
        extract(np.zeros(16000, np.float32), "mfcc+nonsense")


def data(n_classes=4):
    X, y = make_classification(n_samples=240, n_features=20, n_informative=10, n_classes=n_classes,
                               random_state=0)
    return X.astype(np.float32), np.array(["angry", "happy", "neutral", "sad"])[y]


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_zoo_is_sklearn_compatible_with_probabilities(name):
    X, y = data()
    model = make_classifier(name).fit(X[:200], y[:200])
    proba = model.predict_proba(X[200:])
    assert proba.shape == (40, 4) and np.allclose(proba.sum(axis=1), 1)
    assert list(model.classes_) == ["angry", "happy", "neutral", "sad"]
    assert (model.predict(X[200:]) == y[200:]).mean() > 0.4


def test_restrict_proba_renormalises_over_the_subset():
    proba, labels = restrict_proba(np.array([[0.1, 0.2, 0.3, 0.4]]), ["a", "b", "c", "d"], ["d", "b"])
    assert labels == ["b", "d"] and np.allclose(proba, [[1 / 3, 2 / 3]])
    with pytest.raises(ValueError, match="does not know"):
        restrict_proba(proba, ["b", "d"], ["x"])


def test_speaker_folds_never_share_a_speaker():
    speakers = [f"ravdess-{i % 24:02d}" for i in range(240)]
    folds, protocol = speaker_folds(speakers, "ravdess")
    assert len(folds) == 6 and "speaker-independent" in protocol
    sets = [{speakers[i] for i in fold} for fold in folds]
    assert all(len(s) == 4 for s in sets) and not set.intersection(*sets[:2])
    assert sorted(np.concatenate(folds)) == list(range(240))
    folds, protocol = speaker_folds([f"s{i % 10}" for i in range(50)])
    assert len(folds) == 10 and "leave-one-speaker-out" in protocol


def test_ua_is_mean_recall_and_wa_is_accuracy():
    result = score(["a", "a", "a", "b"], ["a", "a", "b", "b"], ["a", "b"], "test")
    assert result.wa == 0.75 and result.ua == pytest.approx((2 / 3 + 1) / 2)
    assert result.confusion == [[2, 1], [0, 1]]


@pytest.mark.parametrize("kind", ["late_fusion", "svc"])
def test_bundle_round_trip_gives_identical_predictions(tmp_path, kind):
    X, y = data()
    model = (LateFusionClassifier(blocks=[(0, 10), (10, 20)], estimator=make_classifier("logreg"))
             if kind == "late_fusion" else make_classifier("svc"))
    model.fit(X, y)
    gender = make_classifier("logreg").fit(X, np.where(y == "sad", "male", "female"))
    bundle = ModelBundle(emotion_model=model, gender_model=gender, feature_set="egemaps", name="t",
                         metrics={"x": {"ua": 0.5}})
    save_bundle(bundle, tmp_path / "b")
    files = {p.name for p in (tmp_path / "b").iterdir()}
    assert "bundle.json" in files and not any(f.endswith((".pkl", ".joblib")) for f in files)
    loaded = load_bundle(tmp_path / "b")
    assert np.allclose(loaded.emotion_model.predict_proba(X), model.predict_proba(X), atol=1e-5)
    assert list(loaded.gender_model.predict(X)) == list(gender.predict(X))
    assert loaded.labels == bundle.labels and loaded.metrics == bundle.metrics


def test_unsafe_or_damaged_bundles_are_refused(tmp_path):
    import pickle

    import skops.io as sio

    X, y = data()
    bundle = ModelBundle(emotion_model=make_classifier("knn").fit(X, y), feature_set="egemaps")
    path = save_bundle(bundle, tmp_path / "b")
    # Replace the model with a file that would run code if it were unpickled.
    sio.dump({"payload": print}, path / "emotion.skops")
    with pytest.raises(BundleError, match="not allowed"):
        load_bundle(path)
    (path / "bundle.json").write_text("{not json")
    with pytest.raises(BundleError, match="damaged"):
        load_bundle(path)
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(tmp_path)
    assert pickle  # the format never needs it


def test_failed_save_keeps_the_old_bundle(tmp_path):
    X, y = data()
    good = ModelBundle(emotion_model=make_classifier("logreg").fit(X, y), feature_set="egemaps", name="good")
    save_bundle(good, tmp_path / "b")
    class Unsaveable:
        classes_ = ["x"]

        def __getstate__(self):
            raise RuntimeError("disk full")

    bad = ModelBundle(emotion_model=Unsaveable(), feature_set="egemaps", name="bad")
    with pytest.raises(Exception):
        save_bundle(bad, tmp_path / "b")
    assert load_bundle(tmp_path / "b").name == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["b"]


def frame_rows(seed: int = 0):
    """Clips of 2-8 four-value frames (zero rows after), then three utterance-level values."""
    rng = np.random.default_rng(seed)
    y = np.array(["angry", "sad", "happy"] * 30)
    direction = {"angry": 1.5, "sad": -1.5, "happy": 0.0}
    X = np.zeros((len(y), 8 * 4 + 3), np.float32)
    for i, label in enumerate(y):
        n = int(rng.integers(2, 9))
        X[i, : n * 4] = (rng.normal(size=(n, 4)) + direction[label] * np.array([1, -1, 0.5, 0])).ravel()
    X[:, 32:] = rng.normal(size=(len(y), 3))
    return X, y


def test_frame_classifier_averages_its_frames_and_ignores_padding():
    from ser.models import FrameClassifier

    X, y = frame_rows()
    model = FrameClassifier(width=4, C=1.0, step=1).fit(X[:, :32], y)
    assert (model.predict(X[:, :32]) == y).mean() > 0.9
    clip = X[0, :32].reshape(8, 4)
    frames = clip[np.any(clip != 0, axis=1)]
    expected = np.log(model.model_.predict_proba(frames)).mean(axis=0)
    expected -= np.logaddexp.reduce(expected)
    assert np.allclose(model.predict_log_proba(X[:1, :32])[0], expected, atol=1e-6)
    longer = np.zeros((1, 48), np.float32)
    longer[0, :32] = X[0, :32]  # the same clip with more padding
    assert np.allclose(FrameClassifier(width=4).fit(X[:, :32], y).predict_proba(X[:1, :32]),
                       FrameClassifier(width=4).fit(X[:, :32], y).predict_proba(longer))
    assert np.allclose(model.predict_proba(np.zeros((1, 32))), 1 / 3)  # no frames at all: no opinion
    with pytest.raises(ValueError, match="4-value frames"):
        model.predict(X[:, :30])


def test_a_late_fusion_with_a_frame_expert_survives_the_bundle_and_temperature(tmp_path):
    from ser.models import FrameClassifier, scale_logits, supports_temperature

    X, y = frame_rows()
    model = LateFusionClassifier(blocks=[(0, 32), (32, 35)], estimator=make_classifier("logreg"),
                                 frame_estimator=FrameClassifier(width=4, step=2), frame_blocks=(0,)).fit(X, y)
    assert [type(e).__name__ for e in model.estimators_] == ["FrameClassifier", "Pipeline"]
    assert supports_temperature(model)
    cooler = scale_logits(model, 0.5)
    assert (cooler.predict(X) == model.predict(X)).all()
    assert cooler.predict_proba(X).max(axis=1).mean() < model.predict_proba(X).max(axis=1).mean()
    logits = np.log(model.predict_proba(X))
    halved = np.exp(0.5 * logits) / np.exp(0.5 * logits).sum(axis=1, keepdims=True)
    assert np.allclose(cooler.predict_proba(X), halved, atol=1e-6)  # exactly a temperature of 2
    save_bundle(ModelBundle(emotion_model=cooler, feature_set="egemaps", name="frames"), tmp_path / "b")
    meta = (tmp_path / "b" / "bundle.json").read_text()
    assert '"kind": "frames"' in meta and '"width": 4' in meta
    loaded = load_bundle(tmp_path / "b")
    assert np.allclose(loaded.emotion_model.predict_proba(X), cooler.predict_proba(X), atol=1e-6)


def test_a_frame_classifier_never_lets_one_frame_veto_a_class():
    """Two classes, one frame far out: sigmoid rounds to exactly 1, log(1 - p) is -inf; ours stays finite."""
    from ser.models import FrameClassifier

    X, y = frame_rows()
    two = np.isin(y, ["angry", "sad"])
    model = FrameClassifier(width=4, C=1.0, step=1).fit(X[two, :32], y[two])
    far = np.zeros((1, 32), np.float32)
    far[0, :4], far[0, 4:8] = 200.0 * np.array([1, -1, 0.5, 0]), X[0, :4]
    assert np.all(np.isfinite(model.predict_log_proba(far)))
