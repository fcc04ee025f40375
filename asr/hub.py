"""Use the Hugging Face Hub when it answers and the local cache, fast, when not.

``huggingface_hub`` retries for 20–45 s per call when the network is down
unless it is told it is offline.  :func:`hub_online` decides once (the
``HF_HUB_OFFLINE`` variable, else one short socket probe, remembered) and
every download here passes ``local_files_only`` accordingly, so an uncached
model fails in well under a second with a message that says what to do.

Locations are read from the environment at call time (``HF_HUB_CACHE``,
``HF_HOME``, ``HF_ENDPOINT``) rather than from ``huggingface_hub.constants``,
which freezes them when the library is first imported.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from .errors import ASRUnavailable

PROBE_TIMEOUT = 1.5
DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUE = {"1", "true", "yes", "on"}


def offline_by_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def hub_online() -> bool:
    """Whether the Hub can be used: ``False`` when ``HF_HUB_OFFLINE`` is set,
    otherwise the answer of one TCP probe of the endpoint, cached."""
    if offline_by_env():
        return False
    host, port = endpoint_address()
    return host_reachable(host, port)


def offline_reason() -> str:
    """Why :func:`hub_online` said no, in words."""
    if offline_by_env():
        return "HF_HUB_OFFLINE is set"
    host, port = endpoint_address()
    return f"{host}:{port} cannot be reached"


@lru_cache(maxsize=None)
def host_reachable(host: str, port: int = 443, timeout: float = PROBE_TIMEOUT) -> bool:
    """One TCP connection attempt to ``host:port``; the answer is remembered."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def endpoint_address() -> tuple[str, int]:
    url = urlparse(os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def cache_dir() -> Path:
    """The Hub cache folder as the environment names it now."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "huggingface"
    )
    return Path(home).expanduser() / "hub"


@contextmanager
def hub_errors(repo_id: str):
    """Turn the Hub's exceptions into :class:`ASRUnavailable` with a clear message."""
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    try:
        yield
    except (LocalEntryNotFoundError, OfflineModeIsEnabled):
        raise ASRUnavailable(
            f"The model {repo_id!r} is not in the local Hugging Face cache ({cache_dir()})"
            f" and the Hub cannot be used ({offline_reason()}). Download it once while"
            " online, or choose a bundled model."
        ) from None
    except RepositoryNotFoundError:
        raise ASRUnavailable(
            f"There is no model {repo_id!r} on the Hugging Face Hub (or it is private)."
        ) from None
    except Exception as error:  # httpx, OS and Hub HTTP errors all mean the same to a user
        raise ASRUnavailable(
            f"The model {repo_id!r} could not be fetched from the Hugging Face Hub: {error}"
        ) from error


def snapshot(repo_id: str, allow_patterns: list[str] | None = None,
             ignore_patterns: list[str] | None = None) -> Path:
    """Local folder of the Hub repository ``repo_id``, downloaded only when online.

    Raises
    ------
    ASRUnavailable
        When the repository is neither cached nor downloadable.
    """
    import huggingface_hub

    with hub_errors(repo_id):
        path = huggingface_hub.snapshot_download(
            repo_id,
            cache_dir=cache_dir(),
            allow_patterns=allow_patterns,
            ignore_patterns=ignore_patterns,
            local_files_only=not hub_online(),
        )
    return Path(path)


def is_cached(repo_id: str) -> bool:
    """Whether a snapshot of ``repo_id`` is in the local cache (no network)."""
    import huggingface_hub

    try:
        huggingface_hub.snapshot_download(repo_id, cache_dir=cache_dir(), local_files_only=True)
    except Exception:
        return False
    return True
