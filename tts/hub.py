"""Piper voices from the Hugging Face Hub (``rhasspy/piper-voices``), cached.

Online, a voice is downloaded once into the standard Hugging Face cache;
offline, only cached voices load.  Whether the Hub is reachable comes from
:func:`ser.hub.hub_offline` (``HF_HUB_OFFLINE`` or one 1.5 s connection test), because
``huggingface_hub`` otherwise retries each call for 20–45 s before failing.
"""

from __future__ import annotations

import re
from pathlib import Path

from ser.errors import Unavailable
from ser.hub import cache_dir, hub_offline

REPO_ID = "rhasspy/piper-voices"
# Piper's voice naming on the Hub: <lang>_<REGION>-<name>-<quality>.
HUB_VOICE_NAME = re.compile(r"^[a-z]{2,3}_[A-Z]{2}-[A-Za-z0-9_]+-(x_low|low|medium|high)$")


class HubVoiceError(Unavailable, RuntimeError):
    """A Hub voice cannot be had; the message says why and what to do."""


def hub_cache_dir() -> str:
    """The cache to use, read from the environment at call time (not import time)."""
    return str(cache_dir())


def voice_files(name: str) -> tuple[str, str]:
    """Repository paths of a voice's model and config.

    Examples
    --------
    >>> voice_files("en_US-amy-medium")[0]
    'en/en_US/amy/medium/en_US-amy-medium.onnx'
    """
    if not HUB_VOICE_NAME.match(name):
        raise HubVoiceError(f"{name!r} is not a Piper voice name like en_US-amy-medium.")
    locale, speaker, quality = name.split("-", 2)
    folder = f"{locale.split('_')[0]}/{locale}/{speaker}/{quality}"
    return f"{folder}/{name}.onnx", f"{folder}/{name}.onnx.json"


def download_voice(name: str, *, revision: str | None = None) -> Path:
    """Path of the Piper ``.onnx`` voice ``name``, downloading it when online.

    Parameters
    ----------
    name : str
        Voice name as in the piper-voices repository, e.g. ``"en_US-amy-medium"``.
    revision : str, optional
        Repository revision (branch, tag or commit); ``main`` by default.

    Returns
    -------
    pathlib.Path
        The model file; its ``.onnx.json`` config lies beside it (both are in
        the same snapshot folder of the cache).

    Raises
    ------
    HubVoiceError
        Offline and not cached, unknown voice, or a failed download.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    offline = hub_offline()
    paths = []
    for filename in voice_files(name):
        try:
            paths.append(
                hf_hub_download(
                    REPO_ID, filename, revision=revision, cache_dir=hub_cache_dir(), local_files_only=offline
                )
            )
        except LocalEntryNotFoundError as error:
            if offline:
                raise HubVoiceError(
                    f"Voice {name} is not in the local Hugging Face cache and the Hub cannot be"
                    " reached. Connect once to download it, or pick a bundled voice."
                ) from error
            raise HubVoiceError(f"Could not download voice {name} from the Hub: {error}") from error
        except EntryNotFoundError as error:
            raise HubVoiceError(f"The Hub repository {REPO_ID} has no voice {name}.") from error
        except (HfHubHTTPError, OSError) as error:
            raise HubVoiceError(f"Could not download voice {name} from the Hub: {error}") from error
    return Path(paths[0])


def cached_voices() -> list[str]:
    """Names of the Piper voices already in the local cache (usable offline)."""
    from huggingface_hub import scan_cache_dir

    try:
        cache = scan_cache_dir(hub_cache_dir())
    except Exception:  # no cache folder yet, or an unreadable one: nothing cached
        return []
    names = set()
    for repo in cache.repos:
        if repo.repo_id != REPO_ID:
            continue
        for revision in repo.revisions:
            files = {f.file_name for f in revision.files}
            names.update(f[: -len(".onnx")] for f in files if f.endswith(".onnx") and f"{f}.json" in files)
    return sorted(n for n in names if HUB_VOICE_NAME.match(n))
