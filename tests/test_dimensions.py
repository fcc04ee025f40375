"""ser.dimensions: arousal and valence as the probability-weighted circumplex mean."""

import math

import pytest

from ser.dimensions import CIRCUMPLEX, arousal_valence

DEFAULT_LABELS = ["angry", "boredom", "calm", "disgust", "fearful", "happy", "neutral", "sad", "surprised"]


def test_every_emotion_of_the_default_model_has_a_place_in_range():
    from ser.recognizer import get_recognizer

    assert set(get_recognizer("default").labels) <= set(CIRCUMPLEX) == set(DEFAULT_LABELS)
    for valence, arousal in CIRCUMPLEX.values():
        assert -1 <= valence <= 1 and -1 <= arousal <= 1
    assert CIRCUMPLEX["neutral"] == (0.0, 0.0)


@pytest.mark.parametrize("emotion, arousal_sign, valence_sign", [
    ("angry", 1, -1), ("fearful", 1, -1), ("happy", 1, 1), ("surprised", 1, 1),
    ("sad", -1, -1), ("boredom", -1, -1), ("calm", -1, 1), ("disgust", 1, -1)])
def test_a_certain_emotion_sits_in_its_circumplex_quadrant(emotion, arousal_sign, valence_sign):
    dims = arousal_valence({emotion: 1.0})
    assert math.copysign(1, dims.arousal) == arousal_sign and math.copysign(1, dims.valence) == valence_sign
    assert dims.coverage == 1.0


def test_the_place_is_the_probability_weighted_mean():
    probabilities = {"angry": 0.2, "sad": 0.3, "happy": 0.1, "neutral": 0.4}
    dims = arousal_valence(probabilities)
    assert dims.valence == pytest.approx(sum(p * CIRCUMPLEX[e][0] for e, p in probabilities.items()))
    assert dims.arousal == pytest.approx(sum(p * CIRCUMPLEX[e][1] for e, p in probabilities.items()))
    assert arousal_valence({"neutral": 1.0}).to_dict() == {"arousal": 0.0, "valence": 0.0, "coverage": 1.0}
    # Opposite emotions in equal shares cancel out on valence.
    assert arousal_valence({"happy": 0.5, "sad": 0.5, "neutral": 0}).valence == pytest.approx(
        (CIRCUMPLEX["happy"][0] + CIRCUMPLEX["sad"][0]) / 2)


def test_unknown_labels_are_left_out_and_reported_in_coverage():
    dims = arousal_valence({"angry": 0.5, "ecstatic": 0.5})
    assert dims.arousal == pytest.approx(CIRCUMPLEX["angry"][1]) and dims.coverage == pytest.approx(0.5)
    assert arousal_valence({"ecstatic": 1.0}) is None
    assert arousal_valence({}) is None
    assert arousal_valence({"angry": 0.0, "sad": 0.0}) is None


def test_unnormalised_scores_give_the_same_place():
    a = arousal_valence({"angry": 2.0, "calm": 6.0})
    b = arousal_valence({"angry": 0.25, "calm": 0.75})
    assert (a.arousal, a.valence) == pytest.approx((b.arousal, b.valence))
    assert -1 <= a.arousal <= 1 and -1 <= a.valence <= 1
