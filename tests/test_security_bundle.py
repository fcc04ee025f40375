"""Bundles, model choice and bundle names under attack.

Hostile ``.skops`` schemas (a stdlib function re-exported under a
``sklearn.`` name, hidden in an otherwise working model), non-allow-listed
types and pickles; ``bundle.json`` files that name files outside the bundle or
break the schema; safetensors files that lie about their size; hostile bundle
names; remote callers naming server paths on every face; pushes without a
token; and a save killed with SIGKILL at every step.  Every "gadget" here
writes a marker file when it runs, so a test can tell whether code ran.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import DATASETS, EXAMPLES, ROOT
from ser.bundle import (SKOPS_ALLOWED_TYPES, BundleError, ModelBundle, check_bundle_name, list_bundles,
                        load_bundle, save_bundle)
from ser.models import CLASSIFIERS, make_classifier

DEFAULT_MODEL = ROOT / "assets" / "models" / "default"
CLIP = EXAMPLES / "calm_meeting.wav"
HOSTILE_NAMES = [".", "..", "", " ", "a/b", "a\\b", "/etc", "../x", ".hidden", "-x", "_x", "x" * 65, "x" * 5000,
                 "modèle", "名前", "a b", "x\n", "x\x00"]


# -- helpers ---------------------------------------------------------------------

def fitted(name: str = "knn", labels=("angry", "sad"), dims: int = 88, **params):
    """A zoo model fitted on seeded random features (88 = eGeMAPS' width)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, dims)).astype(np.float32)
    y = np.array([labels[i % len(labels)] for i in range(40)])
    X[:, 0] += 3 * (y == labels[0])
    return make_classifier(name, **params).fit(X, y), X


def saved(folder: Path, model_name: str = "knn", bundle_name: str = "victim", **kwargs) -> Path:
    model, _ = fitted(model_name, **kwargs)
    return save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name=bundle_name), folder / bundle_name)


def json_node(value) -> dict:
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def call_node(module: str, function: str, *args) -> dict:
    """A skops node that calls ``module.function(*args)`` when the file is loaded."""
    return {"__class__": function, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": [a if isinstance(a, dict) else json_node(a) for a in args]}}


def marker_gadget(marker: Path) -> dict:
    """subprocess.check_output, re-exported as sklearn.utils._testing.check_output, writing ``marker``."""
    command = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
               "content": [json_node(a) for a in (sys.executable, "-c", f"open({str(marker)!r}, 'w')")]}
    return call_node("sklearn.utils._testing", "check_output", command)


def as_root(node: dict):
    """A change that makes ``node`` the whole file (keeping the protocol fields)."""
    return lambda schema: {**node, "protocol": schema["protocol"], "_skops_version": schema["_skops_version"]}


def rewrite_schema(skops_file: Path, change) -> None:
    """Apply ``change(schema)`` to the schema.json of a skops zip, keeping its other members."""
    with zipfile.ZipFile(skops_file) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    schema = json.loads(members["schema.json"])
    members["schema.json"] = json.dumps(change(schema) or schema).encode()
    with zipfile.ZipFile(skops_file, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)


def add_attribute(schema: dict, name: str, node: dict) -> None:
    """Give the top-level estimator one more attribute (a key type and a value, as skops writes them)."""
    state = schema["content"]
    state["content"][name] = node
    state["key_types"]["content"].append({"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"})


def edit_meta(folder: Path, change) -> None:
    meta = json.loads((folder / "bundle.json").read_text())
    change(meta)
    (folder / "bundle.json").write_text(json.dumps(meta))


def linear_bundle(folder: Path, name: str = "linear", labels=("angry", "sad")) -> Path:
    model, _ = fitted("logreg", labels=labels)
    return save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name=name), folder / name)


def write_safetensors(path: Path, header: dict, data_bytes: int = 0, declared: int | None = None) -> None:
    """A safetensors file from a hand-written header; the data region is sparse (zeros, no disk)."""
    raw = json.dumps(header).encode()
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw) if declared is None else declared))
        f.write(raw)
        f.truncate(8 + len(raw) + data_bytes)


# -- skops: functions, stealth attributes, other types, pickles --------------------

def test_the_gadget_runs_under_a_prefix_allow_list(tmp_path):
    """The hostile file is live: skops runs it when every type merely starts with 'sklearn.'."""
    import skops.io as sio

    folder = saved(tmp_path)
    marker = tmp_path / "ran"
    rewrite_schema(folder / "emotion.skops", as_root(marker_gadget(marker)))
    untrusted = sio.get_untrusted_types(file=folder / "emotion.skops")
    assert untrusted == ["sklearn.utils._testing.check_output"]
    assert all(t.startswith(("sklearn.", "ser.models.")) for t in untrusted)  # the old rule's test
    sio.load(folder / "emotion.skops", trusted=untrusted)
    assert marker.exists()


def assert_gadget_refused(tmp_path: Path, change, match: str) -> None:
    """A saved bundle whose skops schema got ``change(marker)`` is refused, and the gadget never ran."""
    folder = saved(tmp_path)
    marker = tmp_path / "ran"
    rewrite_schema(folder / "emotion.skops", change(marker))
    with pytest.raises(BundleError, match=match):
        load_bundle(folder)
    assert not marker.exists()


def test_a_function_gadget_under_a_sklearn_name_is_refused(tmp_path):
    assert_gadget_refused(tmp_path, lambda marker: as_root(marker_gadget(marker)),
                          "sklearn.utils._testing.check_output|never contain")


def test_a_stealth_attribute_in_a_working_model_is_refused(tmp_path):
    assert_gadget_refused(tmp_path, lambda marker: lambda s: add_attribute(s, "_cache", marker_gadget(marker)),
                          "not allowed|never contain")


def test_a_file_deleting_gadget_is_refused(tmp_path):
    folder = saved(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    # os.remove, imported by sklearn.datasets._lfw as `remove`
    rewrite_schema(folder / "emotion.skops",
                   lambda s: add_attribute(s, "_x", call_node("sklearn.datasets._lfw", "remove", str(victim))))
    with pytest.raises(BundleError):
        load_bundle(folder)
    assert victim.read_text() == "keep me"


def test_a_class_that_is_not_on_the_exact_list_is_refused(tmp_path):
    """BallTree is a harmless scikit-learn class, but no bundle of ours holds one: not on the list."""
    folder = saved(tmp_path, algorithm="ball_tree")
    with pytest.raises(BundleError, match="not allowed: sklearn.neighbors._ball_tree.BallTree"):
        load_bundle(folder)


class _Gadget:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w')",)


def test_a_pickle_renamed_skops_is_refused_unread(tmp_path):
    folder = saved(tmp_path)
    marker = tmp_path / "ran"
    (folder / "emotion.skops").write_bytes(pickle.dumps(_Gadget(marker)))
    with pytest.raises(BundleError, match="emotion.skops is not a skops file"):
        load_bundle(folder)
    assert not marker.exists()


def test_a_zip_without_a_schema_is_not_a_skops_file(tmp_path):
    folder = saved(tmp_path)
    with zipfile.ZipFile(folder / "emotion.skops", "w") as z:
        z.writestr("data.pkl", b"\x80\x04N.")
    with pytest.raises(BundleError, match="not a skops file \\(no schema.json\\)"):
        load_bundle(folder)


def test_the_allow_list_is_exact_classes_only():
    import importlib

    for name in SKOPS_ALLOWED_TYPES:
        module, _, attribute = name.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), attribute), type), name
    assert not any(t.endswith(".") for t in SKOPS_ALLOWED_TYPES)


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_every_zoo_model_round_trips_under_the_exact_list(tmp_path, name):
    """The list holds what the zoo needs: each model saves, loads and predicts the same."""
    model, X = fitted(name, labels=("angry", "happy", "sad"), dims=6)
    loaded = load_bundle(save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name=name),
                                     tmp_path / name))
    np.testing.assert_allclose(loaded.emotion_model.predict_proba(X), model.predict_proba(X), atol=1e-6)


KERAS_SCRIPT = """
import sys
from pathlib import Path
import keras
import numpy as np
from safetensors.numpy import save_file
from ser.bundle import BundleError, load_bundle

folder, marker = Path(sys.argv[1]), sys.argv[2]
inputs = keras.Input((4, 3))
hook = f"lambda x: (open({marker!r}, 'w'), x)[1]"
outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(keras.layers.Lambda(eval(hook))(inputs)))
keras.Model(inputs, outputs).save(folder / "emotion.keras")
save_file({"emotion.mean": np.zeros(3, np.float32), "emotion.scale": np.ones(3, np.float32)},
          folder / "weights.safetensors")
Path(marker).unlink(missing_ok=True)  # building the network ran the lambda once; loading must not
try:
    load_bundle(folder)
    print("loaded")
except BundleError as error:
    print("refused", error)
"""


def test_keras_networks_load_in_safe_mode(tmp_path):
    """A .keras file with a Lambda layer (Python code) is refused, and the code never runs."""
    pytest.importorskip("keras")
    folder = tmp_path / "deep"
    folder.mkdir()
    (folder / "bundle.json").write_text(json.dumps({
        "format_version": 1, "name": "deep", "feature_set": "mfcc-seq", "labels": ["angry", "sad"],
        "models": {"emotion": {"kind": "keras", "file": "emotion.keras", "classes": ["angry", "sad"],
                               "params": {"architecture": "cnn1d", "frames": 4}}}}))
    marker = tmp_path / "ran"
    out = subprocess.run([sys.executable, "-c", KERAS_SCRIPT, str(folder), str(marker)], capture_output=True,
                         text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("refused") and "Lambda" in out.stdout, out.stdout
    assert not marker.exists()


# -- bundle.json: file names, schema, size -----------------------------------------

@pytest.mark.parametrize("how", ["relative", "absolute", "symlink"])
def test_spec_files_outside_the_bundle_are_refused(tmp_path, how):
    """A bundle naming another folder's (valid) model file must not load it."""
    outside = saved(tmp_path / "elsewhere")
    inside = saved(tmp_path / "models", bundle_name="inside")
    if how == "symlink":
        (inside / "emotion.skops").unlink()
        (inside / "emotion.skops").symlink_to(outside / "emotion.skops")
    else:
        target = "../../elsewhere/victim/emotion.skops" if how == "relative" else str(outside / "emotion.skops")
        (inside / "emotion.skops").unlink()
        edit_meta(inside, lambda m: m["models"]["emotion"].update(file=target))
    with pytest.raises(BundleError, match="outside the bundle folder|plain file name"):
        load_bundle(inside)


@pytest.mark.parametrize("file, kind", [("../../etc/passwd", "skops"), ("/etc/passwd", "skops"),
                                        ("/etc/passwd", "keras"), ("emotion.keras", "skops"),
                                        ("emotion.skops", "keras"), (".emotion.skops", "skops")])
def test_spec_file_names_must_be_plain_names_of_their_kind(tmp_path, file, kind):
    folder = saved(tmp_path)
    edit_meta(folder, lambda m: m["models"]["emotion"].update(file=file, kind=kind, classes=["angry", "sad"],
                                                               params={}))
    with pytest.raises(BundleError, match=f"plain file name ending in .{kind}"):
        load_bundle(folder)


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(models=[]), "models must be an object"),
    (lambda m: m.update(labels="angry"), "labels must be a list"),
    (lambda m: m.update(format_version="1"), "format"),
    (lambda m: m.update(feature_set="../../etc"), "Unknown feature set"),
    (lambda m: m["models"]["emotion"].update(kind="pickle"), "is not one of linear"),
    (lambda m: m["models"]["emotion"].update(classes=[1, 2]), "classes must be a list"),
    (lambda m: m["models"]["emotion"].update(params={"solver": "liblinear"}), "params may only hold"),
    (lambda m: m["models"].update(evil={"kind": "linear"}), "models must be an object with an emotion"),
    (lambda m: m.update(labels=["angry", "happy"]), "labels must be the emotion model's classes"),
])
def test_bundle_json_is_checked_against_its_schema(tmp_path, change, message):
    folder = linear_bundle(tmp_path)
    edit_meta(folder, change)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


@pytest.mark.parametrize("first, message", [([5, 2], "blocks\\[0\\]"), ([0, "x"], "blocks\\[0\\]"),
                                            (None, "as many blocks as experts")])
def test_late_fusion_blocks_are_checked(tmp_path, first, message):
    """The default model's blocks with the first one broken (or one block too few)."""
    folder = Path(shutil.copytree(DEFAULT_MODEL, tmp_path / "default"))

    def breaks(meta):
        blocks = meta["models"]["emotion"]["blocks"]
        meta["models"]["emotion"]["blocks"] = blocks[1:] if first is None else [first, *blocks[1:]]

    edit_meta(folder, breaks)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


def test_an_oversized_bundle_json_is_refused_unread(tmp_path):
    folder = linear_bundle(tmp_path)
    edit_meta(folder, lambda m: m["info"].update(padding="x" * 5_000_000))
    with pytest.raises(BundleError, match="bundle.json is 4.8 MB"):
        load_bundle(folder)


# -- safetensors: the header is checked before any tensor is read -------------------

def _rewrite_weights(folder: Path, change) -> None:
    from safetensors.numpy import load_file, save_file

    arrays = load_file(folder / "weights.safetensors")
    change(arrays)
    save_file(arrays, folder / "weights.safetensors")


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update({"emotion.coef": np.zeros((3, 88), np.float32)}), "emotion.coef has shape"),
    (lambda a: a.update({"emotion.mean": np.zeros(87, np.float32)}), "emotion.(mean|scale) has shape"),
    (lambda a: a.update({"emotion.scale": a["emotion.scale"].astype(np.float64)}), "float32"),
    (lambda a: a.update({"evil": np.zeros(1000, np.float32)}), "unexpected evil"),
    (lambda a: a.pop("emotion.intercept"), "missing emotion.intercept"),
])
def test_weights_that_do_not_match_the_spec_are_refused(tmp_path, change, message):
    folder = linear_bundle(tmp_path)
    _rewrite_weights(folder, change)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


def _linear_header(width: int) -> dict:
    return {"emotion.mean": {"dtype": "F32", "shape": [width], "data_offsets": [0, 4 * width]},
            "emotion.scale": {"dtype": "F32", "shape": [width], "data_offsets": [4 * width, 8 * width]},
            "emotion.coef": {"dtype": "F32", "shape": [1, width], "data_offsets": [8 * width, 12 * width]},
            "emotion.intercept": {"dtype": "F32", "shape": [1], "data_offsets": [12 * width, 12 * width + 4]}}


@pytest.mark.parametrize("header, data_bytes, declared, message", [
    (_linear_header(88), 100, 2**62, "declares a"),                        # header length beyond the file
    (_linear_header(88), 100, None, "header describes"),                   # offsets beyond the file's end
    ({**_linear_header(88), "emotion.coef": {"dtype": "F32", "shape": [1, 88], "data_offsets": [0, 352]}},
     12 * 88 + 4, None, "do not match its shape|overlap"),                 # two tensors on the same bytes
])
def test_lying_safetensors_headers_are_refused(tmp_path, header, data_bytes, declared, message):
    folder = linear_bundle(tmp_path)
    write_safetensors(folder / "weights.safetensors", header, data_bytes, declared)
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)


MEMORY_SCRIPT = """
import resource, sys, time
from ser.bundle import BundleError, load_bundle
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
try:
    load_bundle(sys.argv[1])
    outcome = "loaded"
except BundleError as error:
    outcome = str(error)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{(peak - start) / 1024:.0f} {time.perf_counter() - began:.2f} {outcome}")
"""


def test_a_3_gib_safetensors_fails_fast_in_little_memory(tmp_path):
    """The issue's case: 3 GiB of weights took 6 GB before failing.  Now: refused by its size, unread."""
    folder = linear_bundle(tmp_path)
    width = 3 * 2**30 // 12 + 1
    write_safetensors(folder / "weights.safetensors", _linear_header(width), 12 * width + 4)
    assert (folder / "weights.safetensors").stat().st_size > 3 * 2**30
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(folder)], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    grown_mb, seconds, outcome = out.stdout.split(" ", 2)
    assert "weights.safetensors is 3072.0 MB" in outcome
    assert float(grown_mb) < 300 and float(seconds) < 5, out.stdout


# -- names ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[repr(n)[:20] for n in HOSTILE_NAMES])
def test_hostile_bundle_names_are_refused(name):
    with pytest.raises(BundleError, match="not a valid bundle name"):
        check_bundle_name(name)


@pytest.mark.parametrize("name", ["a", "emodb-knn", "Model_2", "x" * 64])
def test_good_bundle_names_pass(name):
    assert check_bundle_name(name) == name


@pytest.mark.parametrize("name", [".", ".."])
def test_saving_as_dot_or_dotdot_keeps_every_model(tmp_path, name):
    models = tmp_path / "models"
    keep = saved(models, bundle_name="keep")
    model, _ = fitted()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(BundleError, match="not a valid bundle name|not a model bundle"):
        save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name="x"), Path(f"{models}/{name}"))
    assert load_bundle(keep).labels == ["angry", "sad"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # no debris


def test_saving_over_a_folder_that_is_not_a_bundle_is_refused(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    model, _ = fitted()
    with pytest.raises(BundleError, match="not a model bundle; refusing to replace it"):
        save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name="x"), folder)
    assert (folder / "thesis.tex").read_text() == "years of work"


def test_training_refuses_a_bad_name_before_any_work(tmp_path):
    from ser.workbench import run_training

    with pytest.raises(BundleError, match="not a valid bundle name"):
        run_training([(None, tmp_path / "no-such-corpus")], name=".", out=tmp_path / ".")


def test_cli_train_refuses_dot_before_reading_a_corpus(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ser", "train", "--name", ".", "--corpus",
                          f"custom={tmp_path / 'no-such-corpus'}"], capture_output=True, text=True, timeout=120,
                         cwd=ROOT)
    assert out.returncode == 2 and "'.' is not a valid bundle name" in out.stderr
    assert "Traceback" not in out.stderr


# -- the model-choice rule -----------------------------------------------------------

@pytest.fixture()
def models_dir(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL, folder / "mine")
    return folder


def outside_bundle(tmp_path) -> Path:
    """A valid bundle outside models/: the old UI loaded it from its path."""
    return Path(shutil.copytree(DEFAULT_MODEL, tmp_path / "planted"))


REMOTE_PATHS = ["/etc", "../models/mine", "/work/shared/datasets/ravdess", str(DATASETS / "ravdess"),
                str(DEFAULT_MODEL), "assets/models/default", "x" * 5000, "org/" + "x" * 5000, "é", "mine/",
                "./mine"]


@pytest.mark.parametrize("name", REMOTE_PATHS + ["studio/ser-default"], ids=lambda n: repr(n)[:24])
def test_choose_model_accepts_no_path_and_no_hub_by_default(models_dir, tmp_path, name):
    from ser.choice import choose_model

    with pytest.raises(BundleError) as caught:
        choose_model(name, models_dir=models_dir)
    assert str(tmp_path) not in str(caught.value) and len(str(caught.value)) < 300


def test_choose_model_accepts_the_default_bundles_and_allowed_repos(models_dir, tmp_path):
    from ser.choice import choose_model

    assert choose_model("default", models_dir=models_dir).kind == "default"
    assert choose_model("", models_dir=models_dir).kind == "default"
    assert choose_model("mine", models_dir=models_dir).path == models_dir / "mine"
    hub = choose_model("studio/ser-default", models_dir=models_dir, allow_hub=True,
                       hub_allowlist=["studio/ser-default"])
    assert (hub.kind, hub.name) == ("hub", "studio/ser-default")
    with pytest.raises(BundleError, match="not on this server's allow-list"):
        choose_model("studio/other", models_dir=models_dir, allow_hub=True, hub_allowlist=["studio/ser-default"])
    with pytest.raises(BundleError, match="no bundle named 'absent'"):
        choose_model("absent", models_dir=models_dir)
    planted = outside_bundle(tmp_path)
    (models_dir / "link").symlink_to(planted)
    with pytest.raises(BundleError):
        choose_model("link", models_dir=models_dir)


def test_allow_hub_models_option_is_checked():
    import server

    assert server.parse_args(["--allow-hub-models", "org/a, org/b"]).hub_models == ("org/a", "org/b")
    assert server.parse_args([]).hub_models == ()
    with pytest.raises(SystemExit):
        server.parse_args(["--allow-hub-models", "/etc/passwd"])


def make_hub_cache(root: Path, repo_id: str) -> Path:
    """A Hugging Face cache as huggingface_hub writes it: snapshot files are links into blobs/."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / commit).mkdir(parents=True)
    for i, path in enumerate(sorted(DEFAULT_MODEL.iterdir())):
        shutil.copy(path, repo / "blobs" / f"blob{i}")
        (repo / "snapshots" / commit / path.name).symlink_to(f"../../blobs/blob{i}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return repo / "snapshots" / commit


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    """The REST API with a one-line UI, bundles in a temporary models/ and one allowed Hub repo."""
    import gradio as gr
    from fastapi.testclient import TestClient

    from ser.choice import ModelPolicy
    from server import Settings, create_app

    root = tmp_path_factory.mktemp("rest")
    shutil.copytree(DEFAULT_MODEL, root / "models" / "mine")
    make_hub_cache(root / "hub", "studio/ser-default")
    with gr.Blocks() as ui:
        gr.Markdown("test")
    policy = ModelPolicy(models_dir=root / "models", hub_models=("studio/ser-default",))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_CACHE", str(root / "hub"))
        patch.setenv("HF_HUB_OFFLINE", "1")
        with TestClient(create_app(Settings(models=policy), ui=ui)) as client:
            yield client


@pytest.mark.parametrize("endpoint", ["recognize", "timeline"])
@pytest.mark.parametrize("model", REMOTE_PATHS + ["planted", "studio/other"], ids=lambda n: repr(n)[:24])
def test_rest_endpoints_refuse_paths_with_a_clean_422(rest, tmp_path, endpoint, model):
    def error(model):
        response = rest.post(f"/api/v1/{endpoint}", files={"file": ("a.wav", CLIP.read_bytes(), "audio/wav")},
                             data={"model": model, "with_text": "false"})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()["error"]

    if model == "planted":  # a real bundle outside models/: the same answer as for a missing path
        planted, absent = str(outside_bundle(tmp_path)), str(tmp_path / "absent")
        assert error(planted).replace(planted, "M") == error(absent).replace(absent, "M")
    else:
        assert "Traceback" not in error(model)


@pytest.mark.parametrize("model", ["default", "mine", "studio/ser-default"])
def test_rest_endpoints_take_the_allowed_models(rest, model):
    response = rest.post("/api/v1/recognize", files={"file": ("a.wav", CLIP.read_bytes(), "audio/wav")},
                         data={"model": model})
    assert response.status_code == 200, response.text
    assert response.json()["emotion"] in response.json()["probabilities"]


# -- the Gradio API of the real app ------------------------------------------------------

def gradio_error(app_url: str, api_name: str, *args, **kwargs) -> str:
    """The error message a Gradio endpoint answers (the test fails if it succeeds)."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(app_url, verbose=False)
    try:
        with pytest.raises(AppError) as caught:
            client.predict(*args, api_name=api_name, **kwargs)
    finally:
        client.close()  # its heartbeat stream would hold the server's shutdown open
    return str(caught.value)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return Path(shutil.copytree(DEFAULT_MODEL, tmp_path_factory.mktemp("outside") / "planted"))


@pytest.mark.parametrize("model", ["/etc", "../models/x", "/work/shared/datasets/ravdess", "planted", "x" * 5000,
                                   "studio/ser-default"], ids=lambda n: repr(n)[:24])
def test_the_recognize_and_timeline_tabs_refuse_server_paths(app_url, planted, model):
    from gradio_client import handle_file

    model = str(planted) if model == "planted" else model
    for api_name, args in (("/recognize", (handle_file(str(CLIP)), ["sad", "happy"], model)),
                           ("/timeline", (handle_file(str(CLIP)), False, ["sad", "happy"], model)),
                           ("/model_labels", (model,)), ("/emotion_subset", ("all", model))):
        message = gradio_error(app_url, api_name, *args)
        assert "Unknown model" in message or "not enabled" in message or "characters long" in message, \
            (api_name, message)


@pytest.fixture()
def hostile_bundle_in_models(tmp_path):
    """A bundle in the app's models/ whose loading would write a marker file."""
    name = f"sec-gadget-{os.getpid()}-{time.monotonic_ns()}"
    folder = saved(ROOT / "models", bundle_name=name)
    marker = tmp_path / "loaded"
    rewrite_schema(folder / "emotion.skops", lambda s: add_attribute(s, "_x", marker_gadget(marker)))
    yield folder, marker
    shutil.rmtree(folder, ignore_errors=True)


def test_push_without_a_token_loads_nothing(hostile_bundle_in_models):
    from ser.sharing import push_bundle

    folder, marker = hostile_bundle_in_models
    with pytest.raises(ValueError, match="needs a write token"):
        push_bundle(folder, "me/x", token=None)
    with pytest.raises(ValueError, match="needs a write token"):
        push_bundle(folder, "me/x", token="  ")
    assert not marker.exists()


def test_the_push_endpoint_checks_token_and_name_before_loading(app_url, hostile_bundle_in_models):
    folder, marker = hostile_bundle_in_models
    for bundle in (folder.name, f"models/{folder.name}", str(folder)):
        message = gradio_error(app_url, "/push_bundle", bundle, "me/x", "")
        assert "needs a write token" in message, message
    for bundle in (f"models/{folder.name}", str(folder), "../etc", "x" * 5000):
        message = gradio_error(app_url, "/push_bundle", bundle, "me/x", "hf_fake")
        assert "not a valid bundle name" in message, message
    assert not marker.exists()


def test_the_pull_endpoint_is_off_unless_the_operator_allows_hub_models(app_url):
    assert "not enabled on this server" in gradio_error(app_url, "/pull_bundle", "studio/ser-default")


def test_the_train_tab_refuses_dot_before_any_work(app_url, tmp_path):
    from gradio_client import Client

    values = {"folder": str(tmp_path / "no-such-corpus"), "upload": None, "emotions": [], "features": "egemaps",
              "models": ["knn"], "search": "none", "epochs": 2, "speaker_pattern": ""}
    client = Client(app_url, verbose=False)
    info = client.view_api(print_info=False, return_format="dict")
    client.close()
    names = [p["parameter_name"] for p in info["named_endpoints"]["/train"]["parameters"]]
    for name in (".", "..", "a/b", "x" * 5000):
        arguments = {n: name if n == "name" else values[n] for n in names}
        message = gradio_error(app_url, "/train", **arguments)
        assert "not a valid bundle name" in message, message


# -- kill -9 in the middle of a save ---------------------------------------------------------

KILL_SCRIPT = """
import os, shutil, sys, time
from pathlib import Path
import numpy as np
import safetensors.numpy
from ser.bundle import ModelBundle, save_bundle
from ser.models import make_classifier

target, step, nth = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
calls = [0]

def pausing(original):
    def wrapper(*args, **kwargs):
        calls[0] += 1
        if calls[0] == nth:
            Path(sys.argv[4]).write_text("paused")
            time.sleep(120)
        return original(*args, **kwargs)
    return wrapper

if step == "write":
    safetensors.numpy.save_file = pausing(safetensors.numpy.save_file)
elif step == "replace":
    os.replace = pausing(os.replace)
elif step == "rmtree":
    shutil.rmtree = pausing(shutil.rmtree)
rng = np.random.default_rng(1)
X, y = rng.normal(size=(30, 88)), np.array(["angry", "happy", "sad"] * 10)
model = make_classifier("knn").fit(X, y)
save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name="x"), target)
"""


@pytest.mark.parametrize("first_save", [False, True], ids=["replacing", "first"])
@pytest.mark.parametrize("step, nth", [("write", 1), ("replace", 1), ("replace", 2), ("rmtree", 1)])
def test_a_save_killed_at_any_step_leaves_a_loadable_bundle(tmp_path, step, nth, first_save):
    models = tmp_path / "models"
    models.mkdir()
    if not first_save:
        saved(models, bundle_name="x")
    elif (step, nth) in (("replace", 2), ("rmtree", 1)):
        pytest.skip("a first save renames once and deletes nothing")
    paused = tmp_path / "paused"
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(models / "x"), step, str(nth), str(paused)],
                             cwd=ROOT, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not paused.exists():
        assert child.poll() is None, child.stderr.read().decode()[-2000:]
        assert time.time() < deadline, "the save never reached the step"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    if (step, nth) == ("replace", 2):
        assert not (models / "x").exists()  # the kill fell between the renames
    if first_save and step == "write":
        assert "x" not in list_bundles(models)  # nothing complete to restore
        return
    # Until the new bundle is renamed into place, the old one is the bundle; after, the new one.
    new = first_save or step == "rmtree"
    assert load_bundle(models / "x").labels == (["angry", "happy", "sad"] if new else ["angry", "sad"])
    assert list_bundles(models) == ["x"]
    assert sorted(p.name for p in models.iterdir()) == ["x"]


@pytest.mark.parametrize("change, message", [
    (lambda e: e.update(width=5), "whole frames of 5 values"),
    (lambda e: e.update(width=True), "width must be a whole number"),
    (lambda e: e.update(step=0), "step must be a whole number"),
    (lambda e: e.update(scale=-1.0), "scale must be a positive number"),
    (lambda e: e.update(kind="keras"), "must be a linear or frame model"),
    (lambda e: e.update(params={"C": 0.01, "verbose": 1}), "params may only hold"),
])
def test_a_frame_expert_is_checked_before_its_arrays_are_read(tmp_path, change, message):
    from ser.models import FrameClassifier, LateFusionClassifier, make_classifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 8 * 4 + 3)), np.array(["angry", "sad"] * 20)
    model = LateFusionClassifier(blocks=[(0, 32), (32, 35)], estimator=make_classifier("logreg"),
                                 frame_estimator=FrameClassifier(width=4), frame_blocks=(0,)).fit(X, y)
    folder = save_bundle(ModelBundle(emotion_model=model, feature_set="egemaps", name="frames"), tmp_path / "f")
    assert load_bundle(folder).emotion_model.estimators_[0].width == 4
    edit_meta(folder, lambda m: change(m["models"]["emotion"]["experts"][0]))
    with pytest.raises(BundleError, match=message):
        load_bundle(folder)
