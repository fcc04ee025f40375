"""Worked examples of the registries: a new TTS engine and a new embedding extractor, added from outside.

Each is what a contributor writes to extend the project: one class (or
function) and one registration line, with no other file touched.
"""

from __future__ import annotations

import numpy as np
import pytest

import tts
from ser.bundle import ModelBundle, load_bundle, save_bundle
from ser.features import (EXTRACTOR_SIZES, EXTRACTORS, Extractor, FeatureCache, extract_features,
                          feature_set_choices, register_extractor)
from ser.recognizer import EmotionRecognizer
from ser.training import default_estimator, fit
from tts import registry
from tts.engine import Engine, Voice
from tts.voices import VOICES, resolve_voice, voice_choices, voice_language


class SineEngine(Engine):
    """A tone engine: each sentence a 140 Hz harmonic buzz as long as its text would take to say."""

    name = "sine"
    label = "sine-tone"
    description = "Harmonic tones (a test engine)"
    sample_rate = 16_000

    @property
    def voices(self):
        return (Voice("sine-low", "A low buzz", "male", engine=self.name, model="140"),)

    @property
    def languages(self):
        return ("en",)

    def language(self, voice):
        return "en"

    def synthesize(self, text, voice, *, tempo=1.0, variability=1.0, seed=0):
        rng = np.random.default_rng(seed)
        sentences = []
        for sentence in filter(None, (s.strip() for s in text.split("."))):
            t = np.arange(int(len(sentence) / 15 * tempo * self.sample_rate)) / self.sample_rate
            f0 = float(voice.model) * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))  # a little intonation to shape
            phase = 2 * np.pi * np.cumsum(f0) / self.sample_rate
            buzz = sum(np.sin(k * phase) / k for k in range(1, 8))
            sentences.append((0.3 * buzz + 1e-3 * rng.standard_normal(t.size)).astype(np.float32))
        return sentences, self.sample_rate


@pytest.fixture
def sine_engine():
    engine = tts.register_engine(SineEngine())  # the one line that adds an engine
    yield engine
    del registry.ENGINES[engine.name]


def test_a_registered_engine_speaks_through_synthesize(sine_engine):
    speech = tts.synthesize("Kids are talking by the door. Dogs are sitting.", "sad", voice="sine-low", seed=3)
    assert (speech.engine, speech.voice, speech.sample_rate) == ("sine-tone", "sine-low", 16_000)
    assert speech.duration > 1.0 and np.max(np.abs(speech.audio)) > 0.05
    again = tts.synthesize("Kids are talking by the door. Dogs are sitting.", "sad", voice="sine-low", seed=3)
    assert np.array_equal(speech.audio, again.audio)


def test_a_registered_engine_appears_in_every_choice(sine_engine):
    assert "sine-low" in VOICES and "sine-low" in tts.VOICES
    assert ("sine-low — A low buzz", "sine-low") in voice_choices()
    info = {e.name: e for e in tts.available_engines()}["sine"]
    assert info.available and info.voices == ("sine-low",) and info.sample_rate == 16_000
    assert voice_language(resolve_voice("Sine-Low")) == "en"


def test_an_unregistered_engine_is_gone_everywhere():
    assert "sine-low" not in VOICES
    with pytest.raises(ValueError, match="Unknown voice"):
        resolve_voice("sine-low")


def test_registry_refuses_what_breaks_the_contract(sine_engine):
    with pytest.raises(ValueError, match="registered already"):
        tts.register_engine(SineEngine())
    with pytest.raises(TypeError):
        tts.register_engine(object())


def test_remote_names_never_resolve_to_files(tmp_path):
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"")
    assert resolve_voice(str(model)).model == str(model)
    with pytest.raises(ValueError, match="Unknown voice"):
        resolve_voice(str(model), files=False)


# --- an embedding extractor -----------------------------------------------------------------

def tone_stats(samples: np.ndarray) -> np.ndarray:
    """Level (dB), zero-crossing rate and spectral centroid (kHz) of a clip: 3 values."""
    spectrum = np.abs(np.fft.rfft(samples))
    frequencies = np.fft.rfftfreq(samples.size, 1 / 16_000)
    return np.array([10 * np.log10(np.mean(samples ** 2) + 1e-12),
                     np.mean(np.abs(np.diff(np.sign(samples)))) / 2,
                     (spectrum @ frequencies) / (spectrum.sum() + 1e-12) / 1000], dtype=np.float32)


def tone(rng: np.random.Generator, f0: float, level: float) -> np.ndarray:
    t = np.arange(16_000) / 16_000
    wobble = f0 * (1 + 0.1 * rng.standard_normal())
    return (level * np.sin(2 * np.pi * wobble * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture
def tone_extractor():
    extractor = register_extractor(Extractor("tone-stats", 3, tone_stats, "level, ZCR, centroid", menu=True))
    yield extractor
    del EXTRACTORS[extractor.name]


def test_a_registered_extractor_trains_saves_and_recognizes(tone_extractor, tmp_path):
    assert EXTRACTOR_SIZES["tone-stats"] == 3 and "tone-stats" in feature_set_choices()
    rng = np.random.default_rng(0)
    clips = [tone(rng, 300, 0.5) for _ in range(12)] + [tone(rng, 110, 0.05) for _ in range(12)]
    labels = np.array(["happy"] * 12 + ["sad"] * 12)
    X = extract_features(clips, "tone-stats", cache=FeatureCache(tmp_path / "cache"))
    assert X.shape == (24, 3)
    model = fit(default_estimator("tone-stats"), X, labels)
    path = save_bundle(ModelBundle(model, "tone-stats", name="tones"), tmp_path / "tones")
    recognizer = EmotionRecognizer(load_bundle(path))
    assert recognizer.recognize_samples(tone(rng, 300, 0.5), check_speech=False).emotion == "happy"
    assert recognizer.recognize_samples(tone(rng, 110, 0.05), check_speech=False).emotion == "sad"


def test_extractor_registry_refuses_what_breaks_the_contract(tone_extractor):
    with pytest.raises(ValueError, match="taken"):
        register_extractor(Extractor("tone-stats", 3, tone_stats))
    with pytest.raises(ValueError, match="size"):
        register_extractor(Extractor("tone-empty", 0, tone_stats))
    with pytest.raises(ValueError, match="unknown set"):
        register_extractor(Extractor("tone-un", 3, tone_stats, base="nothing"))
