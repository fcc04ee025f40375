"""Share model bundles on the Hugging Face Hub: push with a token, pull by repo id.

Only safe formats travel: ``bundle.json``, ``weights.safetensors``,
allow-listed ``.skops`` files, Keras' native ``.keras`` files and the model
card.  Offline, both directions fail at once with a clear message instead of
retrying for half a minute.
"""

from __future__ import annotations

from pathlib import Path

from .bundle import BundleError, load_bundle
from .hub import REPO_ID, HubUnavailable, hub_offline, snapshot
from .recognizer import BUNDLE_FILES

SAFE_SUFFIXES = {".json", ".safetensors", ".skops", ".keras", ".md"}


def push_bundle(folder: str | Path, repo_id: str, *, token: str | None = None, private: bool = False) -> str:
    """Upload the bundle in ``folder`` to the Hub model repo ``repo_id`` (created if needed).

    Authorisation comes first: without a token, with a malformed repo id,
    offline, or when the Hub refuses the token, nothing is read from
    ``folder``.  Only then is the bundle loaded (so a damaged or unsafe one is
    never shared) and uploaded; its ``README.md`` model card becomes the
    repo's card.

    Returns
    -------
    str
        The URL of the commit.

    Examples
    --------
    >>> push_bundle("models/emodb", "me/ser-emodb", token="hf_…")   # doctest: +SKIP
    'https://huggingface.co/me/ser-emodb/commit/…'
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if not token or not token.strip():
        raise ValueError("Pushing to the Hub needs a write token (huggingface.co/settings/tokens).")
    if not REPO_ID.fullmatch(str(repo_id)):
        raise ValueError(f"{str(repo_id)[:80]!r} is not a Hub repo id (user/name).")
    if hub_offline():
        raise HubUnavailable("The Hugging Face Hub cannot be reached (offline); the bundle was not pushed.")
    api = HfApi(token=token.strip())
    try:
        api.whoami()
    except (HfHubHTTPError, OSError, ValueError) as error:
        raise HubUnavailable(f"The Hub did not accept this token: {error}") from error
    folder = Path(folder)
    load_bundle(folder)
    unsafe = [p.name for p in folder.iterdir() if p.suffix not in SAFE_SUFFIXES]
    if unsafe:
        raise BundleError(f"Refusing to push files in formats that are not known to be safe: {', '.join(unsafe)}.")
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder), allow_patterns=BUNDLE_FILES,
                                 commit_message=f"Upload {folder.name} model bundle")
    except (HfHubHTTPError, OSError, ValueError) as error:
        raise HubUnavailable(f"Could not push to {repo_id}: {error}") from error
    return str(getattr(info, "commit_url", info))


def pull_bundle(repo_id: str, *, revision: str | None = None, token: str | None = None) -> Path:
    """Download (or find in the local cache) the bundle in ``repo_id``; returns its folder.

    A server lets callers pull only the repos its :class:`ser.choice.ModelPolicy`
    allows; this function is the owner's own tool and takes any repo id.

    Raises
    ------
    HubUnavailable
        Not cached and the Hub cannot be reached.
    BundleError
        The repo holds no valid bundle.
    """
    if not REPO_ID.fullmatch(str(repo_id)):
        raise BundleError(f"{str(repo_id)[:80]!r} is not a Hub repo id (user/name).")
    folder = snapshot(repo_id, allow_patterns=BUNDLE_FILES, revision=revision, token=token)
    load_bundle(folder, confine=folder.parent.parent)
    return folder
