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


# Re-extracting both corpora cold took 16 of CI's 33 minutes.  The recipe is re-run on eight
# RAVDESS actors (EmoBox folds 1-2, statement 01: 240 clips) and four EMO-DB speakers (188 clips,
# the ones emodb_small uses), about 5 CPU-minutes cold.  Measured there: the default recipe
# UA 0.582 / 0.676 (the frame-level default of 597a100; the pooled one before it 0.633 / 0.618,
# deterministic: the same on every run; on RAVDESS it no longer beats Whisper tiny or base alone,
# below); one feature block alone with logistic regression 0.406 / 0.514 (eGeMAPS),
# 0.594 / 0.500 (Whisper tiny), 0.598 / 0.476 (Whisper base); shuffled labels 0.095 / 0.130.
# Floors for the full corpora are checked on the committed bundle's metrics (test_recognizer).
RECIPE_ACTORS = {f"ravdess-{a:02d}" for a in (1, 11, 20, 21, 4, 10, 12, 14)}
RECIPE_SPEAKERS = {"emodb-03", "emodb-08", "emodb-09", "emodb-10"}


@pytest.mark.slow
def test_default_recipe_on_a_subset_of_both_corpora(ravdess, emodb):
    """The bundled model's recipe, re-run from audio on a subset: UA >= 0.56 on both corpora."""
    from ser.corpora import read_corpus

    clips = [u for u in read_corpus(ravdess) if u.speaker in RECIPE_ACTORS and u.path.name.split("-")[4] == "01"]
    clips += [u for u in read_corpus(emodb) if u.speaker in RECIPE_SPEAKERS]
    data = load_dataset(clips, DEFAULT_FEATURES)
    scores = {c: evaluate_corpus(default_estimator(), data, c).ua for c in ("ravdess", "emodb")}
    assert scores["ravdess"] >= 0.56, scores
    assert scores["emodb"] >= 0.56, scores


RAVDESS_CODES = {"neutral": "01", "happy": "03", "sad": "04", "angry": "05"}


@pytest.fixture(scope="module")
def takes(ravdess, tmp_path_factory):
    """The custom layout a user zips: emotion folders of ``take_NNN.wav``, no speaker in any name.

    Ten RAVDESS clips per emotion (actors 1-10, one each, both statements),
    renamed so nothing but the folder says what they are.
    """
    folder = tmp_path_factory.mktemp("takes")
    number = 0
    for emotion, code in RAVDESS_CODES.items():
        (folder / emotion).mkdir()
        for actor in range(1, 11):
            source = ravdess / f"Actor_{actor:02d}" / f"03-01-{code}-01-{1 + actor % 2:02d}-01-{actor:02d}.flac"
            number += 1
            (folder / emotion / f"take_{number:03d}.wav").symlink_to(source)
    return folder


def test_unknown_speakers_get_an_honest_random_split(takes):
    """Today each file was its own "speaker" and sorted names made each fold one emotion: UA 0.150."""
    from ser.workbench import run_training

    report = run_training([(None, takes)], models=["logreg"], features="egemaps", search="grid")
    result = report.results[0]
    protocol = result.evaluations["custom"].protocol
    assert "random split" in protocol and "speakers unknown" in protocol, protocol
    assert "speaker-independent" not in report.summary()
    assert result.ua > 0.4, result.ua  # chance is 0.25; 0.500 measured (0.150 before)
    assert "speakers unknown" in result.search.protocol  # the search uses the same kind of folds
    assert abs(result.search.best_score - result.ua) < 0.2


def test_a_speaker_pattern_or_speakers_csv_gives_speaker_folds(takes, tmp_path):
    from ser.training import load_dataset

    with_csv = tmp_path / "with_csv"
    with_csv.mkdir()
    for path in takes.rglob("*.wav"):
        (with_csv / path.parent.name).mkdir(exist_ok=True)
        (with_csv / path.relative_to(takes)).symlink_to(path.resolve())
    rows = ["file,speaker"] + [f"{p.relative_to(takes).as_posix()},{p.resolve().name[-7:-5]}"
                               for p in sorted(takes.rglob("*.wav"))]
    (with_csv / "speakers.csv").write_text("\n".join(rows) + "\n")
    data = load_dataset([(None, with_csv)], "egemaps")
    assert len(set(data.speaker)) == 10
    result = evaluate_corpus(default_estimator("egemaps"), data, "custom")
    assert "speaker-independent" in result.protocol and "leave-one-speaker-out" in result.protocol

    named = tmp_path / "named"
    for path in sorted(takes.rglob("*.wav")):
        target = named / path.parent.name / f"spk{path.resolve().name[-7:-5]}_{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(path.resolve())
    data = load_dataset([(None, named)], "egemaps", speaker_pattern=r"spk(?P<speaker>\d+)_")
    assert sorted(set(data.speaker)) == sorted({f"custom-{a:02d}" for a in range(1, 11)})
    with pytest.raises(ValueError, match="named group"):
        load_dataset([(None, named)], "egemaps", speaker_pattern=r"spk(\d+)_")


def test_speakers_csv_in_an_uploaded_zip_is_kept_and_used(takes, tmp_path):
    import zipfile

    from ser.training import SPEAKERS_CSV
    from ser.workbench import unpack_upload

    archive = tmp_path / "takes.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(takes.rglob("*.wav")):
            z.write(path.resolve(), f"session/{path.relative_to(takes).as_posix()}")
        z.writestr(f"session/{SPEAKERS_CSV}", "file,speaker\n" + "".join(
            f"{p.relative_to(takes).as_posix()},actor{p.resolve().name[-7:-5]}\n" for p in sorted(takes.rglob("*.wav"))))
    upload = unpack_upload(archive)
    try:
        assert upload.audio_files == 40 and not any(SPEAKERS_CSV in s for s in upload.skipped)
        data = load_dataset([(None, upload.folder)], "egemaps")
    finally:
        upload.remove()
    assert sorted(set(data.speaker)) == [f"custom-actor{a:02d}" for a in range(1, 11)]
