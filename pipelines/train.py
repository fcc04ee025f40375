"""Train: the Train tab's and ``python -m ser train``'s comparison run, from corpus folders or a zip.

Both faces hand over the corpora (folders the face allowed, or an uploaded
zip), the models and the bundle name; this unpacks the zip within its limits,
runs :func:`ser.workbench.run_training`, removes what it unpacked, and drops
the shared recognizers so a bundle retrained at the same path is reloaded.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ser.bundle import check_bundle_name
from ser.recognizer import get_recognizer
from ser.workbench import TrainingReport, ZipLimits, run_training, unpack_upload


@dataclass(frozen=True)
class TrainRequest:
    """What to train on and what to compare.

    Attributes
    ----------
    corpora : sequence of (name or None, folder)
        Labelled corpus folders (a name of ``ser.corpora``'s, or ``None`` to detect the layout).
    upload : path, optional
        A zip of labelled audio instead of ``corpora``.
    models, features, sequence_features, emotions, search, n_iter, epochs, speaker_pattern
        As :func:`ser.workbench.run_training` takes them.
    name : str
        The bundle name (checked before anything is read).
    out : Path, optional
        Where the best model is saved (the policy's ``models/NAME`` by default of the faces).
    zip_limits : ZipLimits
        Limits of the unpacked upload.
    """

    corpora: Sequence[tuple[str | None, Path]] = ()
    upload: Path | None = None
    models: Sequence[str] = ("logreg",)
    features: str = "whisper-tiny"
    sequence_features: str | None = None
    emotions: Sequence[str] | None = None
    search: str | None = None
    n_iter: int = 6
    epochs: int | None = None
    name: str = "model"
    out: Path | None = None
    speaker_pattern: str | None = None
    zip_limits: ZipLimits = field(default_factory=ZipLimits)

    def to_dict(self) -> dict:
        return {"corpora": [[name, str(path)] for name, path in self.corpora],
                "upload": str(self.upload) if self.upload else None, "models": list(self.models),
                "features": self.features, "sequence_features": self.sequence_features,
                "emotions": list(self.emotions) if self.emotions else None, "search": self.search,
                "n_iter": self.n_iter, "epochs": self.epochs, "name": self.name,
                "out": str(self.out) if self.out else None, "speaker_pattern": self.speaker_pattern}


def train(request: TrainRequest, *, cancel: threading.Event | None = None,
          progress: Callable[[float, str], None] | None = None) -> TrainingReport:
    """Compare the request's models speaker-independently, then save the best as a bundle.

    Raises
    ------
    ser.bundle.BundleError
        A bad bundle name (before any corpus is read).
    ser.workbench.UploadError
        An unsafe or too large zip.
    ser.workbench.Cancelled
        ``cancel`` was set; nothing was saved.
    ValueError
        No corpus, or a bad parameter of the run.
    """
    check_bundle_name(request.name)
    if not request.corpora and not request.upload:
        raise ValueError("Give a corpus folder or upload a zip of labelled audio.")
    unpacked = unpack_upload(request.upload, limits=request.zip_limits) if request.upload else None
    try:
        corpora = [(None, unpacked.folder)] if unpacked else list(request.corpora)
        report = run_training(corpora, models=request.models, features=request.features,
                              sequence_features=request.sequence_features, emotions=request.emotions,
                              search=request.search, n_iter=request.n_iter, epochs=request.epochs,
                              name=request.name, out=request.out, cancel=cancel, progress=progress,
                              skipped=unpacked.skipped if unpacked else (),
                              speaker_pattern=request.speaker_pattern)
    finally:
        if unpacked:
            unpacked.remove()
    get_recognizer.cache_clear()  # a bundle retrained at the same path must be reloaded
    return report
