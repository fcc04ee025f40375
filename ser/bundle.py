"""Model bundles: a folder with the models, label set, feature config and card.

A bundle never holds pickles.  Linear models (and late fusions of them) are
stored as plain arrays in ``weights.safetensors`` beside ``bundle.json``;
any other zoo model is stored with ``skops``, and loaded only if every type in
the file is on an allow-list of scikit-learn and NumPy classes, so loading a
bundle from the Hub cannot run code.

Layout::

    bundle.json          name, feature_set, labels, metrics, model specs
    weights.safetensors  arrays of the linear models
    <role>.skops         non-linear models (optional)
    <role>.keras         deep networks, Keras native format, loaded in safe mode
    README.md            model card
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .models import LateFusionClassifier

FORMAT_VERSION = 1
WEIGHTS = "weights.safetensors"
# Types beyond skops' own safe defaults that a .skops file may contain: scikit-learn
# classes and our estimators.  Anything else (functions such as builtins.eval,
# other packages' classes) is refused before loading.
SKOPS_ALLOWED_PREFIXES = ("sklearn.", "ser.models.")


class BundleError(RuntimeError):
    """A bundle is missing, damaged, unsafe or incompatible; the message says which."""


@dataclass
class ModelBundle:
    """Everything the recognizer needs: models, labels, features, provenance."""

    emotion_model: object
    feature_set: str
    gender_model: object | None = None
    name: str = "model"
    metrics: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    card: str = ""
    path: Path | None = None

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.emotion_model.classes_]


# -- linear models as plain arrays -------------------------------------------

def _is_linear(model) -> bool:
    return (isinstance(model, Pipeline) and len(model.steps) == 2
            and isinstance(model.steps[0][1], StandardScaler)
            and isinstance(model.steps[1][1], LogisticRegression))


def _encode(model, prefix: str, arrays: dict) -> dict | None:
    if _is_linear(model):
        scaler, clf = model.steps[0][1], model.steps[1][1]
        arrays.update({f"{prefix}.mean": scaler.mean_, f"{prefix}.scale": scaler.scale_,
                       f"{prefix}.coef": clf.coef_, f"{prefix}.intercept": clf.intercept_})
        return {"kind": "linear", "classes": [str(c) for c in clf.classes_],
                "params": {"C": clf.C}}
    if isinstance(model, LateFusionClassifier):
        experts = [_encode(m, f"{prefix}.{i}", arrays) for i, m in enumerate(model.estimators_)]
        if all(experts):
            return {"kind": "late_fusion", "blocks": [list(b) for b in model.blocks], "experts": experts}
    return None


def _decode(spec: dict, prefix: str, arrays: dict):
    if spec["kind"] == "linear":
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = arrays[f"{prefix}.mean"], arrays[f"{prefix}.scale"]
        scaler.var_ = scaler.scale_ ** 2
        scaler.n_features_in_ = scaler.mean_.shape[0]
        scaler.n_samples_seen_ = 1
        clf = LogisticRegression(**spec.get("params", {}))
        clf.coef_, clf.intercept_ = arrays[f"{prefix}.coef"], arrays[f"{prefix}.intercept"]
        clf.classes_ = np.array(spec["classes"])
        clf.n_features_in_ = clf.coef_.shape[1]
        return Pipeline([("scale", scaler), ("clf", clf)])
    if spec["kind"] == "late_fusion":
        model = LateFusionClassifier(blocks=[tuple(b) for b in spec["blocks"]])
        model.estimators_ = [_decode(s, f"{prefix}.{i}", arrays) for i, s in enumerate(spec["experts"])]
        model.classes_ = model.estimators_[0].classes_
        return model
    raise BundleError(f"Unknown model kind {spec['kind']!r} in bundle.")


# -- skops for the rest of the zoo ---------------------------------------------

def _save_skops(model, path: Path) -> None:
    import skops.io as sio

    sio.dump(model, path)


def _load_skops(path: Path):
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    refused = [t for t in untrusted if not t.startswith(SKOPS_ALLOWED_PREFIXES)]
    if refused:
        raise BundleError(f"{path.name} contains types that are not allowed: {', '.join(refused)}.")
    return sio.load(path, trusted=untrusted)


# -- Keras networks in their native format -------------------------------------

def _save_keras(model, role: str, folder: Path, arrays: dict) -> dict | None:
    if type(model).__module__ != "ser.deep":
        return None
    model.save_network(folder / f"{role}.keras")
    arrays.update({f"{role}.mean": model.mean_, f"{role}.scale": model.scale_})
    return {"kind": "keras", "file": f"{role}.keras", "classes": [str(c) for c in model.classes_],
            "params": model.get_params(), "history": model.history_}


def _load_keras(path: Path, spec: dict, role: str, arrays: dict):
    from .deep import KerasSequenceClassifier

    return KerasSequenceClassifier.from_saved(path / spec["file"], spec["params"], spec["classes"],
                                              arrays[f"{role}.mean"], arrays[f"{role}.scale"], spec.get("history"))


# -- bundle folder ----------------------------------------------------------

def save_bundle(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` to the folder ``path`` atomically (temp folder, then rename).

    An interrupted save never damages a bundle already at ``path``.
    """
    from safetensors.numpy import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        arrays: dict[str, np.ndarray] = {}
        specs = {}
        for role, model in (("emotion", bundle.emotion_model), ("gender", bundle.gender_model)):
            if model is None:
                continue
            spec = _encode(model, role, arrays) or _save_keras(model, role, tmp, arrays)
            if spec is None:
                _save_skops(model, tmp / f"{role}.skops")
                spec = {"kind": "skops", "file": f"{role}.skops"}
            specs[role] = spec
        save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}, tmp / WEIGHTS)
        meta = {"format_version": FORMAT_VERSION, "name": bundle.name, "feature_set": bundle.feature_set,
                "labels": bundle.labels, "models": specs, "metrics": bundle.metrics, "info": bundle.info}
        (tmp / "bundle.json").write_text(json.dumps(meta, indent=1))
        (tmp / "README.md").write_text(bundle.card or f"# {bundle.name}\n")
        # mkdtemp makes private folders; a bundle is meant to be shared.
        tmp.chmod(0o755)
        for item in tmp.iterdir():
            item.chmod(0o644)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / "bundle")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load_bundle(path: str | Path) -> ModelBundle:
    """Read a bundle folder written by :func:`save_bundle`."""
    from safetensors.numpy import load_file

    path = Path(path)
    meta_path = path / "bundle.json"
    if not meta_path.is_file():
        raise BundleError(f"{path} is not a model bundle (no bundle.json).")
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise BundleError(f"{path} has bundle format {meta.get('format_version')}; "
                              f"this version reads format {FORMAT_VERSION}.")
        arrays = load_file(path / WEIGHTS) if (path / WEIGHTS).is_file() else {}
        models = {}
        for role, spec in meta["models"].items():
            models[role] = (_load_skops(path / spec["file"]) if spec["kind"] == "skops"
                            else _load_keras(path, spec, role, arrays) if spec["kind"] == "keras"
                            else _decode(spec, role, arrays))
    except BundleError:
        raise
    except Exception as error:
        raise BundleError(f"The model bundle at {path} is damaged: {error}") from error
    card = path / "README.md"
    return ModelBundle(
        emotion_model=models["emotion"], gender_model=models.get("gender"),
        feature_set=meta["feature_set"], name=meta.get("name", path.name),
        metrics=meta.get("metrics", {}), info=meta.get("info", {}),
        card=card.read_text() if card.is_file() else "", path=path,
    )
