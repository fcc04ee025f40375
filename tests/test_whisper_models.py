"""Whisper base cut after its first encoder layers: the intermediate states the recognizer pools."""

import numpy as np
import pytest

from ser.features import EXTRACTOR_SIZES, WhisperEncoder, extract, whisper_encoder
from ser.whisper_models import _count_layers, _read_index, bundled_model_path, encoder_layers_path


def test_cut_model_keeps_every_other_variable_byte_for_byte(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_CACHE_DIR", str(tmp_path))
    full = bundled_model_path("base")
    cut = encoder_layers_path("base", 2)
    assert cut != full and cut.parent == tmp_path
    assert _count_layers(full / "model.bin", "encoder") == 6
    assert _count_layers(cut / "model.bin", "encoder") == 2 and _count_layers(cut / "model.bin", "decoder") == 1

    def variables(path):
        data = path.read_bytes()
        _, records, _, aliases = _read_index(data)
        return {name: data[start:end] for name, start, end in records}, aliases

    (source, source_aliases), (kept, kept_aliases) = variables(full / "model.bin"), variables(cut / "model.bin")
    dropped = {n for n in source if n.startswith(("encoder/layer_2/", "encoder/layer_3/", "encoder/layer_4/",
                                                   "encoder/layer_5/", "decoder/layer_1/", "decoder/layer_2/",
                                                   "decoder/layer_3/", "decoder/layer_4/", "decoder/layer_5/"))}
    assert dropped and set(kept) == set(source) - dropped
    assert all(kept[name] == source[name] for name in kept)
    assert kept_aliases == source_aliases
    assert encoder_layers_path("base", 2) == cut  # made once
    assert encoder_layers_path("base", 6) == full
    for bad in (0, 7):
        with pytest.raises(ValueError, match="6 encoder layers"):
            encoder_layers_path("base", bad)


def test_intermediate_states_are_the_encoders_own_and_differ_from_its_output(speech):
    clip = speech[: 3 * 16000]
    out = whisper_encoder("base").states(clip)
    after2 = whisper_encoder("base", 2).states(clip)
    assert after2.shape == out.shape and np.isfinite(after2).all()
    # Same frames, different depth: related but far from equal.
    assert 0.05 < np.corrcoef(out.ravel(), after2.ravel())[0, 1] < 0.95
    assert np.array_equal(after2, WhisperEncoder(encoder_layers_path("base", 2)).states(clip))
    vector = extract(clip, "whisper-base-l2")
    assert vector.shape == (EXTRACTOR_SIZES["whisper-base-l2"],) == (1024,)
    assert np.allclose(vector[:512], after2.mean(axis=0), atol=1e-5)
