"""Parallel emotional takes (tts.parallel): the training pairs of learned emotion conversion."""

from pathlib import Path

import pytest

from tts.parallel import parallel_pairs

from conftest import corpus_dir


def _touch(folder: Path, *names: str) -> Path:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return folder


def test_ravdess_pairs_match_actor_statement_and_repetition(tmp_path):
    root = _touch(tmp_path, "Actor_01/03-01-01-01-01-01-01.wav", "Actor_01/03-01-01-01-01-02-01.wav",
                  "Actor_01/03-01-05-02-01-02-01.wav", "Actor_01/03-01-05-01-02-01-01.wav",
                  "Actor_02/03-01-03-01-01-01-02.wav")
    pairs = parallel_pairs(root, "ravdess")
    # Actor 01's strong angry statement 01, repetition 02 pairs with the neutral repetition 02;
    # statement 02 and actor 02 have no neutral take, so they have no pair.
    assert [(p.neutral.name, p.emotional.name, p.emotion) for p in pairs] == [
        ("03-01-01-01-01-02-01.wav", "03-01-05-02-01-02-01.wav", "angry")]


def test_emodb_falls_back_to_another_neutral_version_and_holds_out_speakers(tmp_path):
    root = _touch(tmp_path, "03a01Nc.wav", "03a01Fa.wav", "03a02Wa.wav", "08a01Na.wav", "08a01Ta.wav")
    pairs = parallel_pairs(root, "emodb", exclude={"emodb-08"})
    assert [(p.neutral.name, p.emotional.name, p.emotion, p.text) for p in pairs] == [
        ("03a01Nc.wav", "03a01Fa.wav", "happy", "emodb-a01")]
    assert [p.speaker for p in parallel_pairs(root, "emodb", speakers={"emodb-08"})] == ["emodb-08"]


def test_a_corpus_without_parallel_takes_is_refused(tmp_path):
    root = _touch(tmp_path, "OAF_back_angry.wav", "OAF_back_neutral.wav")
    with pytest.raises(ValueError, match="no parallel takes"):
        parallel_pairs(root, "tess")


@pytest.mark.parametrize("name, pairs, speakers", [("ravdess", 1344, 24), ("emodb", 354, 10), ("ased", 1854, 60)])
def test_real_corpora(name, pairs, speakers):
    found = parallel_pairs(corpus_dir(name))
    assert (len(found), len({p.speaker for p in found})) == (pairs, speakers)
    assert all(p.neutral.parent.parent == p.emotional.parent.parent or p.corpus != "ased" for p in found)
    assert all(p.emotion != "neutral" and p.neutral != p.emotional for p in found)
