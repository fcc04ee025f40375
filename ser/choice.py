"""Which model a remote caller may pick: one rule for the UI, the REST API and the server's CLI.

A caller of a shared server chooses from three things only: ``"default"``
(the bundled model), the name of a bundle trained into ``models/`` (a strict
name, never a path) and, only when the operator turned it on, a Hugging Face
repo id from the operator's allow-list.  An arbitrary server path is never
accepted from a remote caller; the local Python API (``EmotionRecognizer(path)``
in the owner's own code) still takes folders.

The rule's settings travel as a :class:`ModelPolicy` value passed to the app
and the server (``--allow-hub-models org/a,org/b``), not as module state.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .bundle import BUNDLE_NAME, META, BundleError, check_bundle_name, list_bundles, recover_bundle
from .hub import REPO_ID

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT = "default"
# Hub repo ids are at most 96 characters per part; anything longer is not worth looking at.
MAX_CHOICE_LENGTH = 200


@dataclass(frozen=True)
class ModelChoice:
    """A model a caller was allowed to pick: ``kind`` is ``"default"``, ``"bundle"`` or ``"hub"``.

    ``name`` is what the caller sent (a bundle name or a repo id); ``path`` is
    the bundle folder for ``"bundle"``.  Hashable, so it keys the shared
    recognizer cache.
    """

    kind: str
    name: str
    path: Path | None = None


def choose_model(name: str | None, *, models_dir: str | Path = MODELS_DIR, allow_hub: bool = False,
                 hub_allowlist: Sequence[str] = ()) -> ModelChoice:
    """Check a model name sent by a caller against the one rule; returns what to load.

    Parameters
    ----------
    name : str or None
        ``"default"`` (or empty), a bundle name under ``models_dir``, or a Hub
        repo id.
    models_dir : str or Path
        The folder of trained bundles (the project's ``models/``).
    allow_hub : bool
        Whether the operator enabled Hub models at all.
    hub_allowlist : sequence of str
        The only repo ids accepted when ``allow_hub`` is on.

    Raises
    ------
    BundleError
        Anything else, with a message that names no server path.

    Examples
    --------
    >>> choose_model("default")
    ModelChoice(kind='default', name='default', path=None)
    >>> choose_model("/etc")
    Traceback (most recent call last):
    ...
    ser.bundle.BundleError: Unknown model '/etc': use 'default' or the name of a bundle in models/.
    """
    hint = "use 'default'" + (", a Hub repo id the server allows" if allow_hub else "") + \
        " or the name of a bundle in models/"
    if name is None:
        name = DEFAULT
    if not isinstance(name, str):
        raise BundleError(f"The model must be a name; {hint}.")
    name = name.strip() or DEFAULT
    if len(name) > MAX_CHOICE_LENGTH:
        raise BundleError(f"The model name is {len(name)} characters long; {hint}.")
    if name == DEFAULT:
        return ModelChoice(DEFAULT, DEFAULT)
    if BUNDLE_NAME.fullmatch(name):
        folder = Path(models_dir) / name
        if not (folder / META).is_file():
            recover_bundle(folder)
        if (folder / META).is_file() and not folder.is_symlink():
            return ModelChoice("bundle", name, folder)
        raise BundleError(f"There is no bundle named {name!r} in models/; {hint}.")
    if REPO_ID.fullmatch(name) and ".." not in name:
        if not allow_hub:
            raise BundleError(f"Hub models are not enabled on this server ({name!r}); {hint}.")
        if name not in set(hub_allowlist):
            raise BundleError(f"The Hub model {name!r} is not on this server's allow-list; {hint}.")
        return ModelChoice("hub", name)
    raise BundleError(f"Unknown model {name[:80]!r}: {hint}.")


@dataclass(frozen=True)
class ModelPolicy:
    """The operator's settings for :func:`choose_model`: the models folder and the allowed Hub repos.

    Parameters
    ----------
    models_dir : Path
        Where bundles are trained to and chosen from.
    hub_models : tuple of str
        Hub repo ids callers may pick; empty (the default) disables the Hub
        for callers altogether, pulls included.
    """

    models_dir: Path = MODELS_DIR
    hub_models: tuple[str, ...] = ()

    @property
    def allow_hub(self) -> bool:
        return bool(self.hub_models)

    def choose(self, name: str | None) -> ModelChoice:
        """:func:`choose_model` under this policy."""
        return choose_model(name, models_dir=self.models_dir, allow_hub=self.allow_hub,
                            hub_allowlist=self.hub_models)

    def bundle_folder(self, name: str) -> Path:
        """The folder of the existing bundle ``name`` (strict name) in ``models_dir``."""
        folder = Path(self.models_dir) / check_bundle_name(name)
        if not (folder / META).is_file() or folder.is_symlink():
            raise BundleError(f"There is no bundle named {name!r} in models/.")
        return folder

    def hub_repo(self, repo_id: str) -> str:
        """``repo_id`` if callers may use it (Hub enabled and on the allow-list), else :class:`BundleError`."""
        repo_id = str(repo_id or "").strip()
        if not REPO_ID.fullmatch(repo_id) or len(repo_id) > MAX_CHOICE_LENGTH:
            raise BundleError(f"{repo_id[:80]!r} is not a Hub repo id (user/name).")
        return self.choose(repo_id).name

    def choices(self) -> list[str]:
        """What a caller can pick: the default, every bundle in ``models_dir``, the allowed Hub repos."""
        return [DEFAULT, *list_bundles(self.models_dir), *self.hub_models]


def parse_hub_models(value: str | None) -> tuple[str, ...]:
    """``"org/a, org/b"`` (the ``--allow-hub-models`` option) as a tuple of checked repo ids."""
    ids = tuple(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))
    bad = [i for i in ids if not REPO_ID.fullmatch(i) or ".." in i or len(i) > MAX_CHOICE_LENGTH]
    if bad:
        raise ValueError(f"Not Hub repo ids (user/name): {', '.join(bad)}.")
    return ids
