"""Corpus readers on file names, and on the real corpora where present."""

from collections import Counter
from pathlib import Path

import pytest

from ser.corpora import (EMOTIONS, canonical_emotion, detect_corpus, parse_ased, parse_cremad,
                         parse_custom, parse_emodb, parse_ravdess, parse_savee, parse_tess, read_corpus)


@pytest.mark.parametrize("parse,name,expected", [
    (parse_ravdess, "Actor_01/03-01-05-02-01-01-01.wav", ("angry", "ravdess-01", "male")),
    (parse_ravdess, "03-01-02-01-02-02-12.flac", ("calm", "ravdess-12", "female")),
    (parse_emodb, "03a01Wa.wav", ("angry", "emodb-03", "male")),
    (parse_emodb, "16b10Lb.wav", ("boredom", "emodb-16", "female")),
    (parse_tess, "OAF_back_ps.wav", ("surprised", "tess-OAF", "female")),
    (parse_tess, "YAF_dog_fear.wav", ("fearful", "tess-YAF", "female")),
    (parse_savee, "DC_sa01.wav", ("sad", "savee-DC", "male")),
    (parse_savee, "KL/su15.wav", ("surprised", "savee-KL", "male")),
    (parse_cremad, "1001_DFA_DIS_XX.wav", ("disgust", "cremad-1001", None)),
    (parse_ased, "01Neutral/n1-01-01-01-01.flac", ("neutral", "ased-01", "female")),
    (parse_ased, "S4-04-02-01-29.flac", ("sad", "ased-29", "female")),
    (parse_ased, "a5-12-03-02-64.wav", ("angry", "ased-64", "male")),
    (parse_custom, "20190616_125714_happy.wav", ("happy", None, None)),
    (parse_custom, "sad/recording-3.wav", ("sad", None, None)),
])
def test_parsers(parse, name, expected):
    item = parse(Path(name))
    assert (item.emotion, item.speaker, item.gender) == expected


@pytest.mark.parametrize("parse,name", [
    (parse_ravdess, "03-02-05-02-01-01-01.wav"),  # song, not speech
    (parse_emodb, "03a01Xa.wav"),
    (parse_ased, "n4-01-01-01-01.flac"),  # letter and folder number disagree
    (parse_ased, "h3-01-01-03-01.flac"),  # no gender 03
    (parse_custom, "notes/recording.wav"),
])
def test_unlabelled_names_are_skipped(parse, name):
    assert parse(Path(name)) is None


def test_aliases_map_onto_canonical_labels():
    assert {canonical_emotion(a) for a in ["Anger", "joy", "ps", "fear", "sadness", "bored"]} == {
        "angry", "happy", "surprised", "fearful", "sad", "boredom"}
    assert set(EMOTIONS) == {canonical_emotion(e) for e in EMOTIONS}


def test_custom_folder_layout_and_detection(tmp_path):
    for name in ["happy/a.wav", "sad/b.wav", "x_angry.wav", "notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert detect_corpus(tmp_path) == "custom"
    assert sorted(u.emotion for u in read_corpus(tmp_path)) == ["angry", "happy", "sad"]


def test_real_ravdess(ravdess):
    items = list(read_corpus(ravdess))
    assert detect_corpus(ravdess) == "ravdess"
    assert len(items) == 1440 and len({u.speaker for u in items}) == 24
    counts = Counter(u.emotion for u in items)
    assert counts["neutral"] == 96 and counts["calm"] == 192
    assert Counter(u.gender for u in items) == {"male": 720, "female": 720}


def test_real_emodb(emodb):
    items = list(read_corpus(emodb))
    assert detect_corpus(emodb) == "emodb"
    assert len(items) == 535 and len({u.speaker for u in items}) == 10
    assert Counter(u.emotion for u in items)["boredom"] == 81


def test_ased_gender_is_each_speakers_majority(tmp_path):
    # Speaker 09 is coded female twice and male once; speaker 10 male throughout.
    for name in ["n1-01-01-01-09.flac", "f2-01-01-01-09.flac", "h3-01-01-02-09.flac", "s4-01-01-02-10.flac"]:
        (tmp_path / name).write_bytes(b"")
    assert detect_corpus(tmp_path) == "ased"
    assert {(u.speaker, u.gender) for u in read_corpus(tmp_path)} == {("ased-09", "female"), ("ased-10", "male")}


def test_real_ased(ased):
    items = list(read_corpus(ased))
    assert detect_corpus(ased) == "ased"
    assert len(items) == 2474 and len({u.speaker for u in items}) == 65
    assert Counter(u.emotion for u in items) == {"neutral": 522, "fearful": 510, "happy": 486, "sad": 470,
                                                 "angry": 486}
    genders = {u.speaker: u.gender for u in items}
    assert Counter(genders.values()) == {"female": 25, "male": 40}
    assert all(u.gender == genders[u.speaker] for u in items)  # one gender per speaker
