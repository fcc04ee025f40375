"""Tests of the tts package: synthesis, emotion rendering, voices, Hub, re-voicing, CLI."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile

import tts
from ser.hub import host_reachable
from pipelines.revoice import revoice
from tts import EMOTION_RULES, EMOTIONS, VOICES, convert_emotion, synthesize
from tts import engines, hub
from tts.__main__ import main
from tts.prosody import ProsodyRule, _warp_envelope, emotion_rule, formant_ratio, measure
from tts.revoice import next_output_path

ROOT = Path(__file__).resolve().parents[1]
SENTENCE = "Kids are talking by the door."
# Two sentences give the prosody measures enough voiced frames to be stable.
LONG_TEXT = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background."


def semitones(a: float, b: float) -> float:
    return 12 * np.log2(a / b)


@pytest.fixture(scope="module")
def neutral():
    speech = synthesize(LONG_TEXT, "neutral", voice="youngman")
    return measure(speech.audio, speech.sample_rate)


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    """A 16 kHz WAV of someone (the bundled voice) saying SENTENCE, neutrally."""
    from ser.audio import resample

    speech = synthesize(SENTENCE, "neutral", voice="youngman")
    path = tmp_path_factory.mktemp("rec") / "kids.wav"
    soundfile.write(path, resample(speech.audio, speech.sample_rate, 16_000), 16_000)
    return path


@dataclass
class FakeRecognition:
    emotion: str = "sad"
    confidence: float = 0.8
    gender: str = "female"
    probabilities: dict = field(default_factory=lambda: {"sad": 0.8, "neutral": 0.2})


class FakeRecognizer:
    """Stands in for ser.EmotionRecognizer where the test is about the pipeline."""

    def __init__(self, **kwargs):
        self.result = FakeRecognition(**kwargs)

    def recognize_samples(self, samples, emotions=None, check_speech=True):  # the pipelines hand over samples
        assert samples.dtype == np.float32 and samples.ndim == 1
        return self.result


# --- synthesis -------------------------------------------------------------------------------


@pytest.mark.parametrize("voice", list(VOICES))
@pytest.mark.parametrize("emotion", EMOTIONS)
def test_every_emotion_and_voice_gives_valid_speech(emotion, voice):
    speech = synthesize(SENTENCE, emotion, voice=voice)
    audio, rate = speech  # unpacks like the "audio array + sample rate"
    assert rate == 22_050 and audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    assert np.max(np.abs(audio)) > 0.05, "silent output"
    # Six words: about 1.5 s neutral, 1.2-2.3 s with the emotions' tempo.
    assert 0.9 < measure(audio, rate).duration < 3.0
    assert speech.emotion == emotion and speech.voice == voice


def test_rules_cover_every_recognizer_label():
    from ser.corpora import EMOTIONS as SER_EMOTIONS

    assert set(SER_EMOTIONS) == set(EMOTIONS) == set(EMOTION_RULES)


@pytest.mark.parametrize("emotion", [e for e in EMOTIONS if e != "neutral"])
def test_prosody_changes_in_the_rules_direction(emotion, neutral):
    rule = EMOTION_RULES[emotion]
    speech = synthesize(LONG_TEXT, emotion, voice="youngman")
    got = measure(speech.audio, speech.sample_rate)
    f0_change = semitones(got.f0_median, neutral.f0_median)
    if rule.f0_level >= 2:
        assert f0_change > 1.0
    elif rule.f0_level <= -1:
        assert f0_change < -0.3
    duration_ratio = got.duration / neutral.duration
    if rule.duration >= 1.1:
        assert duration_ratio > 1.05
    elif rule.duration <= 0.9:
        assert duration_ratio < 0.95
    change = got.level - neutral.level
    if np.max(np.abs(speech.audio)) >= 0.97:  # set_level never goes past the peak limit
        assert rule.energy - 4 < change <= rule.energy + 1.5
    else:
        assert change == pytest.approx(rule.energy, abs=1.5)


# Against neutral, the F0 range mixes the rule with the engine's own contour at the emotion's
# tempo: calm's 1.1x slower Piper speech is 12 % wider by itself (7.19 vs 6.43 st), which hid
# its 0.8 factor (6.04 vs 6.43).  So the range factor is measured on the same engine speech,
# rendered with and without it.  Its effect varies with the draw of Piper's noise (ratio sd
# 0.01-0.10 over four seeds, largest for calm), so three seeds are averaged: measured mean
# ratios 0.76-0.83 for the narrowing rules and 1.26-1.82 for the widening ones, each at least
# three standard errors from the thresholds.
RANGE_SEEDS = (0, 1, 2)


@pytest.mark.parametrize("emotion", [e for e in EMOTIONS if EMOTION_RULES[e].f0_range != 1])
def test_f0_range_changes_by_the_rules_factor(emotion):
    from dataclasses import replace

    from tts.prosody import render
    from tts.engines import PIPER_NOISE_W

    rule = EMOTION_RULES[emotion]
    ratios = []
    for seed in RANGE_SEEDS:
        sentences, rate = engines.piper_synthesize(LONG_TEXT, length_scale=engines.piper_length_scale(rule.duration),
                                                   noise_w_scale=PIPER_NOISE_W * rule.variability, seed=seed)

        def f0_range(r: ProsodyRule) -> float:
            return measure(np.concatenate([render(x, rate, r, seed=i) for i, x in enumerate(sentences)]), rate).f0_range

        ratios.append(f0_range(rule) / f0_range(replace(rule, f0_range=1.0)))
    ratio = float(np.exp(np.mean(np.log(ratios))))
    if rule.f0_range < 1:
        assert ratio < 0.95, ratios
    else:
        assert ratio > 1.1, ratios


def test_piper_is_deterministic_for_a_seed():
    """Piper's noise comes from the seed: the same call gives the same samples, in any order."""
    first, _ = engines.piper_synthesize(SENTENCE)
    engines.piper_synthesize("Something else in between.", noise_scale=0.9)
    again, _ = engines.piper_synthesize(SENTENCE)
    other, _ = engines.piper_synthesize(SENTENCE, seed=1)
    assert len(first) == len(again) and all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0][:2000], other[0][:2000])
    speech = [synthesize(LONG_TEXT, "sad", voice="youngwoman").audio for _ in range(2)]
    assert np.array_equal(*speech)
    # synthesize's seed reaches Piper's noise (not only WORLD's): the engine's own output changes.
    from tts.synthesis import _engine_sentences
    from tts.voices import resolve_voice

    voice = resolve_voice("youngwoman")
    engine = [_engine_sentences(SENTENCE, voice, 1.0, 1.0, seed=seed)[0][0] for seed in (0, 0, 7)]
    assert np.array_equal(engine[0], engine[1]) and not np.array_equal(engine[0][:2000], engine[2][:2000])


def test_mozziconacci_directions_hold():
    """The issue's literature anchors: F0 up for happy/angry/fearful, sad slower and narrower."""
    rules = EMOTION_RULES
    assert all(rules[e].f0_level > 0 for e in ("happy", "angry", "fearful", "surprised"))
    assert rules["fearful"].f0_level == max(r.f0_level for r in rules.values())
    assert rules["sad"].duration > 1.2 and rules["sad"].f0_range < 1
    assert rules["angry"].duration < rules["happy"].duration < 1 < rules["sad"].duration


def test_intensity_scales_the_change():
    f0 = [measure(*synthesize(LONG_TEXT, "happy", k, "youngman")).f0_median for k in (0.0, 0.5, 1.0)]
    base = measure(*synthesize(LONG_TEXT, "neutral", 1.0, "youngman")).f0_median
    assert abs(semitones(f0[0], base)) < 0.5
    assert f0[0] < f0[1] < f0[2]
    rule = EMOTION_RULES["sad"]
    assert rule.scaled(0) == ProsodyRule()
    assert rule.scaled(0.5).duration == pytest.approx(rule.duration**0.5)
    assert rule.scaled(1) == rule


def test_seed_voices_differ_in_pitch_and_formants():
    order = ("middlemale", "youngman", "youngwoman", "smallgirl")
    speech = {v: synthesize(LONG_TEXT, voice=v) for v in order}
    f0 = [measure(*speech[v]).f0_median for v in order]
    assert all(semitones(b, a) > 2.5 for a, b in zip(f0, f0[1:])), f0
    for a, b in zip(order, order[1:]):
        wanted = VOICES[b].formant_shift / VOICES[a].formant_shift
        assert formant_ratio(speech[a].audio, speech[b].audio, 22_050) == pytest.approx(wanted, rel=0.04)
    assert 170 < f0[2] < 260 and f0[3] > 240  # woman- and child-like F0


def test_envelope_warp_moves_formants():
    freqs = np.linspace(0, 11_025, 513)
    envelope = np.exp(-(((freqs - 1000) / 100) ** 2))[None, :] + 1e-6
    assert freqs[np.argmax(_warp_envelope(envelope, 1.2)[0])] == pytest.approx(1200, abs=30)
    assert freqs[np.argmax(_warp_envelope(envelope, 0.9)[0])] == pytest.approx(900, abs=30)


def test_speed_and_seed_form_names():
    slow, fast = synthesize(SENTENCE, speed=0.7), synthesize(SENTENCE, speed=1.5)
    assert measure(*slow).duration > 1.3 * measure(*fast).duration
    assert synthesize(SENTENCE, "DISGUSTED", voice="Middlemale").emotion == "disgust"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": "   "}, "no text"),
        ({"text": "x" * 3000}, "limit"),
        ({"text": "Hi.", "emotion": "sleepy"}, "Unknown emotion"),
        ({"text": "Hi.", "voice": "robot"}, "Unknown voice"),
        ({"text": "Hi.", "speed": 10}, "Speed"),
    ],
)
def test_bad_requests_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthesize(**kwargs)


def test_missing_piper_falls_back_to_espeak(monkeypatch):
    def broken(*args, **kwargs):
        raise engines.EngineError("Piper is not installed")

    monkeypatch.setattr(engines, "piper_synthesize", broken)
    speech = synthesize(SENTENCE, "happy", voice="youngwoman")
    assert speech.engine == "espeak-ng" and np.max(np.abs(speech.audio)) > 0.05


# --- Hub voices ------------------------------------------------------------------------------


def _fake_hub_cache(root: Path, name: str = "en_US-joe-medium") -> Path:
    """A real Hugging Face cache layout holding the bundled voice as a piper-voices file."""
    repo = root / "models--rhasspy--piper-voices"
    commit = "0123456789abcdef0123456789abcdef01234567"
    model_rel, config_rel = hub.voice_files(name)
    bundled = engines.bundled_piper_model()
    for rel, source, blob in ((model_rel, bundled, "a" * 64), (config_rel, Path(f"{bundled}.json"), "b" * 40)):
        (repo / "blobs").mkdir(parents=True, exist_ok=True)
        (repo / "blobs" / blob).symlink_to(source)  # the model is 63 MB: link, don't copy
        target = repo / "snapshots" / commit / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(repo / "blobs" / blob)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return root


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(_fake_hub_cache(tmp_path)))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_hub_voice_loads_from_the_offline_cache(offline_cache):
    path = hub.download_voice("en_US-joe-medium")
    assert path.name == "en_US-joe-medium.onnx" and str(offline_cache) in str(path)
    speech = synthesize(SENTENCE, "angry", voice="en_US-joe-medium")
    assert speech.engine == "piper" and speech.voice == "en_US-joe-medium"
    assert np.max(np.abs(speech.audio)) > 0.05
    assert hub.cached_voices() == ["en_US-joe-medium"]


def test_uncached_hub_voice_fails_fast_offline(offline_cache):
    start = time.perf_counter()
    with pytest.raises(tts.HubVoiceError, match="not in the local Hugging Face cache"):
        synthesize(SENTENCE, voice="en_US-amy-medium")
    assert time.perf_counter() - start < 3


def test_offline_is_detected_without_the_environment_variable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid")
    host_reachable.cache_clear()
    try:
        start = time.perf_counter()
        assert hub.hub_offline()
        assert time.perf_counter() - start < 3
    finally:
        host_reachable.cache_clear()


def test_hub_voice_names_map_to_repository_paths():
    assert hub.voice_files("de_DE-thorsten-high") == (
        "de/de_DE/thorsten/high/de_DE-thorsten-high.onnx",
        "de/de_DE/thorsten/high/de_DE-thorsten-high.onnx.json",
    )
    with pytest.raises(tts.HubVoiceError):
        hub.voice_files("thorsten")


# --- emotion conversion and re-voicing -------------------------------------------------------


def test_convert_emotion_keeps_rate_and_moves_prosody(recording):
    from ser.audio import load_audio

    samples = load_audio(recording)
    before = measure(samples, 16_000)
    sad = convert_emotion(samples, "sad")
    angry = convert_emotion(samples, "angry")
    assert sad.dtype == np.float32 and np.max(np.abs(sad)) > 0.01
    after_sad, after_angry = measure(sad, 16_000), measure(angry, 16_000)
    assert after_sad.duration > 1.15 * before.duration
    assert semitones(after_sad.f0_median, before.f0_median) < -0.5
    assert after_angry.duration < 0.95 * before.duration
    assert semitones(after_angry.f0_median, before.f0_median) > 1.5
    assert after_angry.level > before.level + 5


def test_converting_from_an_emotion_undoes_it(recording):
    from ser.audio import load_audio

    from ser.audio import resample

    assert emotion_rule("angry").relative_to(emotion_rule("angry")) == ProsodyRule()
    speech = synthesize(LONG_TEXT, "angry", voice="youngman")
    angry = resample(speech.audio, speech.sample_rate, 16_000)
    calmed, before = measure(convert_emotion(angry, "neutral", source_emotion="angry"), 16_000), measure(angry, 16_000)
    assert calmed.duration > 1.05 * before.duration  # anger's 90 % tempo undone
    assert semitones(calmed.f0_median, before.f0_median) < -3  # and its raised F0
    assert calmed.level < before.level - 5  # and its loudness
    samples = load_audio(recording)
    assert np.allclose(convert_emotion(samples, "sad", 0.0), samples, atol=1e-3)


def test_revoice_new_voice_follows_recognised_emotion_and_gender(recording):
    result = revoice(recording, recognizer=FakeRecognizer(emotion="sad", gender="female"))
    assert result.emotion == "sad" and result.voice == "youngwoman" and not result.keep_voice
    assert "talking by the door" in result.transcript.lower()
    assert result.sample_rate == 22_050 and result.recognized.emotion == "sad"
    assert set(result.timings) == {"load", "recognize", "transcribe", "synthesize", "judge"}


def test_revoice_keep_my_voice_converts_the_recording(recording, tmp_path):
    steps = []
    result = revoice(
        recording, "HAPPY", keep_voice=True, recognizer=FakeRecognizer(emotion="neutral"),
        progress=lambda fraction, desc=None: steps.append(fraction),
    )
    assert result.keep_voice and result.emotion == "happy" and result.sample_rate == 16_000
    assert steps[0] == 0 and steps[-1] == 1 and steps == sorted(steps)
    written = result.write(tmp_path / "happy.wav")
    assert soundfile.info(written).samplerate == 16_000


def test_revoice_without_words_explains(recording, monkeypatch):
    import asr
    import pipelines.revoice

    monkeypatch.setattr(pipelines.revoice, "transcribe",
                        lambda *a, **k: asr.Transcript("", "en", (), "stub", "stub", 1.0))
    with pytest.raises(ValueError, match="No words"):
        revoice(recording, "happy", "youngman", recognizer=FakeRecognizer())


def test_revoice_rejects_unusable_audio(tmp_path):
    from ser.audio import AudioError

    silent = tmp_path / "silence.wav"
    soundfile.write(silent, np.zeros(16_000, dtype=np.float32), 16_000)
    with pytest.raises(AudioError):
        revoice(silent, recognizer=FakeRecognizer())


def test_revoice_reports_named_stages_and_each_sentence():
    # A plain callable (no gradio below app.py): every stage is named, and the synthesis, the
    # long part, moves the bar sentence by sentence.
    steps = []
    revoice(ROOT / "assets" / "examples" / "asr_en_happy.wav", "sad", "youngman", recognizer=FakeRecognizer(),
            progress=lambda fraction, message: steps.append((fraction, message)))
    fractions, messages = zip(*steps)
    assert fractions[0] == 0 and fractions[-1] == 1 and list(fractions) == sorted(fractions)
    for number, stage in enumerate(("decoding", "recognising", "transcribing", "speaking in sad"), start=1):
        assert any(m.startswith(f"Stage {number} of 4: {stage}") for m in messages), (stage, messages)
    # "I am so happy to see you again. This is wonderful news!" is two sentences for Piper.
    sentence_steps = [f for f, m in steps if "sentence" in m]
    assert [m.split(" — ")[1] for m in messages if "sentence" in m] == [
        "giving sentence 1 of 2 its sad prosody", "giving sentence 2 of 2 its sad prosody"]
    assert 0.45 < sentence_steps[0] < sentence_steps[1] < 1


def test_voice_for_language_keeps_the_preset_character():
    from tts.voices import NoVoiceForLanguage, voice_for_language

    woman = VOICES["youngwoman"]
    assert voice_for_language(woman, "en") == (woman, "")
    assert voice_for_language(woman, None) == (woman, "")
    german, note = voice_for_language(woman, "de", language_name="German")
    assert (german.engine, german.model, german.pitch_shift, german.formant_shift) == ("espeak", "de", 14.0, 1.18)
    assert "German" in note and "espeak-ng" in note
    assert voice_for_language(woman, "fr")[0].model == "fr-fr"  # not fr-be
    assert voice_for_language(woman, "zh")[0].model == "cmn"  # Whisper's zh is espeak's Mandarin
    assert voice_for_language(VOICES["espeak-female"], "es")[0].model == "es+f3"
    with pytest.raises(NoVoiceForLanguage, match="no voice here speaks"):
        voice_for_language(woman, "xx", language_name="Nowhere-ish")


def test_revoice_speaks_german_words_with_a_german_voice(monkeypatch):
    # The bundled voice read German words with English phonemes ("tear-wrap and leak off them").
    from asr import transcribe
    from asr.metrics import word_error_rate
    from ser.audio import resample

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no Piper voice from the Hub: espeak-ng's German
    text = "Heute ist ein schöner Tag und ich freue mich sehr auf das Wochenende."
    result = revoice(ROOT / "assets" / "examples" / "asr_de.wav", "neutral", "youngwoman", language="de",
                     recognizer=FakeRecognizer())
    assert result.language == "de" and result.voice == "youngwoman (German)"
    assert "German" in result.note and result.note in result.summary()
    heard = transcribe(resample(result.audio, result.sample_rate, 16_000), language="de").text
    # Measured 0.08 (one word, "Wochenende", which espeak-ng's own example already loses).
    assert word_error_rate([text], [heard]) < 0.3, heard


# --- CLI -------------------------------------------------------------------------------------


def test_next_output_path_counts_up(tmp_path):
    assert next_output_path(tmp_path / "output") == tmp_path / "output" / "1.wav"
    for name in ("1.wav", "3.wav", "notes.wav"):
        (tmp_path / name).touch()
    assert next_output_path(tmp_path) == tmp_path / "4.wav"


def test_cli_seed_form_writes_numbered_outputs(recording, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    pipeline = importlib.import_module("pipelines.revoice")  # the module; revoice is the function
    monkeypatch.setattr(pipeline, "default_recognizer", lambda: FakeRecognizer(emotion="neutral", gender="male"))
    assert main([str(recording), "HAPPY", "smallgirl"]) == 0
    assert main(["revoice", str(recording), "--emotion", "sad", "--keep-voice"]) == 0
    assert main(["say", "Hello there.", "--voice", "youngwoman", "--out", "hi.wav"]) == 0
    out = capsys.readouterr().out
    assert "output/1.wav" in out and "output/2.wav" in out and "talking by the door" in out.lower()
    assert soundfile.info(tmp_path / "output" / "1.wav").samplerate == 22_050
    assert soundfile.info(tmp_path / "output" / "2.wav").samplerate == 16_000
    assert (tmp_path / "hi.wav").is_file()


def test_cli_reports_errors_without_a_traceback(tmp_path, capsys):
    assert main([str(tmp_path / "missing.wav"), "happy", "youngman"]) == 2  # every CLI: pipelines.errors.EXIT_CODE
    assert main(["say", "Hi.", "--emotion", "sleepy"]) == 2
    assert "error: No such audio file" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_end_to_end_with_the_bundled_models(recording, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "tts", str(recording), "angry", "youngman"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(ROOT), **_env()},
    )
    assert run.returncode == 0, run.stderr
    assert "recognised:" in run.stdout and (tmp_path / "output" / "1.wav").is_file()


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
