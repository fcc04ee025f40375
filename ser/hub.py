"""Hugging Face Hub access that fails fast when the network is absent.

``huggingface_hub`` retries for 20-45 s per call when it cannot connect.  We
decide once whether the Hub is reachable and, when it is not, read only the
local cache (``local_files_only``), so a missing model is a clear error in
milliseconds rather than a hang.
"""

from __future__ import annotations

import os
import re
import socket
from functools import lru_cache
from pathlib import Path

HUB_HOST = "huggingface.co"
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class HubUnavailable(RuntimeError):
    """A Hub model is not cached locally and the Hub cannot be reached."""


def looks_like_repo_id(name: str) -> bool:
    """``"org/name"`` that is not an existing local path."""
    return bool(REPO_ID.match(str(name))) and not Path(name).exists()


@lru_cache(maxsize=1)
def hub_offline(timeout: float = 1.5) -> bool:
    """True when ``HF_HUB_OFFLINE`` is set or the Hub does not answer within ``timeout`` s."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        return True
    endpoint = os.environ.get("HF_ENDPOINT", f"https://{HUB_HOST}")
    host = re.sub(r"^\w+://", "", endpoint).split("/")[0].split(":")[0]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return False
    except OSError:
        return True


def snapshot(repo_id: str, *, allow_patterns=None, revision: str | None = None,
             token: str | None = None) -> Path:
    """Local folder of ``repo_id``'s files: from the cache, downloading when online.

    Raises
    ------
    HubUnavailable
        When the files are not cached and the Hub is unreachable (or the repo
        does not exist); the message names the repo and the reason.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    offline = hub_offline()
    try:
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=allow_patterns,
                                   local_files_only=offline, token=token)
    except LocalEntryNotFoundError as error:
        raise HubUnavailable(
            f"{repo_id} is not in the local Hugging Face cache and the Hub cannot be reached"
            " (offline). Connect to the internet once, or use a bundled model."
        ) from error
    except (HfHubHTTPError, OSError, ValueError) as error:
        raise HubUnavailable(f"Could not fetch {repo_id} from the Hugging Face Hub: {error}") from error
    return Path(folder)
