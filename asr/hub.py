"""Use the Hugging Face Hub when it answers and the local cache, fast, when not.

``huggingface_hub`` retries for 20–45 s per call when the network is down
unless it is told it is offline.  :func:`hub_online` asks :mod:`ser.hub` (the
``HF_HUB_OFFLINE`` variable, else one short socket probe, remembered) and
every download here passes ``local_files_only`` accordingly, so an uncached
model fails in well under a second with a message that says what to do.

Locations are read from the environment at call time (``HF_HUB_CACHE``,
``HF_HOME``, ``HF_ENDPOINT``) rather than from ``huggingface_hub.constants``,
which freezes them when the library is first imported.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ser.hub import cache_dir, endpoint_address, host_reachable, hub_offline, offline_reason

from .errors import ASRUnavailable

__all__ = ["cache_dir", "endpoint_address", "host_reachable", "hub_online", "offline_reason", "snapshot"]


def hub_online() -> bool:
    """Whether the Hub can be used (see :func:`ser.hub.hub_offline`)."""
    return not hub_offline()


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
