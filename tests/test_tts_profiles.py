"""Tests of the measured emotion profiles (tts.profiles) and how the rules use them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tts import synthesize
from tts.profiles import ltas, profiles_from
from tts.prosody import BAND_EDGES, band_centers, load_profiles
from tts.prosody import EMOTION_RULES, LITERATURE_RULES, MAX_ENERGY, ProsodyRule, with_measurements

DATASETS = Path(os.environ.get("SER_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
RATE = 16_000


def noise(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 0.1


def test_ltas_shape_is_level_free_and_sees_the_spectrum():
    white = ltas(noise())
    assert white.shape == (BAND_EDGES.size - 1,) and abs(white.mean()) < 1e-9
    assert np.ptp(white) < 3  # flat, whatever the band widths
    assert np.allclose(ltas(noise() * 10), white, atol=1e-6)  # a gain changes nothing
    dark = ltas(np.cumsum(noise()) * 0.01)  # integrated noise falls 6 dB per octave
    slope = np.polyfit(np.log2(band_centers()), dark, 1)[0]
    assert -7 < slope < -5


def test_profile_is_the_median_change_against_the_same_speaker_and_text():
    flat = [0.0] * (BAND_EDGES.size - 1)
    bright = [-1.0] * 12 + [1.0] * 12
    rows = []
    for speaker, lift in (("a", 4.0), ("b", 6.0), ("c", 20.0)):
        rows.append(dict(speaker=speaker, text="t1", emotion="neutral", f0=100.0, range=5.0, duration=2.0,
                         level=-30.0, ltas=flat))
        rows.append(dict(speaker=speaker, text="t1", emotion="angry", f0=100.0 * 2 ** (lift / 12), range=10.0,
                         duration=1.6, level=-30.0 + lift, ltas=bright))
        # a text said only angrily has no neutral reference and is left out
        rows.append(dict(speaker=speaker, text="t2", emotion="angry", f0=50.0, range=1.0, duration=9.0,
                         level=0.0, ltas=flat))
    angry = profiles_from(rows)["angry"]
    assert angry["speakers"] == 3
    assert angry["f0_level"] == pytest.approx(6.0) and angry["energy"] == pytest.approx(6.0)  # medians
    assert angry["f0_range"] == pytest.approx(2.0) and angry["duration"] == pytest.approx(0.8)
    assert angry["spectrum_db"] == bright


def test_committed_profiles_cover_every_emotion():
    profiles = load_profiles()
    assert set(profiles["corpora"]) == {"ravdess", "emodb"}
    assert len(profiles["band_hz"]) == BAND_EDGES.size - 1
    assert set(profiles["emotions"]) == set(LITERATURE_RULES) - {"neutral"}
    for emotion, p in profiles["emotions"].items():
        assert len(p["spectrum_db"]) == BAND_EDGES.size - 1
        assert p["speakers"] >= 10, emotion
    # what acted anger does, in every corpus study: higher, louder, brighter
    angry = profiles["emotions"]["angry"]
    assert angry["f0_level"] > 3 and angry["energy"] > 6
    assert np.mean(angry["spectrum_db"][-8:]) > np.mean(angry["spectrum_db"][:8])


def test_measurements_keep_the_literature_direction():
    rule = ProsodyRule(f0_level=-1.5, energy=-5.0, tilt=-2.0, duration=1.3)
    measured = {"f0_level": 3.0, "energy": 30.0, "spectrum_db": [1.0] * 24}
    got = with_measurements(rule, measured)
    assert (got.f0_level, got.energy, got.duration) == (-1.5, -5.0, 1.3)  # against the literature: kept
    assert got.tilt == 0 and len(got.spectrum_db) == 24
    louder = with_measurements(ProsodyRule(f0_level=5.0, energy=6.0), measured)
    assert (louder.f0_level, louder.energy) == (3.0, MAX_ENERGY)
    assert EMOTION_RULES["sad"].f0_level < 0 and EMOTION_RULES["sad"].energy < 0
    assert EMOTION_RULES["angry"].spectrum_db and not EMOTION_RULES["neutral"].spectrum_db


def test_intensity_and_conversion_scale_the_spectrum():
    rule = EMOTION_RULES["angry"]
    assert np.allclose(rule.scaled(0.5).spectrum_db, np.asarray(rule.spectrum_db) * 0.5, atol=1e-3)
    assert rule.scaled(0) == ProsodyRule()
    assert rule.relative_to(rule) == ProsodyRule()


def test_angry_speech_is_brighter_than_neutral():
    from ser.audio import resample

    text = "The birch canoe slid on the smooth planks."
    shapes = {}
    for emotion in ("neutral", "angry", "sad"):
        speech = synthesize(text, emotion, voice="youngman")
        shapes[emotion] = ltas(resample(speech.audio, speech.sample_rate, RATE))
    high = band_centers() > 2000
    assert shapes["angry"][high].mean() > shapes["neutral"][high].mean() + 3
    assert shapes["sad"][high].mean() < shapes["angry"][high].mean()


# Nine of the 34 speakers (RAVDESS' first two EmoBox folds but two actors, three EMO-DB
# speakers, 337 utterances, about a quarter of the full run): their profile is not the committed
# one (sad's F0 +6.6 against +3.2 st) but goes its way.  Measured on this subset: every change of
# 3 st / 3 dB or more keeps its sign at 0.84-2.3 times the committed size, every 1.25x or more
# of duration and range at 0.81-1.23 times its logarithm, and the spectra correlate 0.71-0.98; a
# broken measure (F0, level or spectrum of the wrong signal, the wrong neutral reference) fails.
PROFILE_SPEAKERS = {f"ravdess-{a:02d}" for a in (1, 4, 11, 12, 20, 21)} | {"emodb-03", "emodb-08", "emodb-10"}


@pytest.mark.slow
@pytest.mark.skipif(not (DATASETS / "ravdess").is_dir() or not (DATASETS / "emodb").is_dir(),
                    reason=f"RAVDESS and EMO-DB are not under {DATASETS}")
def test_committed_profiles_follow_from_a_subset_of_the_corpora():
    from tts.profiles import measure_corpora

    fresh = profiles_from(measure_corpora(DATASETS, speakers=PROFILE_SPEAKERS))
    committed = load_profiles()["emotions"]
    assert set(fresh) == set(committed)
    for emotion, p in committed.items():
        q = fresh[emotion]
        for key in ("f0_level", "energy"):
            if abs(p[key]) >= 3:
                assert np.sign(q[key]) == np.sign(p[key]) and abs(q[key]) >= 0.5 * abs(p[key]), (emotion, key, q[key])
        for key in ("duration", "f0_range"):
            if abs(np.log(p[key])) >= np.log(1.25):
                assert np.log(q[key]) / np.log(p[key]) >= 0.5, (emotion, key, q[key])
        assert np.corrcoef(q["spectrum_db"], p["spectrum_db"])[0, 1] > 0.6, emotion
