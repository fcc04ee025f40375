"""Model bundles: a folder with the models, label set, feature config and card.

A bundle never holds pickles, and loading one runs no code from it.  Linear
models (and late fusions of them) are stored as plain arrays in
``weights.safetensors`` beside ``bundle.json``; any other zoo model is stored
with ``skops``, and loaded only if every type in the file is on an exact list
of the classes our zoo needs (:data:`SKOPS_ALLOWED_TYPES`); deep networks are
Keras' native format, loaded in safe mode.  Each of these is a model kind
(:data:`MODEL_KINDS`): a model is saved by the kind it declares
(``bundle_kind``, as :class:`ser.deep.KerasSequenceClassifier` does) or else
the first kind that accepts it, and loaded by the kind its spec names.
Before any tensor is read,
``bundle.json`` is checked against its schema, every file it names must be a
plain file name inside the bundle folder, and the safetensors header must
describe exactly the arrays the specs need, at sizes within bounds.

Layout::

    bundle.json          name, feature_set, labels, metrics, model specs
    weights.safetensors  arrays of the linear models
    <role>.skops         non-linear models (optional)
    <role>.keras         deep networks, Keras native format, loaded in safe mode
    README.md            model card

Saving swaps folders so that no crash loses the bundle already there: the new
bundle is written to ``.<name>.new-<id>``, the old one renamed to
``.<name>.old-<id>``, the new one renamed into place, the old one deleted.
When a crash left ``<name>`` missing, the next load (or listing) restores it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .errors import BadParameter
from .models import FrameClassifier, LateFusionClassifier

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
META = "bundle.json"
WEIGHTS = "weights.safetensors"
CARD = "README.md"
ROLES = ("emotion", "gender")
# Bundle names: also folder names under models/ and values a remote caller may send.
BUNDLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Files a spec may name: no separators, no leading dot (so no "..", no hidden files); each file
# kind also requires its own suffix (ModelKind.suffix).
SPEC_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.[a-z]{1,16}$")

# Size bounds, checked on the file's size before it is read.  The default
# bundle's bundle.json is 6 kB and its weights 107 kB; a random forest of 300
# trees on 60 clips is 7.7 MB of skops (about 100 MB on 2,000 clips).
MAX_META_BYTES = 4 * 2**20
MAX_WEIGHTS_BYTES = 256 * 2**20
MAX_HEADER_BYTES = 2**20
MAX_SKOPS_BYTES = 1024 * 2**20
MAX_SKOPS_MEMBERS = 200_000
MAX_SCHEMA_BYTES = 256 * 2**20
MAX_KERAS_BYTES = 512 * 2**20
MAX_CARD_BYTES = 2**20
MAX_LABELS = 64
MAX_FEATURES = 1_000_000

# The exact classes, beyond skops' own trusted defaults, that .skops files of
# our zoo contain: found by saving every model of ser.models.CLASSIFIERS (with
# the workbench's search spaces, 2 and 4 labels, 5/88/384 features) and a late
# fusion of KNN experts, and collecting skops.io.get_untrusted_types.  Exact
# names only: a prefix such as "sklearn." also admits functions scikit-learn
# re-exports from the standard library (sklearn.utils._testing.check_output is
# subprocess.check_output), which skops would call at load time.
SKOPS_ALLOWED_TYPES = frozenset({
    "ser.models.LateFusionClassifier",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.tree._tree.Tree",
})
# The skops node kinds those files use.  Calls, bound methods, partials,
# operator getters and bare functions never occur in our files, so a schema
# holding one is refused before skops builds anything.
SKOPS_LOADERS = frozenset({
    "CachedNode", "DictNode", "JsonNode", "ListNode", "LossNode", "NdArrayNode", "ObjectNode",
    "RandomStateNode", "TreeNode", "TupleNode", "TypeNode",
})
MAX_SCHEMA_DEPTH = 100


class BundleError(BadParameter, RuntimeError):
    """A bundle is missing, damaged, unsafe or incompatible; the message says which."""


def check_bundle_name(name: str) -> str:
    """``name`` if it is a valid bundle name, else :class:`BundleError`.

    A bundle name is 1-64 ASCII letters, digits, ``_`` or ``-``, starting with
    a letter or digit: a folder name under ``models/`` that cannot climb out
    of it (``.``, ``..``, ``a/b``) or hide (``.x``).

    Examples
    --------
    >>> check_bundle_name("emodb-knn")
    'emodb-knn'
    >>> check_bundle_name("..")
    Traceback (most recent call last):
    ...
    ser.bundle.BundleError: '..' is not a valid bundle name: use 1-64 letters, digits, '_' or '-', starting with a letter or digit.
    """
    if isinstance(name, str) and BUNDLE_NAME.fullmatch(name):
        return name
    shown = repr(name[:40] + "…") if isinstance(name, str) and len(name) > 40 else repr(name)
    raise BundleError(f"{shown} is not a valid bundle name: use 1-64 letters, digits, '_' or '-', "
                      "starting with a letter or digit.")


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


# -- bundle.json schema ---------------------------------------------------------

def _fail(message: str):
    raise BundleError(f"bundle.json is invalid: {message}.")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value) -> bool:
    """A JSON integer (``True`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_classes(value, where: str) -> list[str]:
    if (not isinstance(value, list) or not 2 <= len(value) <= MAX_LABELS
            or not all(isinstance(c, str) and 0 < len(c) <= 64 for c in value) or len(set(value)) != len(value)):
        _fail(f"{where} must be a list of 2-{MAX_LABELS} distinct names")
    return value


def _check_history(value, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or len(value) > 32 or not all(
            isinstance(k, str) and isinstance(v, list) and len(v) <= 10_000
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
            for k, v in value.items()):
        _fail(f"{where} must map metric names to lists of numbers")


def _keras_params() -> set[str]:
    from .deep import KerasSequenceClassifier

    return set(KerasSequenceClassifier().get_params())


def _check_spec(spec, where: str) -> None:
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
        _fail(f"{where} must be an object with a kind")
    kind = MODEL_KINDS.get(spec["kind"])
    if kind is None:
        _fail(f"{where}.kind {spec['kind'][:40]!r} is not one of {', '.join(MODEL_KINDS)}")
    kind.check(spec, where)


def check_meta(meta) -> dict:
    """Validate a parsed ``bundle.json``; returns it, or raises :class:`BundleError` naming the field."""
    from .features import parse_feature_set

    if not isinstance(meta, dict):
        _fail("the top level must be an object")
    version = meta.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise BundleError(f"The bundle has format {str(version)[:20]!r}; this version reads format {FORMAT_VERSION}.")
    for key in ("name", "feature_set"):
        if not isinstance(meta.get(key), str) or not 0 < len(meta[key]) <= 200:
            _fail(f"{key} must be a short string")
    try:
        parse_feature_set(meta["feature_set"])
    except ValueError as error:
        _fail(str(error).rstrip("."))
    labels = _check_classes(meta.get("labels"), "labels")
    models = meta.get("models")
    if not isinstance(models, dict) or "emotion" not in models or set(models) - set(ROLES):
        _fail("models must be an object with an emotion model (and optionally a gender model)")
    for role, spec in models.items():
        _check_spec(spec, f"models.{role}")
    classes = MODEL_KINDS[models["emotion"]["kind"]].classes(models["emotion"])
    if classes is not None and classes != labels:
        _fail("labels must be the emotion model's classes")
    for key in ("metrics", "info"):
        if not isinstance(meta.get(key, {}), dict):
            _fail(f"{key} must be an object")
    return meta


# -- files inside the bundle folder ----------------------------------------------

def _inside(folder: Path, name: str, confine: Path | None, limit: int, *, required: bool = True) -> Path | None:
    """``folder / name`` as a regular file within ``confine`` (default: the folder) and ``limit`` bytes."""
    path = folder / name
    if not path.exists() and not path.is_symlink():
        if required:
            raise BundleError(f"The bundle is incomplete: {name} is missing.")
        return None
    target = path.resolve()
    root = (confine or folder).resolve()
    if not target.is_relative_to(root) or (path.is_symlink() and confine is None):
        raise BundleError(f"Refused: {name} in the bundle points outside the bundle folder.")
    if not target.is_file():
        raise BundleError(f"The bundle is damaged: {name} is not a regular file.")
    size = target.stat().st_size
    if size > limit:
        raise BundleError(f"Refused: {name} is {size / 2**20:.1f} MB; a bundle's {name} may be at most "
                          f"{limit / 2**20:.0f} MB.")
    return target


def read_meta(folder: str | Path, confine: Path | None = None) -> dict:
    """The validated ``bundle.json`` of ``folder`` (size checked before it is read)."""
    path = _inside(Path(folder), META, confine, MAX_META_BYTES)
    try:
        meta = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:
        raise BundleError(f"The model bundle is damaged: bundle.json is not valid JSON ({str(error)[:100]}).") from None
    return check_meta(meta)


# -- safetensors, header first ----------------------------------------------------

def _expected_arrays(specs: dict) -> dict[str, tuple]:
    """Name -> shape of every array the specs need; ``"D:<prefix>"`` stands for a feature width."""
    expected = {}
    for role, spec in specs.items():
        expected.update(MODEL_KINDS[spec["kind"]].arrays(spec, role))
    return expected


def read_safetensors_header(path: Path) -> tuple[int, dict]:
    """``(header length, header)`` of a safetensors file, read without touching the tensors."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            raise BundleError(f"{path.name} is not a safetensors file (too short).")
        (length,) = struct.unpack("<Q", head)
        if length > min(MAX_HEADER_BYTES, size - 8):
            raise BundleError(f"Refused: {path.name} declares a {length}-byte header "
                              f"(the file is {size} bytes; at most {MAX_HEADER_BYTES} are allowed).")
        try:
            header = json.loads(handle.read(length))
        except (ValueError, RecursionError):
            raise BundleError(f"{path.name} has a damaged header.") from None
    if not isinstance(header, dict):
        raise BundleError(f"{path.name} has a damaged header.")
    return length, header


def check_weights(path: Path, specs: dict) -> None:
    """Check that the safetensors file holds exactly the arrays ``specs`` need, before any is read.

    Names, dtype (float32), shapes (classes and feature widths consistent
    within each model) and byte offsets (contiguous, covering the file) are
    all checked against the header.
    """
    length, header = read_safetensors_header(path)
    header.pop("__metadata__", None)
    expected = _expected_arrays(specs)
    if set(header) != set(expected):
        missing, extra = sorted(set(expected) - set(header)), sorted(set(header) - set(expected))
        raise BundleError(f"{path.name} does not match bundle.json"
                          + (f"; missing {', '.join(missing[:5])}" if missing else "")
                          + (f"; unexpected {', '.join(str(e)[:40] for e in extra[:5])}" if extra else "") + ".")
    widths: dict[str, int] = {}
    spans = []
    for name, want in expected.items():
        entry = header[name]
        shape, offsets = (entry.get("shape"), entry.get("data_offsets")) if isinstance(entry, dict) else (None, None)
        if (not isinstance(entry, dict) or entry.get("dtype") != "F32" or not isinstance(shape, list)
                or len(shape) != len(want) or not all(_whole(n) for n in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(_whole(n) for n in offsets)):
            raise BundleError(f"{path.name}: {name} must be a float32 array of {len(want)} dimensions.")
        for got, need in zip(shape, want):
            if isinstance(need, str):
                need = widths.setdefault(need, got)
                if not 1 <= got <= MAX_FEATURES:
                    raise BundleError(f"{path.name}: {name} has {got} features (1-{MAX_FEATURES} allowed).")
            if got != need:
                needed = [widths.get(n, "any") if isinstance(n, str) else n for n in want]
                raise BundleError(f"{path.name}: {name} has shape {shape}; bundle.json needs {needed}.")
        if offsets[1] - offsets[0] != 4 * math.prod(shape):
            raise BundleError(f"{path.name}: the offsets of {name} do not match its shape.")
        spans.append(tuple(offsets))
    position = 0
    for start, stop in sorted(spans):
        if start != position:
            raise BundleError(f"{path.name}: its arrays overlap or leave gaps.")
        position = stop
    if 8 + length + position != path.stat().st_size:
        raise BundleError(f"{path.name} is {path.stat().st_size} bytes; its header describes {8 + length + position}.")


# -- skops for the rest of the zoo ---------------------------------------------

def _save_skops(model, path: Path) -> None:
    import skops.io as sio

    sio.dump(model, path)


def _schema_loaders(node, depth: int = 0) -> set[str]:
    if depth > MAX_SCHEMA_DEPTH:
        raise BundleError(f"The skops schema is nested deeper than {MAX_SCHEMA_DEPTH} levels.")
    found = set()
    if isinstance(node, dict):
        if "__loader__" in node:
            found.add(str(node["__loader__"]))
        for value in node.values():
            found |= _schema_loaders(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            found |= _schema_loaders(value, depth + 1)
    return found


def check_skops(path: Path) -> list[str]:
    """Audit a ``.skops`` file without building any object; returns the types to trust.

    Refused: files that are not skops zips, over the size bounds, using a
    node kind our files never use, or naming any type outside skops' trusted
    defaults and :data:`SKOPS_ALLOWED_TYPES`.
    """
    import skops.io as sio

    if not zipfile.is_zipfile(path):
        raise BundleError(f"{path.name} is not a skops file (not a zip archive).")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_SKOPS_MEMBERS or sum(m.file_size for m in members) > MAX_SKOPS_BYTES:
                raise BundleError(f"Refused: {path.name} unpacks to more than {MAX_SKOPS_BYTES / 2**20:.0f} MB "
                                  f"or {MAX_SKOPS_MEMBERS} entries.")
            schema_info = next((m for m in members if m.filename == "schema.json"), None)
            if schema_info is None:
                raise BundleError(f"{path.name} is not a skops file (no schema.json).")
            if schema_info.file_size > MAX_SCHEMA_BYTES:
                raise BundleError(f"Refused: the schema of {path.name} is over {MAX_SCHEMA_BYTES / 2**20:.0f} MB.")
            schema = json.loads(archive.read(schema_info))
    except (zipfile.BadZipFile, ValueError, RecursionError, NotImplementedError, RuntimeError) as error:
        raise BundleError(f"{path.name} is not a readable skops file ({str(error)[:100]}).") from None
    loaders = _schema_loaders(schema) - SKOPS_LOADERS
    if loaders:
        raise BundleError(f"{path.name} uses skops nodes that bundles never contain: "
                          f"{', '.join(sorted(n[:40] for n in loaders)[:5])}.")
    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - SKOPS_ALLOWED_TYPES)
    if refused:
        raise BundleError(f"{path.name} contains types that are not allowed: "
                          f"{', '.join(t[:80] for t in refused[:5])}.")
    return untrusted


def _load_skops(path: Path):
    import skops.io as sio

    return sio.load(path, trusted=check_skops(path))


# -- model kinds: how each kind is stored, checked before it is read, and rebuilt ----------


class ModelKind:
    """One way a model is stored in a bundle.

    Attributes
    ----------
    name : str
        The spec's ``kind`` in ``bundle.json``.
    suffix : str, optional
        File kinds: the model is ``<role>.<suffix>`` beside ``bundle.json``.
    max_bytes : int
        File kinds: the file's size bound, checked before it is read.
    """

    name: str
    suffix: str | None = None
    max_bytes: int = 0

    def accepts(self, model) -> bool:
        """Whether a model that declares no ``bundle_kind`` is saved as this kind."""
        return False

    def save(self, model, role: str, folder: Path, arrays: dict) -> dict:
        """Store ``model`` (its arrays into ``arrays``, files into ``folder``) and return its spec."""
        raise NotImplementedError

    def check(self, spec: dict, where: str) -> None:
        """Refuse (:func:`_fail`) a spec this kind could not load safely; nothing is read."""
        if self.suffix is not None:
            name = spec.get("file")
            if not isinstance(name, str) or not SPEC_FILE.fullmatch(name) or not name.endswith(f".{self.suffix}"):
                _fail(f"{where}.file must be a plain file name ending in .{self.suffix} (no folders), not "
                      f"{name if not isinstance(name, str) else name[:80]!r}")

    def arrays(self, spec: dict, prefix: str) -> dict[str, tuple]:
        """Name -> shape of the safetensors arrays the spec needs (``"D:<prefix>"``: a feature width)."""
        return {}

    def classes(self, spec: dict) -> list[str] | None:
        """The model's classes as the spec states them (None: known only once loaded)."""
        return spec.get("classes")

    def load(self, spec: dict, role: str, arrays: dict, file: Path | None):
        """Rebuild the model from checked arrays and, for file kinds, its checked file."""
        raise NotImplementedError


class LinearKind(ModelKind):
    """Standardisation + logistic regression as four plain arrays."""

    name = "linear"

    def accepts(self, model) -> bool:
        return (isinstance(model, Pipeline) and len(model.steps) == 2
                and isinstance(model.steps[0][1], StandardScaler)
                and isinstance(model.steps[1][1], LogisticRegression))

    def save(self, model, role, folder, arrays):
        scaler, clf = model.steps[0][1], model.steps[1][1]
        arrays.update({f"{role}.mean": scaler.mean_, f"{role}.scale": scaler.scale_,
                       f"{role}.coef": clf.coef_, f"{role}.intercept": clf.intercept_})
        return {"kind": self.name, "classes": [str(c) for c in clf.classes_], "params": {"C": clf.C}}

    def check(self, spec, where):
        _check_classes(spec.get("classes"), f"{where}.classes")
        params = spec.get("params", {})
        if not isinstance(params, dict) or set(params) - {"C"} or not all(
                _number(v) and v > 0 for v in params.values()):
            _fail(f"{where}.params may only hold a positive number C")

    def arrays(self, spec, prefix, width=None):
        rows = 1 if len(spec["classes"]) == 2 else len(spec["classes"])
        d = width if width is not None else f"D:{prefix}"
        return {f"{prefix}.mean": (d,), f"{prefix}.scale": (d,), f"{prefix}.coef": (rows, d),
                f"{prefix}.intercept": (rows,)}

    def load(self, spec, role, arrays, file=None):
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = arrays[f"{role}.mean"], arrays[f"{role}.scale"]
        scaler.var_ = scaler.scale_ ** 2
        scaler.n_features_in_ = scaler.mean_.shape[0]
        scaler.n_samples_seen_ = 1
        clf = LogisticRegression(**spec.get("params", {}))
        clf.coef_, clf.intercept_ = arrays[f"{role}.coef"], arrays[f"{role}.intercept"]
        clf.classes_ = np.array(spec["classes"])
        clf.n_features_in_ = clf.coef_.shape[1]
        return Pipeline([("scale", scaler), ("clf", clf)])


class FrameKind(ModelKind):
    """A frame classifier: its frame-level standardisation + logistic regression as four arrays."""

    name = "frames"

    def accepts(self, model) -> bool:
        return isinstance(model, FrameClassifier) and LINEAR.accepts(model.model_)

    def save(self, model, role, folder, arrays):
        spec = LINEAR.save(model.model_, role, folder, arrays)
        return {**spec, "kind": self.name, "width": int(model.width), "step": int(model.step),
                "scale": float(model.scale_)}

    def check(self, spec, where):
        LINEAR.check(spec, where)
        width, step, scale = spec.get("width"), spec.get("step"), spec.get("scale")
        if not _whole(width) or not 1 <= width <= MAX_FEATURES:
            _fail(f"{where}.width must be a whole number of values per frame (1-{MAX_FEATURES})")
        if not _whole(step) or not 1 <= step <= 1000:
            _fail(f"{where}.step must be a whole number from 1 to 1000")
        if not _number(scale) or not 0 < scale <= 1000:
            _fail(f"{where}.scale must be a positive number")

    def arrays(self, spec, prefix, width=None):
        return LINEAR.arrays(spec, prefix, spec["width"])

    def load(self, spec, role, arrays, file=None):
        model = FrameClassifier(width=spec["width"], step=spec["step"], **spec.get("params", {}))
        model.model_ = LINEAR.load(spec, role, arrays)
        model.classes_ = model.model_.classes_
        model.scale_ = float(spec["scale"])
        return model


class LateFusionKind(ModelKind):
    """A late fusion of linear (or frame) experts, one per feature block, as plain arrays."""

    name = "late_fusion"

    @staticmethod
    def _kind(model) -> ModelKind | None:
        return next((k for k in (LINEAR, FRAMES) if k.accepts(model)), None)

    def accepts(self, model) -> bool:
        return isinstance(model, LateFusionClassifier) and all(self._kind(m) for m in model.estimators_)

    def save(self, model, role, folder, arrays):
        experts = [self._kind(m).save(m, f"{role}.{i}", folder, arrays) for i, m in enumerate(model.estimators_)]
        return {"kind": self.name, "blocks": [list(b) for b in model.blocks], "experts": experts}

    def check(self, spec, where):
        blocks, experts = spec.get("blocks"), spec.get("experts")
        if not isinstance(experts, list) or not 1 <= len(experts) <= 32 or not isinstance(blocks, list) \
                or len(blocks) != len(experts):
            _fail(f"{where} needs as many blocks as experts (1-32)")
        for i, block in enumerate(blocks):
            if (not isinstance(block, list) or len(block) != 2 or not _whole(block[0]) or block[0] < 0
                    or not (block[1] is None or _whole(block[1]) and block[1] > block[0])):
                _fail(f"{where}.blocks[{i}] must be [start, stop] with 0 <= start < stop")
        for i, (expert, (start, stop)) in enumerate(zip(experts, blocks)):
            kind = expert.get("kind") if isinstance(expert, dict) else None
            if kind not in (LINEAR.name, FRAMES.name):
                _fail(f"{where}.experts[{i}] must be a linear or frame model")
            MODEL_KINDS[kind].check(expert, f"{where}.experts[{i}]")
            if kind == FRAMES.name and stop is not None and (stop - start) % expert["width"]:
                _fail(f"{where}.blocks[{i}] must hold whole frames of {expert['width']} values")
        if any(e["classes"] != experts[0]["classes"] for e in experts):
            _fail(f"the experts of {where} must share one list of classes")

    def arrays(self, spec, prefix):
        expected = {}
        for i, (expert, (start, stop)) in enumerate(zip(spec["experts"], spec["blocks"])):
            expected.update(MODEL_KINDS[expert["kind"]].arrays(expert, f"{prefix}.{i}",
                                                                None if stop is None else stop - start))
        return expected

    def classes(self, spec):
        return spec["experts"][0]["classes"]

    def load(self, spec, role, arrays, file=None):
        model = LateFusionClassifier(blocks=[tuple(b) for b in spec["blocks"]])
        model.estimators_ = [MODEL_KINDS[s["kind"]].load(s, f"{role}.{i}", arrays)
                             for i, s in enumerate(spec["experts"])]
        model.classes_ = model.estimators_[0].classes_
        return model


class KerasKind(ModelKind):
    """A deep network in Keras' native format (loaded in safe mode) plus its input standardisation."""

    name = "keras"
    suffix = "keras"
    max_bytes = MAX_KERAS_BYTES

    def save(self, model, role, folder, arrays):
        model.save_network(folder / f"{role}.{self.suffix}")
        arrays.update({f"{role}.mean": model.mean_, f"{role}.scale": model.scale_})
        return {"kind": self.name, "file": f"{role}.{self.suffix}", "classes": [str(c) for c in model.classes_],
                "params": model.get_params(), "history": model.history_}

    def check(self, spec, where):
        super().check(spec, where)
        _check_classes(spec.get("classes"), f"{where}.classes")
        params = spec.get("params")
        if not isinstance(params, dict) or set(params) - _keras_params() or not all(
                isinstance(v, str) and len(v) <= 64 or _number(v) for v in params.values()):
            _fail(f"{where}.params must hold only the network's settings")
        _check_history(spec.get("history"), f"{where}.history")

    def arrays(self, spec, prefix):
        return {f"{prefix}.mean": (f"D:{prefix}",), f"{prefix}.scale": (f"D:{prefix}",)}

    def load(self, spec, role, arrays, file):
        from .deep import KerasSequenceClassifier

        # from_saved loads with safe_mode=True: no Lambda layers or other Python code run.
        return KerasSequenceClassifier.from_saved(file, spec["params"], spec["classes"], arrays[f"{role}.mean"],
                                                  arrays[f"{role}.scale"], spec.get("history"))


class SkopsKind(ModelKind):
    """Any other zoo model, as skops loaded only with :data:`SKOPS_ALLOWED_TYPES` (:func:`check_skops`)."""

    name = "skops"
    suffix = "skops"
    max_bytes = MAX_SKOPS_BYTES

    def accepts(self, model) -> bool:
        return True

    def save(self, model, role, folder, arrays):
        _save_skops(model, folder / f"{role}.{self.suffix}")
        return {"kind": self.name, "file": f"{role}.{self.suffix}"}

    def load(self, spec, role, arrays, file):
        return _load_skops(file)


LINEAR = LinearKind()
FRAMES = FrameKind()
#: The kinds, in the order a model without a declared ``bundle_kind`` is offered to them (skops takes the rest).
MODEL_KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (LINEAR, FRAMES, LateFusionKind(), KerasKind(),
                                                                  SkopsKind())}


def model_kind(model) -> ModelKind:
    """The kind ``model`` is saved as: the one it declares (``bundle_kind``), else the first that accepts it."""
    declared = getattr(model, "bundle_kind", None)
    if declared is not None:
        if declared not in MODEL_KINDS:
            raise BundleError(f"{type(model).__name__} declares the unknown bundle kind {str(declared)[:40]!r}.")
        return MODEL_KINDS[declared]
    return next(kind for kind in MODEL_KINDS.values() if kind.accepts(model))


# -- atomic save and crash recovery ---------------------------------------------

@contextlib.contextmanager
def _lock(parent: Path, *, wait: bool = True):
    """An exclusive ``flock`` on the folder of bundles; yields False if busy (``wait=False``) or unlockable.

    The folder itself is locked (no lock files to leave behind): saves and
    recoveries in one models/ folder take turns, which costs nothing at the
    rate bundles are saved.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no lock, the renames alone keep the old bundle safe
        yield True
        return
    try:
        fd = os.open(parent, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:  # busy, or a file system without locks
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _leftovers(parent: Path, name: str) -> list[Path]:
    return [p for p in parent.glob(f".{name}.*-*") if p.is_dir()
            and p.name.startswith((f".{name}.new-", f".{name}.old-"))]


def _recover(parent: Path, name: str) -> None:
    """Under the lock: restore ``name`` from a crashed save's folders, then remove the leftovers."""
    path = parent / name
    leftovers = _leftovers(parent, name)
    if not path.exists():
        complete = [p for p in leftovers if (p / META).is_file()]
        # The old bundle is the last one a save finished; a complete new one only when there is no old one.
        complete.sort(key=lambda p: (p.name.startswith(f".{name}.old-"), p.stat().st_mtime), reverse=True)
        if complete:
            os.replace(complete[0], path)
            logger.warning("restored the bundle %s from %s, left by an interrupted save", path, complete[0].name)
            leftovers.remove(complete[0])
    for stale in leftovers:
        shutil.rmtree(stale, ignore_errors=True)


def recover_bundle(path: str | Path, *, wait: bool = True) -> None:
    """Finish what an interrupted :func:`save_bundle` left at ``path`` (restore it, remove temp folders)."""
    path = Path(path)
    if not BUNDLE_NAME.fullmatch(path.name) or not path.parent.is_dir() or not _leftovers(path.parent, path.name):
        return
    with _lock(path.parent, wait=wait) as locked:
        if locked:
            _recover(path.parent, path.name)


def list_bundles(folder: str | Path) -> list[str]:
    """Names of the bundles in ``folder`` (valid names, with a ``bundle.json``), after crash recovery."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    names = set()
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith(".") and ("-" in name):
            name = name[1:].rsplit(".", 1)[0]
            if BUNDLE_NAME.fullmatch(name):
                recover_bundle(folder / name, wait=False)
        if BUNDLE_NAME.fullmatch(name) and (folder / name / META).is_file():
            names.add(name)
    return sorted(names)


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write(bundle: ModelBundle, folder: Path) -> None:
    from safetensors.numpy import save_file

    arrays: dict[str, np.ndarray] = {}
    specs = {}
    for role, model in (("emotion", bundle.emotion_model), ("gender", bundle.gender_model)):
        if model is None:
            continue
        specs[role] = model_kind(model).save(model, role, folder, arrays)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}, folder / WEIGHTS)
    (folder / CARD).write_text(bundle.card or f"# {bundle.name}\n")
    meta = {"format_version": FORMAT_VERSION, "name": bundle.name, "feature_set": bundle.feature_set,
            "labels": bundle.labels, "models": specs, "metrics": bundle.metrics, "info": bundle.info}
    # bundle.json last: a folder holding it is complete, which recovery relies on.
    (folder / META).write_text(json.dumps(meta, indent=1))
    # A bundle is meant to be shared: readable by all, like any other saved file.
    folder.chmod(0o755)
    for item in folder.rglob("*"):
        item.chmod(0o755 if item.is_dir() else 0o644)
        if item.is_file():
            _fsync(item)
    _fsync(folder)


def save_bundle(bundle: ModelBundle, path: str | Path) -> Path:
    """Write ``bundle`` to the folder ``path``, replacing a bundle there atomically.

    The folder's name must be a valid bundle name (:func:`check_bundle_name`),
    and an existing folder at ``path`` must be a bundle.  A save killed at any
    moment leaves either the old or the new bundle loadable at ``path`` (the
    next load or listing restores it if the kill fell between the renames).

    Raises
    ------
    BundleError
        The name is invalid, or ``path`` holds something that is not a bundle.
    """
    path = Path(path)
    name = check_bundle_name(path.name)
    parent = path.parent
    if path.is_symlink() or path.exists() and not (path / META).is_file() and (
            not path.is_dir() or any(path.iterdir())):
        raise BundleError(f"{path} exists and is not a model bundle; refusing to replace it.")
    parent.mkdir(parents=True, exist_ok=True)
    with _lock(parent):
        _recover(parent, name)
        token = secrets.token_hex(6)
        new, old = parent / f".{name}.new-{token}", parent / f".{name}.old-{token}"
        new.mkdir()
        try:
            _write(bundle, new)
            if path.exists():
                os.replace(path, old)
            os.replace(new, path)
            _fsync(parent)
        except BaseException:
            if old.exists() and not path.exists():
                os.replace(old, path)
            shutil.rmtree(new, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)
    return path


# -- loading -------------------------------------------------------------------

def load_bundle(path: str | Path, *, confine: str | Path | None = None) -> ModelBundle:
    """Read a bundle folder written by :func:`save_bundle`, checking everything before reading tensors.

    Parameters
    ----------
    path : str or Path
        The bundle folder.
    confine : str or Path, optional
        The folder every file must resolve inside (default: the bundle folder
        itself, and no symbolic links).  A Hugging Face cache snapshot links
        each file into its repo's ``blobs/``: pass the repo's cache folder.

    Raises
    ------
    BundleError
        Missing, damaged, unsafe or incompatible; the message says which.
    """
    from safetensors.numpy import load_file

    path = Path(path)
    confine = Path(confine) if confine is not None else None
    if not (path / META).is_file():
        recover_bundle(path)
    if not (path / META).is_file():
        raise BundleError(f"{path.name} is not a model bundle (no bundle.json).")
    meta = read_meta(path, confine)
    specs = meta["models"]
    kinds = {role: MODEL_KINDS[spec["kind"]] for role, spec in specs.items()}
    files = {role: _inside(path, spec["file"], confine, kinds[role].max_bytes)
             for role, spec in specs.items() if kinds[role].suffix is not None}
    weights = _inside(path, WEIGHTS, confine, MAX_WEIGHTS_BYTES, required=bool(_expected_arrays(specs)))
    card = _inside(path, CARD, confine, MAX_CARD_BYTES, required=False)
    try:
        arrays = {}
        if weights is not None:
            check_weights(weights, specs)
            arrays = load_file(weights)
        models = {}
        for role, spec in specs.items():
            models[role] = kinds[role].load(spec, role, arrays, files.get(role))
        model_classes = [str(c) for c in models["emotion"].classes_]
    except BundleError:
        raise
    except Exception as error:
        raise BundleError(f"The model bundle {path.name} is damaged: {str(error)[:200]}") from error
    if model_classes != meta["labels"]:
        raise BundleError(f"The model bundle {path.name} is damaged: its emotion model's classes are not its labels.")
    return ModelBundle(
        emotion_model=models["emotion"], gender_model=models.get("gender"),
        feature_set=meta["feature_set"], name=meta["name"],
        metrics=meta.get("metrics", {}), info=meta.get("info", {}),
        card=card.read_text(errors="replace") if card else "", path=path,
    )
