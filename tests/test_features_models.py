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
