"""The training workbench: import labelled audio, compare and tune models, save a bundle.

One entry point, :func:`run_training`, serves the ``python -m ser train`` CLI
and the app's Train tab alike.  It reads corpora (auto-detected) or an
uploaded zip, extracts features (cached), scores every chosen model with
speaker-independent folds, optionally searches each model's parameters on
speaker-grouped validation folds, trains the best model on all the data and
saves it as a named bundle (atomically: an existing bundle is never damaged).

A run can be cancelled from another thread with a :class:`threading.Event`;
it stops at the next progress report and leaves every bundle as it was.
"""

from __future__ import annotations

import logging
import lzma
import os
import shutil
import stat
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import ParameterGrid, ParameterSampler

from . import errors
from .bundle import check_bundle_name, save_bundle
from .corpora import AUDIO_SUFFIXES, read_corpus
from .deep import ARCHITECTURES, KerasSequenceClassifier
from .evaluation import Evaluation, search_folds
from .features import SEQUENCE_SHAPES, parse_feature_set
from .models import CLASSIFIERS, make_classifier
from .training import (SPEAKERS_CSV, Dataset, default_estimator, evaluate_corpus, fit, load_dataset, model_card,
                       train_bundle)

Progress = Callable[[float, str], None]
logger = logging.getLogger(__name__)


# Parameter spaces for grid / randomized search (the seed's grid_search.py ranges, trimmed
# to what finishes on a laptop).  Keys address the classifier step of make_classifier().
SEARCH_SPACES: dict[str, dict[str, list]] = {
    "logreg": {"clf__C": [0.01, 0.03, 0.1, 0.3, 1.0]},
    "svc": {"clf__estimator__C": [1, 3, 10, 30], "clf__estimator__gamma": ["scale", 0.001]},
    "random_forest": {"clf__n_estimators": [100, 300], "clf__max_depth": [None, 10, 20]},
    "gradient_boosting": {"clf__n_estimators": [50, 100], "clf__max_depth": [2, 3], "clf__learning_rate": [0.1, 0.3]},
    "knn": {"clf__n_neighbors": [3, 7, 15], "clf__weights": ["uniform", "distance"]},
    "mlp": {"clf__hidden_layer_sizes": [(200,), (300,), (300, 100)], "clf__alpha": [0.001, 0.01, 0.1]},
    "bagging": {"clf__n_estimators": [20, 50], "clf__max_samples": [0.5, 1.0]},
    "adaboost": {"clf__n_estimators": [100, 200], "clf__learning_rate": [0.1, 0.5, 1.0]},
    "decision_tree": {"clf__max_depth": [6, 12, 24], "clf__min_samples_leaf": [1, 5]},
    "default": {"estimator__clf__C": [0.03, 0.1, 0.3, 1.0]},
}
DEEP_MODELS = ARCHITECTURES
DEEP_SEARCH_SPACE = {"units": [32, 64, 128], "dropout": [0.2, 0.4], "learning_rate": [1e-3, 3e-4]}


class Cancelled(errors.Cancelled):
    """The run was cancelled by the user; nothing was saved."""


class UploadError(errors.BadAudio, ValueError):
    """An uploaded archive is unsafe or too large; the message says why."""


# -- uploads ------------------------------------------------------------------

# Audio barely compresses: PCM WAV deflates to about 1.1-1.5x, FLAC/MP3/Opus
# to 1.0x, a WAV that is mostly silence to a few times.  20x is generous for
# audio and keeps a 6 MB archive from filling more than 120 MB of disk (with
# 200x and a 4 GB cap, a 5.9 MB zip unpacked to 1 GB).
MAX_COMPRESSION_RATIO = 20
# Small members and small archives are exempt from the ratio (1 s of digital
# silence compresses 500x): only past these sizes can a ratio cost real disk.
RATIO_FREE_MEMBER = 1 << 20
RATIO_FREE_ARCHIVE = 16 << 20
# Compression methods zipfile can read here (Deflate64, PPMd, AES … cannot).
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
            zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_METHOD_NAMES = {9: "Deflate64", 14: "LZMA", 93: "Zstandard", 95: "XZ", 98: "PPMd", 99: "AES encryption"}
# Errors zipfile and its decompressors raise for a damaged member.
_DAMAGED = (zipfile.BadZipFile, EOFError, zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError)
UPLOAD_PREFIX = "upload-"


@dataclass(frozen=True)
class ZipLimits:
    """Limits of one uploaded zip of labelled audio, counted while it unpacks.

    Attributes
    ----------
    max_bytes : int
        Total uncompressed bytes written (1 GiB: RAVDESS' 1440 FLAC files
        are 0.5 GB, EMO-DB's 535 WAVs 0.04 GB).
    max_files : int
        Entries in the archive (CREMA-D, the largest corpus we read, has 7442).
    max_ratio : float
        Uncompressed / compressed size of a member over 1 MiB and of the
        whole output over 16 MiB.
    max_name : int
        Characters of a member's path inside the archive; every path
        component is also held to the file system's 255 bytes.
    """

    max_bytes: int = 1 << 30
    max_files: int = 20_000
    max_ratio: float = MAX_COMPRESSION_RATIO
    max_name: int = 255


@dataclass
class ZipImport:
    """Where an uploaded zip was unpacked, and what was left out."""

    folder: Path
    audio_files: int
    skipped: list[str] = field(default_factory=list)

    def remove(self) -> None:
        """Delete the unpacked folder, and any an earlier crashed process left behind."""
        shutil.rmtree(self.folder, ignore_errors=True)
        sweep_stale_uploads(self.folder.parent)


def _shown(name: str, limit: int = 60) -> str:
    """An archive member's name short enough for a message."""
    return repr(name if len(name) <= limit else name[:limit] + "…")


def _unsafe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return (path.is_absolute() or ".." in path.parts or name.startswith(("/", "\\"))
            or (len(name) > 1 and name[1] == ":"))


def _check_members(members: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse, before anything is written, an archive whose entry list is unsafe or unreadable."""
    if len(members) > limits.max_files:
        raise UploadError(f"The archive holds {len(members)} entries; the limit is {limits.max_files}.")
    unsafe = [_shown(m.filename) for m in members if _unsafe_member(m.filename)]
    if unsafe:
        raise UploadError(f"Refused: the archive has entries outside its folder ({', '.join(unsafe[:3])}).")
    files, folders = set(), set()
    for m in members:
        name = m.filename.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if len(name) > limits.max_name or any(len(p.encode("utf-8", "surrogateescape")) > 255 for p in parts):
            raise UploadError(f"Refused: the entry {_shown(name)} has a name of {len(name)} characters; "
                              f"the limit is {limits.max_name} (255 bytes per folder or file name).")
        if m.flag_bits & 0x1:
            raise UploadError(f"Refused: {_shown(name)} is encrypted; upload an archive without a password.")
        if m.compress_type not in _METHODS:
            method = _METHOD_NAMES.get(m.compress_type, f"method {m.compress_type}")
            raise UploadError(f"Refused: {_shown(name)} is compressed with {method}, which cannot be read here; "
                              "zip the files again with ordinary (deflate) compression.")
        key = "/".join(parts)
        if not key:
            continue
        if key in files or (not m.is_dir() and key in folders):
            raise UploadError(f"Refused: the archive holds {_shown(key)} twice (or as a file and a folder).")
        (folders if m.is_dir() else files).add(key)
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = sorted(files & folders)
    if clash:
        raise UploadError(f"Refused: {_shown(clash[0])} is both a file and a folder in the archive.")
    total = sum(m.file_size for m in members)
    if total > limits.max_bytes:
        raise UploadError(f"The archive unpacks to {total / 1e6:.0f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB.")


def _bomb(name: str, written: int, compressed: int) -> UploadError:
    return UploadError(f"Refused: {_shown(name)} unpacks to more than {written // max(compressed, 1)} times "
                       "its compressed size, far more than audio compresses (a zip bomb?).")


def _unpack_member(handle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limits: ZipLimits,
                   total: int, budget: float) -> int:
    """Copy one member to ``target``, counting bytes as they come; the new total."""
    member_budget = max(limits.max_ratio * member.compress_size, RATIO_FREE_MEMBER)
    written = 0
    with handle.open(member) as source, target.open("wb") as out:
        while chunk := source.read(1 << 16):
            written += len(chunk)
            if total + written > limits.max_bytes:
                raise UploadError(f"The archive unpacks to more than {limits.max_bytes / 1e6:.0f} MB, the limit.")
            if written > member_budget:
                raise _bomb(member.filename, written, member.compress_size)
            if total + written > budget:
                raise UploadError(f"Refused: the archive unpacks to more than {limits.max_ratio:g} times its "
                                  "size, far more than audio compresses (a zip bomb?).")
            out.write(chunk)
    return total + written


def import_zip(archive: str | Path, dest: str | Path, *, limits: ZipLimits = ZipLimits()) -> ZipImport:
    """Unpack the audio files of a zip of labelled audio into ``dest``.

    Every entry is checked before anything is written: absolute paths, ``..``
    components (zip-slip), over-long names, duplicates, a name used for a
    file and a folder, encrypted entries and compression methods that cannot
    be read are refused, as are archives over the entry limit.  Sizes are
    counted while unpacking, not taken from the archive's headers: the run
    stops as soon as the output passes ``limits.max_bytes`` or compresses
    better than audio can.  Links and non-audio entries are skipped and
    listed.  On any error ``dest`` is left as empty as it was found.

    Parameters
    ----------
    archive : path
        The uploaded zip.
    dest : path
        A folder that does not exist yet or is empty.
    limits : ZipLimits
        Sizes and counts the archive must stay within.

    Raises
    ------
    UploadError
        The archive is unreadable, unsafe or over a limit; the message names
        the entry and never a server path.

    Examples
    --------
    >>> result = import_zip("labelled.zip", "work/upload")     # doctest: +SKIP
    >>> result.audio_files, result.skipped                     # doctest: +SKIP
    (48, ['notes.txt: not an audio file'])
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ValueError("import_zip needs an empty folder to unpack into.")
    try:
        handle = zipfile.ZipFile(archive)
        size = Path(archive).stat().st_size
    except zipfile.BadZipFile as error:
        raise UploadError(f"{Path(archive).name} is not a readable zip archive ({error}).") from None
    except OSError as error:
        raise UploadError(f"{Path(archive).name} is not a readable zip archive "
                          f"({error.strerror or type(error).__name__}).") from None
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with handle:
            return _unpack(handle, dest, limits, budget=max(limits.max_ratio * size, RATIO_FREE_ARCHIVE))
    except BaseException:
        for child in dest.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        raise


def _unpack(handle: zipfile.ZipFile, dest: Path, limits: ZipLimits, budget: float) -> ZipImport:
    members = handle.infolist()
    _check_members(members, limits)
    skipped, count, total = [], 0, 0
    for member in members:
        if member.is_dir():
            continue
        name = member.filename.replace("\\", "/")
        if (member.external_attr >> 16) & 0o170000 == 0o120000:
            skipped.append(f"{name}: symbolic link")
            continue
        table = PurePosixPath(name).name == SPEAKERS_CSV  # who speaks in each file, read by ser.training
        if PurePosixPath(name).suffix.lower() not in AUDIO_SUFFIXES and not table:
            skipped.append(f"{name}: not an audio file")
            continue
        target = dest / name
        if not target.resolve().is_relative_to(dest.resolve()):
            raise UploadError(f"Refused: {_shown(name)} points outside the upload folder.")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            total = _unpack_member(handle, member, target, limits, total, budget)
        except _DAMAGED as error:
            target.unlink(missing_ok=True)
            skipped.append(f"{name}: damaged entry ({str(error).replace(str(dest), '…')[:120]})")
            continue
        except OSError as error:  # disk full, a name the file system refuses …
            raise UploadError(f"Could not unpack {_shown(name)}: {error.strerror or type(error).__name__}.") from None
        count += not table
    if not count:
        raise UploadError("The archive holds no audio files.")
    return ZipImport(dest, count, skipped)


def upload_root() -> Path:
    """The folder that holds this user's unpacked uploads (``<tmp>/ser-training-<uid>``)."""
    root = Path(tempfile.gettempdir()) / f"ser-training-{os.getuid() if hasattr(os, 'getuid') else 0}"
    root.mkdir(mode=0o700, exist_ok=True)
    info = root.lstat()
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        raise UploadError("The server's folder for uploads is not usable; ask its operator.")
    return root


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def sweep_stale_uploads(root: str | Path | None = None) -> list[Path]:
    """Remove unpacked uploads whose process has died (a crash or kill -9 mid-run).

    Each upload folder is named ``upload-<pid>-…``; a folder of a live
    process is left alone, so concurrent runs and other workers are safe.
    Called before every unpack, after every run and when the app starts.

    Returns
    -------
    list of Path
        The folders removed.
    """
    root = Path(root) if root is not None else upload_root()
    removed = []
    for folder in root.glob(f"{UPLOAD_PREFIX}*-*"):
        pid = folder.name[len(UPLOAD_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        logger.info("removed %d upload folders left by crashed runs", len(removed))
    return removed


def unlabelled_files(folder: Path, corpus: str | None = None) -> list[str]:
    """Audio files under ``folder`` that the corpus' naming does not label."""
    from .corpora import audio_files

    labelled = {u.path for u in read_corpus(folder, corpus)}
    return [f"{p.relative_to(folder)}: no emotion label in its name or folder"
            for p in audio_files(folder) if p not in labelled]


# -- models ----------------------------------------------------------------------

def model_names() -> list[str]:
    """Every model the workbench trains: the late-fusion default, the zoo, the deep models."""
    return ["default", *CLASSIFIERS, *DEEP_MODELS]


def is_deep(name: str) -> bool:
    return name in DEEP_MODELS


def default_sequence_features(name: str) -> str:
    """Frame-level features a deep model trains on by default."""
    return "logmel-seq" if name == "cnn2d" else "whisper-tiny-seq"


def make_model(name: str, feature_set: str, *, epochs: int | None = None, **params):
    """An unfitted estimator for ``name`` on ``feature_set``."""
    if is_deep(name):
        if feature_set not in SEQUENCE_SHAPES:
            raise ValueError(f"{name} needs frame-level features ({', '.join(SEQUENCE_SHAPES)}), "
                             f"not {feature_set!r}.")
        extra = {"epochs": epochs} if epochs else {}
        return KerasSequenceClassifier(architecture=name, frames=SEQUENCE_SHAPES[feature_set][0],
                                       **extra, **params)
    if name == "default":
        model = default_estimator(feature_set)
        return model.set_params(**params) if params else model
    model = make_classifier(name)
    return model.set_params(**params) if params else model


def search_space(name: str) -> dict[str, list]:
    return DEEP_SEARCH_SPACE if is_deep(name) else SEARCH_SPACES[name]


# -- search ----------------------------------------------------------------------

@dataclass
class SearchResult:
    best_params: dict
    best_score: float  # mean UA over the validation folds of ``protocol``
    candidates: list[dict]  # {"params", "ua", "seconds"} per candidate
    protocol: str = ""  # how the validation folds were drawn (ser.evaluation.search_folds)


def search_model(estimator, data: Dataset, space: dict[str, list], *, kind: str = "grid",
                 n_iter: int = 6, n_folds: int = 3, seed: int = 0,
                 progress: Progress | None = None) -> SearchResult:
    """Grid or randomized search; each candidate is scored by UA on folds of whole speakers.

    Like ``GridSearchCV(cv=GroupKFold(...), scoring="balanced_accuracy")``
    with speakers as groups, but one candidate at a time so a run reports
    progress and can be cancelled between candidates.  Clips of unknown
    speakers are split at random, as in the final scores
    (:func:`ser.evaluation.search_folds`).
    """
    if kind not in {"grid", "random"}:
        raise ValueError(f"Unknown search {kind!r}; use grid or random.")
    candidates = list(ParameterGrid(space) if kind == "grid"
                      else ParameterSampler(space, n_iter=n_iter, random_state=seed))
    splits, protocol = search_folds(data.speaker, data.emotion, n_folds, seed)
    results = []
    for i, params in enumerate(candidates):
        start = time.perf_counter()
        candidate = estimator.set_params(**params)
        try:
            scores = []
            for train, test in splits:
                model = fit(candidate, data.X[train], data.emotion[train], data.corpus[train])
                scores.append(balanced_accuracy_score(data.emotion[test], model.predict(data.X[test])))
            ua = float(np.mean(scores))
        except ValueError:  # a candidate the data cannot support, e.g. more neighbours than clips
            ua = float("nan")
        results.append({"params": params, "ua": ua, "seconds": round(time.perf_counter() - start, 2)})
        if progress:
            progress((i + 1) / len(candidates), f"Search {i + 1}/{len(candidates)}: UA {results[-1]['ua']:.3f}")
    usable = [r for r in results if not np.isnan(r["ua"])]
    if not usable:
        raise ValueError("No parameter candidate could be trained on this data.")
    best = max(usable, key=lambda r: r["ua"])
    return SearchResult(best["params"], best["ua"], results, protocol)


# -- the run -----------------------------------------------------------------------

@dataclass
class ModelResult:
    """One model's scores: per corpus, with timing, search and training curves."""

    name: str
    feature_set: str
    evaluations: dict[str, Evaluation]
    params: dict = field(default_factory=dict)
    search: SearchResult | None = None
    history: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ua(self) -> float:
        return float(np.mean([e.ua for e in self.evaluations.values()]))

    @property
    def wa(self) -> float:
        return float(np.mean([e.wa for e in self.evaluations.values()]))

    @property
    def fit_seconds(self) -> float:
        return float(sum(e.fit_seconds for e in self.evaluations.values()))

    @property
    def predict_ms(self) -> float:
        return 1000 * float(np.mean([e.predict_seconds for e in self.evaluations.values()]))


@dataclass
class TrainingReport:
    """What :func:`run_training` did: scores per model, the saved bundle, skipped files."""

    results: list[ModelResult]
    best: str
    bundle_path: Path | None
    skipped: list[str]
    seconds: float
    clips: dict[str, int]

    def summary(self) -> str:
        lines = [f"| model | features | UA | WA | fit s (all folds) | predict ms/clip |", "|---|---|---|---|---|---|"]
        for r in sorted(self.results, key=lambda r: -r.ua):
            lines.append(f"| {r.name}{' (best)' if r.name == self.best else ''} | {r.feature_set} | {r.ua:.3f}"
                         f" | {r.wa:.3f} | {r.fit_seconds:.1f} | {r.predict_ms:.2f} |")
        protocols = [e.protocol for e in self.results[0].evaluations.values()]
        kind = "speaker-independent folds" if all("speaker-independent" in p for p in protocols) else "cross-validation"
        lines += ["", f"UA/WA: {kind}, mean over corpora (" + "; ".join(protocols) + ")."]
        searched = next((r.search for r in self.results if r.search), None)
        if searched:
            lines.append(f"Parameters were searched on {searched.protocol} drawn from the same data, "
                         "so the scores of searched models are slightly optimistic.")
        if self.bundle_path:
            lines.append(f"Saved **{self.best}** as `{self.bundle_path}` in {self.seconds:.0f} s.")
        if self.skipped:
            lines += ["", f"Skipped {len(self.skipped)} files:"] + [f"- {s}" for s in self.skipped[:50]]
        return "\n".join(lines)


def _checked(progress: Progress | None, cancel: threading.Event | None, start: float, share: float) -> Progress:
    def report(fraction: float, message: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("Training was cancelled; no bundle was written.")
        if progress:
            progress(min(1.0, start + share * fraction), message)
    return report


def run_training(
    corpora: Sequence[tuple[str | None, str | Path]],
    *,
    models: Sequence[str] = ("logreg",),
    features: str = "whisper-tiny",
    sequence_features: str | None = None,
    emotions: Sequence[str] | None = None,
    search: str | None = None,
    n_iter: int = 6,
    epochs: int | None = None,
    name: str = "model",
    out: str | Path | None = None,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
    skipped: Sequence[str] = (),
    speaker_pattern: str | None = None,
) -> TrainingReport:
    """Compare ``models`` speaker-independently, then train the best one and save it.

    Parameters
    ----------
    corpora : list of (name or None, folder)
        Labelled audio; ``None`` auto-detects RAVDESS, TESS, EMO-DB, CREMA-D,
        SAVEE or the custom layout (``*_<emotion>.wav`` or emotion folders).
    models : list of str
        Names from :func:`model_names`; deep models train on
        ``sequence_features`` (default: per model), the others on ``features``.
    search : "grid", "random" or None
        Tune each model's parameters (:data:`SEARCH_SPACES`) by UA on folds
        of whole speakers before scoring it.
    out : path, optional
        Bundle folder for the best model; ``None`` saves nothing.
    cancel : threading.Event, optional
        Set it to stop the run at the next progress report (raises :class:`Cancelled`).
    speaker_pattern : str, optional
        For files whose names give no speaker: a regular expression with a
        group ``(?P<speaker>…)`` (a ``speakers.csv`` in the folder wins; see
        :func:`ser.training.assign_speakers`).  Without either, such files
        are scored on a seeded random split, labelled "speakers unknown".

    Examples
    --------
    >>> report = run_training([(None, "datasets/emodb")], models=["logreg", "svc"],
    ...                       out="models/emodb")              # doctest: +SKIP
    >>> report.best, round(report.results[0].ua, 2)            # doctest: +SKIP
    ('svc', 0.71)
    """
    began = time.perf_counter()
    check_bundle_name(name)  # before any work: "." or "a/b" must not cost a training run
    if not models:
        raise ValueError("Choose at least one model.")
    unknown = [m for m in models if m not in model_names()]
    if unknown:
        raise ValueError(f"Unknown model {', '.join(unknown)}; choose from {', '.join(model_names())}.")
    feature_sets = {m: (sequence_features or default_sequence_features(m)) if is_deep(m) else features
                    for m in models}
    for fs in set(feature_sets.values()):
        parse_feature_set(fs)
    skipped = list(skipped)
    for corpus, folder in corpora:
        skipped += unlabelled_files(Path(folder), corpus)
    datasets: dict[str, Dataset] = {}
    distinct = list(dict.fromkeys(feature_sets.values()))
    share = 0.3 / len(distinct)
    for i, fs in enumerate(distinct):
        datasets[fs] = load_dataset(corpora, fs, emotions=emotions, speaker_pattern=speaker_pattern,
                                    progress=_checked(progress, cancel, i * share, share))
    for data in datasets.values():
        skipped += [f"{p.name}: {why}" for p, why in data.skipped]
        if len(set(data.emotion)) < 2:
            raise ValueError("Training needs at least two emotions.")
    results = []
    share = 0.6 / len(models)
    for k, model in enumerate(models):
        data = datasets[feature_sets[model]]
        step = 0.3 + k * share
        estimator = make_model(model, feature_sets[model], epochs=epochs)
        found = None
        if search:
            found = search_model(estimator, data, search_space(model), kind=search, n_iter=n_iter,
                                 progress=_checked(progress, cancel, step, share / 2))
            estimator = make_model(model, feature_sets[model], epochs=epochs, **found.best_params)
        evaluations = {}
        corpora_names = [c for c in sorted(set(data.corpus)) if len(set(data.speaker[data.corpus == c])) > 1]
        if not corpora_names:
            raise ValueError("Speaker-independent scores need at least two speakers in a corpus; "
                             "model files so speakers can be told apart, or add a corpus.")
        sub = (share / 2 if search else share) / len(corpora_names)
        for j, corpus in enumerate(corpora_names):
            start = step + (share / 2 if search else 0) + j * sub
            evaluations[corpus] = evaluate_corpus(estimator, data, corpus,
                                                  progress=_checked(progress, cancel, start, sub))
        results.append(ModelResult(model, feature_sets[model], evaluations,
                                   params=found.best_params if found else {}, search=found))
    best = max(results, key=lambda r: r.ua)
    bundle_path = None
    if out is not None:
        check = _checked(progress, cancel, 0.9, 0.1)
        check(0.0, f"Training {best.name} on all data")
        data = datasets[best.feature_set]
        estimator = make_model(best.name, best.feature_set, epochs=epochs, **best.params)
        bundle = train_bundle(data, estimator, name=name, evaluate=False)
        best.history = getattr(bundle.emotion_model, "history_", {}) or {}
        bundle.metrics = {c: e.to_dict() for c, e in best.evaluations.items()}
        bundle.info.update({"model": best.name, "params": {k: repr(v) for k, v in best.params.items()},
                            "comparison": {r.name: round(r.ua, 4) for r in results},
                            "skipped": skipped[:200]})
        bundle.card = model_card(bundle)
        check(0.99, "Saving the bundle")
        bundle_path = save_bundle(bundle, out)
        if progress:
            progress(1.0, f"Saved {bundle_path}")
    corpus = datasets[best.feature_set].corpus
    clips = {c: int((corpus == c).sum()) for c in sorted(set(corpus))}
    return TrainingReport(results, best.name, bundle_path, skipped, time.perf_counter() - began, clips)


def unpack_upload(archive: str | Path, *, limits: ZipLimits = ZipLimits(),
                  root: str | Path | None = None) -> ZipImport:
    """:func:`import_zip` into a fresh folder under :func:`upload_root`.

    Folders that crashed runs left behind are swept first; call
    :meth:`ZipImport.remove` when the run is over (it sweeps again).
    """
    root = Path(root) if root is not None else upload_root()
    sweep_stale_uploads(root)
    folder = Path(tempfile.mkdtemp(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-", dir=root))
    try:
        return import_zip(archive, folder, limits=limits)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
