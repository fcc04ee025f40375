"""The training workbench: zip safety, search, comparison, cancel, bundles, Hub sharing, CLI."""

import shutil
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest
from scipy.io import wavfile

from ser.bundle import BundleError, load_bundle, save_bundle
from ser.hub import HubUnavailable
from ser.models import make_classifier
from ser.training import load_dataset, train_bundle
from ser.workbench import Cancelled, UploadError, ZipLimits, import_zip, run_training, unpack_upload

RATE = 16000


def tone(emotion: str, speaker: int, take: int) -> np.ndarray:
    """Project-made 'speech': angry is loud, high and buzzy; sad is quiet, low and smooth."""
    rng = np.random.default_rng(100 * speaker + take)
    t = np.arange(RATE) / RATE
    f0 = (220 if emotion == "angry" else 110) * (1 + 0.05 * speaker) * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    harmonics = 8 if emotion == "angry" else 2
    wave = sum(np.sin(k * phase) / k for k in range(1, harmonics + 1))
    gain = 0.5 if emotion == "angry" else 0.1
    return (gain * wave / harmonics ** 0.5 + 0.01 * rng.standard_normal(RATE)).astype(np.float32)


def tone_zip(folder, speakers=(3, 8, 10), takes: int = 2):
    """A zip of EMO-DB-named tone clips (angry and sad) as a user would upload to Train."""
    import zipfile

    from scipy.io import wavfile

    archive = folder / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for speaker in speakers:
            for emotion, code in (("angry", "W"), ("sad", "T")):
                for take in range(takes):
                    clip = folder / f"{speaker:02d}a0{take}{code}a.wav"
                    wavfile.write(clip, RATE, tone(emotion, speaker, take))
                    z.write(clip, clip.name)
    return archive


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """EMO-DB-named clips: 4 speakers x 2 emotions x 3 takes, plus an unlabelled clip."""
    folder = tmp_path_factory.mktemp("labelled")
    for speaker in (3, 8, 10, 11):
        for emotion, code in (("angry", "W"), ("sad", "T")):
            for take in range(3):
                wavfile.write(folder / f"{speaker:02d}a0{take}{code}a.wav", RATE, tone(emotion, speaker, take))
    wavfile.write(folder / "mystery.wav", RATE, tone("sad", 1, 1))
    return folder


@pytest.fixture(scope="module")
def labelled_zip(labelled, tmp_path_factory):
    archive = tmp_path_factory.mktemp("zip") / "clips.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(labelled.glob("*.wav")):
            z.write(path, f"clips/{path.name}")
        z.writestr("clips/notes.txt", "recorded in the kitchen")
    return archive


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["../evil.wav", "a/../../evil.wav", "/etc/evil.wav", "C:/evil.wav",
                                  "..\\evil.wav"])
def test_zip_slip_entries_are_refused(tmp_path, name):
    archive = make_zip(tmp_path / "bad.zip", {"ok.wav": b"RIFF", name: b"RIFF"})
    with pytest.raises(UploadError, match="outside"):
        import_zip(archive, tmp_path / "out")
    assert not (tmp_path / "evil.wav").exists() and not (tmp_path / "out" / "ok.wav").exists()


def test_limits_and_corrupt_uploads(tmp_path):
    many = make_zip(tmp_path / "many.zip", {f"{i}_angry.wav": b"RIFF" for i in range(5)})
    with pytest.raises(UploadError, match="limit is 3"):
        import_zip(many, tmp_path / "a", limits=ZipLimits(max_files=3))
    with pytest.raises(UploadError, match="MB"):
        import_zip(many, tmp_path / "b", limits=ZipLimits(max_bytes=10))
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big_angry.wav", b"\0" * 5_000_000)
    with pytest.raises(UploadError, match="zip bomb"):
        import_zip(bomb, tmp_path / "c")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"this is not a zip" * 100)
    with pytest.raises(UploadError, match="not a readable zip"):
        unpack_upload(garbage)
    text_only = make_zip(tmp_path / "text.zip", {"readme.txt": "hi"})
    with pytest.raises(UploadError, match="no audio"):
        import_zip(text_only, tmp_path / "d")


def test_workbench_end_to_end_from_a_zip(labelled_zip, tmp_path):
    upload = unpack_upload(labelled_zip)
    try:
        steps = []
        report = run_training([(None, upload.folder)], models=["logreg", "knn"], features="egemaps",
                              search="grid", name="kitchen", out=tmp_path / "kitchen",
                              skipped=upload.skipped, progress=lambda f, m: steps.append((f, m)))
    finally:
        shutil.rmtree(upload.folder)
    assert [r.name for r in report.results] == ["logreg", "knn"]
    assert report.best in {"logreg", "knn"} and report.results[0].search.candidates
    assert max(r.ua for r in report.results) >= 0.9  # the two "emotions" are easy to tell apart
    assert any("notes.txt" in s for s in report.skipped) and any("mystery.wav" in s for s in report.skipped)
    assert "leave-one-speaker-out (4 folds)" in report.summary()
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    bundle = load_bundle(report.bundle_path)
    assert bundle.name == "kitchen" and bundle.labels == ["angry", "sad"]
    assert bundle.metrics["emodb"]["ua"] == pytest.approx(max(r.ua for r in report.results))
    assert "Speaker-independent results" in (report.bundle_path / "README.md").read_text()


def test_cancel_leaves_the_existing_bundle_untouched(labelled, tmp_path):
    out = tmp_path / "model"
    run_training([(None, labelled)], models=["logreg"], features="egemaps", out=out)
    before = (out / "bundle.json").read_bytes()
    cancel = threading.Event()

    def progress(fraction, message):
        if fraction > 0.5:
            cancel.set()

    with pytest.raises(Cancelled):
        run_training([(None, labelled)], models=["logreg", "knn"], features="egemaps", out=out,
                     cancel=cancel, progress=progress)
    assert (out / "bundle.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temp folders left


@pytest.mark.parametrize("model", ["svc", "random_forest", "logreg"])
def test_bundle_round_trip_gives_the_same_predictions(labelled, tmp_path, model):
    data = load_dataset([(None, labelled)], "egemaps")
    bundle = train_bundle(data, make_classifier(model), name=model, evaluate=False)
    loaded = load_bundle(save_bundle(bundle, tmp_path / model))
    np.testing.assert_allclose(loaded.emotion_model.predict_proba(data.X),
                               bundle.emotion_model.predict_proba(data.X), atol=1e-5)


def test_cli_trains_several_models_from_a_zip(labelled_zip, tmp_path):
    out = tmp_path / "cli"
    result = subprocess.run([sys.executable, "-m", "ser", "train", "--zip", str(labelled_zip), "--features",
                             "egemaps", "--model", "logreg,decision_tree", "--search", "random", "--n-iter", "2",
                             "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "| logreg" in result.stdout and "| decision_tree" in result.stdout and "notes.txt" in result.stdout
    assert load_bundle(out).labels == ["angry", "sad"]


# -- Hub sharing ---------------------------------------------------------------

@pytest.fixture(scope="module")
def small_bundle(labelled, tmp_path_factory):
    data = load_dataset([(None, labelled)], "egemaps")
    return save_bundle(train_bundle(data, make_classifier("logreg"), name="small", evaluate=False),
                       tmp_path_factory.mktemp("bundles") / "small")


def test_pull_from_a_local_hub_cache_offline(small_bundle, tmp_path):
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--studio--small"
    shutil.copytree(small_bundle, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    script = "from ser.sharing import pull_bundle; print(pull_bundle('studio/small'))"
    env = {**__import__("os").environ, "HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert commit in out.stdout
    missing = subprocess.run([sys.executable, "-c", script.replace("studio/small", "studio/absent")],
                             capture_output=True, text=True, env=env, timeout=60)
    assert missing.returncode != 0 and "not in the local Hugging Face cache" in missing.stderr


def test_push_offline_fails_fast(small_bundle, monkeypatch):
    from ser import hub, sharing

    monkeypatch.setattr(sharing, "hub_offline", lambda: True)
    start = time.perf_counter()
    with pytest.raises(HubUnavailable, match="offline"):
        sharing.push_bundle(small_bundle, "me/small", token="hf_test")
    assert time.perf_counter() - start < 2
    assert hub.hub_offline is not None


def test_push_uploads_only_safe_files(small_bundle, tmp_path, monkeypatch):
    import huggingface_hub

    from ser import sharing

    calls = {}

    class FakeApi:
        def __init__(self, token):
            calls["token"] = token

        def whoami(self):
            return {"name": "me"}

        def create_repo(self, repo_id, **kwargs):
            calls["repo"] = repo_id

        def upload_folder(self, repo_id, folder_path, allow_patterns, commit_message):
            calls["files"] = sorted(p.name for p in __import__("pathlib").Path(folder_path).iterdir())
            calls["patterns"] = allow_patterns
            return f"https://huggingface.co/{repo_id}/commit/abc"

    monkeypatch.setattr(sharing, "hub_offline", lambda: False)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    url = sharing.push_bundle(small_bundle, "me/small", token="hf_test")
    assert url.endswith("/commit/abc") and calls["repo"] == "me/small" and calls["token"] == "hf_test"
    assert "README.md" in calls["files"] and "*.keras" in calls["patterns"]
    unsafe = tmp_path / "unsafe"
    shutil.copytree(small_bundle, unsafe)
    (unsafe / "extra.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(BundleError, match="extra.pkl"):
        sharing.push_bundle(unsafe, "me/small", token="hf_test")
