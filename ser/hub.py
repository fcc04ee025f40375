"""Hugging Face Hub access that fails fast when the network is absent.

``huggingface_hub`` retries for 20-45 s per call when it cannot connect.  We
decide once whether the Hub is reachable and, when it is not, read only the
local cache (``local_files_only``), so a missing model is a clear error in
milliseconds rather than a hang.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from .errors import Unavailable

logger = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT = 1.5
# ASCII only, matched whole (``fullmatch``): ``\w`` and ``$`` would also let in
# other scripts' letters and a trailing newline.
REPO_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9_.-]{1,96}")
_TRUE = {"1", "true", "yes", "on"}


class HubUnavailable(Unavailable, RuntimeError):
    """A Hub model is not cached locally and the Hub cannot be reached."""


def looks_like_repo_id(name: str) -> bool:
    """``"org/name"`` that is not an existing local path."""
    if not REPO_ID.fullmatch(str(name)):
        return False
    try:
        return not Path(name).exists()
    except OSError:
        return False


def offline_by_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def endpoint_address() -> tuple[str, int]:
    """Host and port of the Hub endpoint (``HF_ENDPOINT``), read at call time."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


@lru_cache(maxsize=None)
def host_reachable(host: str, port: int = 443, timeout: float = PROBE_TIMEOUT) -> bool:
    """One TCP connection attempt to ``host:port``; the answer is remembered."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError as error:
        logger.warning("the Hugging Face Hub (%s:%d) cannot be reached (%s): working offline, from the local "
                       "cache and the bundled models", host, port, error)
        return False


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set or the endpoint did not answer one short probe.

    The environment is read at every call; the probe runs once per endpoint.
    """
    return offline_by_env() or not host_reachable(*endpoint_address())


def offline_reason() -> str:
    """Why :func:`hub_offline` said yes, in words."""
    if offline_by_env():
        return "HF_HUB_OFFLINE is set"
    host, port = endpoint_address()
    return f"{host}:{port} cannot be reached"


def cache_dir() -> Path:
    """The Hub cache folder as the environment names it now.

    ``huggingface_hub.constants`` freezes these variables when the library is
    first imported, so a cache chosen later (tests, embedding apps) is missed.
    """
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache",
                                             "huggingface")
    return Path(home).expanduser() / "hub"


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
                                   local_files_only=offline, token=token, cache_dir=cache_dir())
    except LocalEntryNotFoundError as error:
        logger.warning("%s is not cached and the Hub is offline (%s)", repo_id, offline_reason())
        raise HubUnavailable(
            f"{repo_id} is not in the local Hugging Face cache and the Hub cannot be reached"
            f" (offline: {offline_reason()}). Connect to the internet once, or use a bundled model."
        ) from error
    except (HfHubHTTPError, OSError, ValueError) as error:
        logger.warning("could not fetch %s from the Hub: %s", repo_id, error)
        raise HubUnavailable(f"Could not fetch {repo_id} from the Hugging Face Hub: {error}") from error
    logger.info("%s from %s", repo_id, "the local cache (offline)" if offline else "the Hub (or its cache)")
    return Path(folder)
