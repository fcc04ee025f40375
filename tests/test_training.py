"""Training and evaluation on real corpora: the CLI, bundles, and the default recipe."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ser.bundle import load_bundle
from ser.training import DEFAULT_FEATURES, default_estimator, evaluate_corpus, load_dataset, train_bundle


@pytest.fixture(scope="module")
def emodb_small(emodb):
    """Four EMO-DB speakers, three emotions: a quick real dataset."""
    items = [p for p in sorted(emodb.glob("*.flac")) if p.name[:2] in {"03", "08", "09", "10"}
             and p.name[5] in "WNT"]
    return items


def test_cli_evaluate_json_is_speaker_independent(emodb, tmp_path, emodb_small):
    folder = tmp_path / "emodb"
    folder.mkdir()
    for path in emodb_small:
        (folder / path.name).symlink_to(path)
    out = subprocess.run([sys.executable, "-m", "ser", "evaluate", "--corpus", f"emodb={folder}",
                          "--features", "egemaps", "--model", "logreg", "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)["emodb"]
    assert "leave-one-speaker-out (4 folds)" in result["protocol"]
    assert set(result["recall"]) == {"angry", "neutral", "sad"}
    assert result["ua"] > 0.6  # three well-separated emotions; chance is 0.33


def test_random_split_is_labelled(emodb, emodb_small):
    from ser.corpora import parse_emodb
    from ser.models import make_classifier

    data = load_dataset([parse_emodb(p) for p in emodb_small], "egemaps")
    result = evaluate_corpus(make_classifier("logreg"), data, "emodb", random_split=True)
    assert "speakers leak" in result.protocol and "random" in result.protocol


def test_train_save_load_same_predictions(emodb, emodb_small, tmp_path):
    from ser.bundle import save_bundle
    from ser.corpora import parse_emodb

    data = load_dataset([parse_emodb(p) for p in emodb_small], "whisper-tiny+egemaps")
    bundle = train_bundle(data, name="small")
    assert bundle.metrics["emodb"]["ua"] > 0.6 and bundle.gender_model is not None
    loaded = load_bundle(save_bundle(bundle, tmp_path / "small"))
    assert np.allclose(loaded.emotion_model.predict_proba(data.X),
                       bundle.emotion_model.predict_proba(data.X), atol=1e-5)
    assert "Speaker-independent results" in loaded.card


@pytest.mark.slow
def test_default_recipe_meets_the_targets(ravdess, emodb):
    """The bundled model's recipe, re-run from audio: RAVDESS UA >= 0.72, EMO-DB UA >= 0.80."""
    data = load_dataset([("ravdess", ravdess), ("emodb", emodb)], DEFAULT_FEATURES)
    scores = {c: evaluate_corpus(default_estimator(), data, c).ua for c in ("ravdess", "emodb")}
    assert scores["ravdess"] >= 0.72, scores
    assert scores["emodb"] >= 0.80, scores
