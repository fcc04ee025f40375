"""Learned emotion conversion (tts.learned): the committed model loads safely and moves speech its way."""

import json
import shutil

import numpy as np
import pytest

from tts.learned import DEFAULT_PATH, HELD_OUT, LearnedConversion
from tts.prosody import analyze, speech_level

from conftest import corpus_dir


@pytest.fixture(scope="module")
def model():
    return LearnedConversion.load()


def test_the_committed_model_was_trained_without_the_held_out_speakers(model):
    assert set(model.info["held_out_speakers"]) == set(HELD_OUT)
    assert {"happy", "sad", "angry", "fearful", "disgust", "surprised"} <= set(model.mappings)
    # Acted anger is higher and louder than the same speaker's neutral take in all three corpora.
    assert model.mappings["angry"].f0_shift > 3 and model.mappings["angry"].level > 2


def test_a_held_out_speaker_converted_to_angry_follows_the_learned_change(model):
    import soundfile

    path = corpus_dir("ravdess") / "Actor_01" / "03-01-01-01-01-01-01.flac"
    samples, rate = soundfile.read(path, dtype="float32")
    angry = model.convert(samples, rate, "angry", 1.0)
    half = model.convert(samples, rate, "angry", 0.5)
    assert np.array_equal(model.convert(samples, rate, "neutral", 1.0), samples.astype(np.float32))

    def median_st(x):
        f0 = analyze(x, rate).f0
        return 12 * np.log2(np.median(f0[f0 > 0]))

    learned = model.mappings["angry"]
    full_shift = median_st(angry) - median_st(samples)
    assert abs(full_shift - learned.f0_shift) < 2.0  # within 2 st of what it learned
    assert 0.25 * learned.f0_shift < median_st(half) - median_st(samples) < 0.75 * learned.f0_shift
    assert abs(speech_level(angry, rate) - speech_level(samples, rate) - learned.level) < 1.0


def test_unknown_emotions_and_damaged_files_are_refused(model, tmp_path):
    with pytest.raises(ValueError, match="knows"):
        model.convert(np.zeros(1600, np.float32), 16000, "bored-to-tears")
    folder = tmp_path / "conversion"
    shutil.copytree(DEFAULT_PATH, folder)
    meta = json.loads((folder / "conversion.json").read_text())
    meta["emotions"]["angry"].pop("level")
    (folder / "conversion.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="'angry' entry is incomplete"):
        LearnedConversion.load(folder)
    (folder / "conversion.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="No usable learned conversion"):
        LearnedConversion.load(folder)


def test_save_and_load_round_trip(model, tmp_path):
    again = LearnedConversion.load(model.save(tmp_path / "copy"))
    for emotion, m in model.mappings.items():
        assert np.allclose(again.mappings[emotion].scale_gain, m.scale_gain, atol=1e-6)
        assert again.mappings[emotion].f0_shift == pytest.approx(m.f0_shift, abs=1e-4)


def test_keep_my_voice_can_use_the_learned_conversion():
    from tts import convert_emotion

    t = np.arange(16000) / 16000
    tone = (0.1 * np.sin(2 * np.pi * 150 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    learned = convert_emotion(tone, "sad", 1.0, method="learned")
    assert learned.dtype == np.float32 and learned.size > 8000 and np.isfinite(learned).all()
    with pytest.raises(ValueError, match="Unknown conversion method"):
        convert_emotion(tone, "sad", method="neural-magic")


def test_a_new_voice_can_be_given_the_learned_emotion(model):
    """Synthesis with method="learned": the engine speaks neutrally, the learned change follows."""
    from tts import synthesize

    def median_st(speech):
        f0 = analyze(speech.audio, speech.sample_rate).f0
        return 12 * np.log2(np.median(f0[f0 > 0]))

    neutral = synthesize("Kids are talking by the door.", "neutral", voice="youngman", seed=0, method="learned")
    angry = synthesize("Kids are talking by the door.", "angry", voice="youngman", seed=0, method="learned")
    assert angry.emotion == "angry" and angry.sample_rate == neutral.sample_rate
    # Piper's 22 kHz output: the 16 kHz mapping is read off at its frequencies, and the F0 follows it.
    assert abs(median_st(angry) - median_st(neutral) - model.mappings["angry"].f0_shift) < 2.0
    with pytest.raises(ValueError, match="Unknown conversion method"):
        synthesize("Hello.", "sad", method="neural-magic")


def test_revoice_reports_what_the_result_is_heard_as_and_both_pitch_contours():
    from pipelines.revoice import revoice

    clip = DEFAULT_PATH.parent / "examples" / "asr_en_happy.wav"
    result = revoice(str(clip), "sad", keep_voice=True, language="en", method="learned")
    assert result.method == "learned" and result.heard is not None
    assert set(result.heard.probabilities) == set(result.recognized.probabilities)
    assert "hears the result as" in result.summary() and "learned method" in result.summary()
    contours = result.pitch_contours()
    assert set(contours) == {"input", "result"}
    for times, f0 in contours.values():
        assert times.size == f0.size > 100 and np.nanmedian(f0) > 60
    assert result.to_dict()["result_heard_as"]["emotion"] == result.heard.emotion
    with pytest.raises(ValueError, match="Unknown conversion method"):
        revoice(str(clip), "sad", keep_voice=True, method="neural-magic")


def test_the_weights_were_chosen_on_validation_speakers_and_are_checked_on_load(model, tmp_path):
    from tts.learned import VALIDATION, WEIGHTS

    assert not set(VALIDATION) & set(HELD_OUT)
    for weight, name in ((model.shape_weight, "shape_weight_f0_rmse"),
                         (model.energy_weight, "energy_weight_energy_rmse")):
        scores = model.info["validation"][name]
        assert set(map(float, scores)) == set(WEIGHTS)
        assert weight == float(min(scores, key=scores.get))
    folder = tmp_path / "conversion"
    shutil.copytree(DEFAULT_PATH, folder)
    meta = json.loads((folder / "conversion.json").read_text())
    meta["shape_weight"] = "lots"
    (folder / "conversion.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="shape_weight"):
        LearnedConversion.load(folder)


def test_a_zero_contour_change_leaves_the_contour_as_it_was():
    from tts.learned import EmotionMapping, _map_f0

    rng = np.random.default_rng(0)
    f0 = 120 * np.exp(0.1 * np.cumsum(rng.standard_normal(400)) / 10)
    f0[::7] = 0.0  # some unvoiced frames
    same = EmotionMapping(0.0, np.zeros(10), 0.0, 0.0, 0.0, np.zeros(40), np.zeros(40))
    assert np.allclose(_map_f0(f0, same, 1.0), f0)
    wider = EmotionMapping(0.0, np.full(10, np.log(2.0)), 0.0, 0.0, 0.0, np.zeros(40), np.zeros(40))
    out = _map_f0(f0, wider, 1.0)
    voiced = f0 > 0
    assert np.log(out[voiced]).std() > 1.5 * np.log(f0[voiced]).std()


def test_the_energy_contour_widens_about_its_mean_in_voiced_frames_only():
    from tts.alignment import frame_energy
    from tts.learned import _energy_contour_gain

    rng = np.random.default_rng(1)
    envelope = np.exp(rng.normal(0, 0.5, (300, 1)) + np.zeros((300, 65)))
    voiced = np.arange(300) % 5 != 0
    gain = _energy_contour_gain(envelope, voiced, np.log(1.5))
    energy, wider = frame_energy(envelope), frame_energy(envelope * gain[:, None])
    assert np.all(gain[~voiced] == 1.0)
    assert wider[voiced].std() == pytest.approx(1.5 * energy[voiced].std(), rel=0.05)
    assert wider[voiced].mean() == pytest.approx(energy[voiced].mean(), abs=0.3)
    assert np.all(_energy_contour_gain(envelope, voiced, 0.0) == 1.0)
