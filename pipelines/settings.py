"""One settings value for a running studio: limits, concurrency, folders, offline.

Built once, from the command line and the environment (:meth:`Settings.from_env`),
and handed down as arguments: to the pipelines (``max_duration_s`` reaches
every decode and every check of a request), the REST API and the UI.  No
module global is ever assigned from it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from ser.audio import MAX_DURATION
from ser.choice import ModelPolicy

ROOT = Path(__file__).resolve().parent.parent
#: An hour: the timeline holds the decoded recording in memory (64 kB per second at 16 kHz).
MAX_RECORDING = 3600.0
_TRUE = ("1", "true", "yes", "on")
# field -> (environment variable, type, default when the variable is unset)
ENVIRONMENT = {
    "max_upload_mb": ("SERVER_MAX_UPLOAD_MB", float, 25.0),
    "max_duration_s": ("SER_MAX_DURATION", float, MAX_DURATION),
    "concurrency": ("SERVER_CONCURRENCY", int, 2),
    "max_queue": ("SERVER_MAX_QUEUE", int, 64),
    "temp_max_age_s": ("SERVER_TEMP_MAX_AGE_S", float, 3600.0),
    "max_recording_s": ("SER_MAX_RECORDING", float, MAX_RECORDING),
    "datasets_dir": ("SER_DATASETS", Path, ROOT.parent / "shared" / "datasets"),
    "cache_dir": ("SER_CACHE_DIR", Path, Path.home() / ".cache" / "emotion-studio"),
    "offline": ("HF_HUB_OFFLINE", lambda value: value.strip().lower() in _TRUE, False),
}


def _from(environ: Mapping[str, str], name: str):
    variable, cast, default = ENVIRONMENT[name]
    value = environ.get(variable)
    return cast(value) if value not in (None, "") else default


def _env(name: str):
    return field(default_factory=lambda: _from(os.environ, name))


@dataclass(frozen=True)
class Settings:
    """Limits and places of one studio (``python app.py --help`` sets them from the command line).

    A field left out takes its environment variable (:data:`ENVIRONMENT`), read
    when the value is made, else its default.

    Attributes
    ----------
    max_upload_mb : float
        Largest accepted upload (REST body, UI file).
    max_duration_s : float
        Longest audio of one request (Recognize, Transcribe, Re-voice, REST).
    concurrency, max_queue : int
        Jobs run at once, and jobs waiting before new ones are refused (503).
    temp_max_age_s : float
        Uploads, results and the UI's temp folders older than this are deleted.
    models : ModelPolicy
        Which models callers may pick (:mod:`ser.choice`).
    max_recording_s : float
        Longest recording of the timeline.
    datasets_dir : Path
        The server's corpus folders the Train tab may read.
    cache_dir : Path
        Feature and model cache.
    offline : bool
        No Hugging Face Hub downloads (``HF_HUB_OFFLINE``).
    """

    max_upload_mb: float = _env("max_upload_mb")
    max_duration_s: float = _env("max_duration_s")
    concurrency: int = _env("concurrency")
    max_queue: int = _env("max_queue")
    temp_max_age_s: float = _env("temp_max_age_s")
    models: ModelPolicy = ModelPolicy()
    max_recording_s: float = _env("max_recording_s")
    datasets_dir: Path = _env("datasets_dir")
    cache_dir: Path = _env("cache_dir")
    offline: bool = _env("offline")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``environ`` (default: the process environment), then ``overrides`` (CLI flags).

        Overrides that are ``None`` (a flag not given) leave the environment's value.

        Examples
        --------
        >>> Settings.from_env({"SER_MAX_DURATION": "1200"}).max_duration_s
        1200.0
        >>> Settings.from_env({}, max_duration_s=30).max_duration_s
        30
        """
        environ = os.environ if environ is None else environ
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"Unknown settings: {', '.join(sorted(unknown))}")
        values = {name: _from(environ, name) for name in ENVIRONMENT}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
