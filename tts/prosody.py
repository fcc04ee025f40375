"""Emotional prosody rules and their rendering with the WORLD vocoder.

Any speech, synthetic or recorded, is analysed into F0, spectral envelope and
aperiodicity (WORLD: DIO + StoneMask, CheapTrick, D4C), those are modified, and
the waveform is resynthesised.  One pass applies both the emotion (F0 level,
range and final contour, tempo, spectral tilt, breathiness, jitter) and the
voice preset (pitch shift, formant shift by warping the spectral envelope).

The rules (:data:`EMOTION_RULES`) follow the literature on vocal emotion:

* Murray & Arnott (1993), "Toward the simulation of emotion in synthetic
  speech", JASA 93(2) — the qualitative table (rate, pitch average, pitch
  range, intensity, voice quality, pitch changes) for anger, happiness,
  sadness, fear and disgust.
* Mozziconacci (1998), "Speech variability and emotion", PhD thesis, TU
  Eindhoven — perceptually optimal synthetic values relative to neutral
  (5 st range, 100 % duration): joy 10 st / 83 %, anger 10 st / 79 %,
  fear 8 st / 89 % at the highest level, sadness 129 %, boredom 4 st / 150 %.
* Banse & Scherer (1996), "Acoustic profiles in vocal emotion expression",
  JPSP 70(3) — energy and spectral balance: hot anger and elation loud with
  more high-frequency energy (flatter tilt), sadness and boredom soft with a
  steeper tilt.
* Cahn (1990), "The generation of affect in synthesized speech", JAVIOS 8 —
  surprise (absent from the two tables above): raised pitch, wide range and a
  final rise.
* Tartter (1980), "Happy talk", Perception & Psychophysics 27; Tartter &
  Braun (1994), JASA 96 — smiling raises and frowning lowers formants.
* Gobl & Ní Chasaide (2003), "The role of voice quality in communicating
  emotion, mood and attitude", Speech Communication 40 — breathy/lax voice
  for fear and sadness, tense voice for anger.
* Schröder (2004), dimensional rules (activation ↔ F0 level, range, rate and
  intensity) — RAVDESS' *calm* as low-activation neutral.

The literature's magnitudes are then completed with measurements of acted
speech (:mod:`tts.profiles`: RAVDESS and EMO-DB, each speaker against their
own neutral take of the same text): F0 level and loudness where they go the
literature's way, and the long-term spectrum change (voice quality) in place
of a single tilt figure; see :func:`with_measurements`.

Mozziconacci's levels are end frequencies of a flat synthetic contour (e.g.
joy 155 Hz against 65 Hz neutral); applied literally to natural speech they
would shift F0 by more than an octave, so the table keeps their *order*
(fear > joy > anger > neutral) at levels measured in acted natural speech
(a few semitones, Banse & Scherer 1996).  Every value is the full expression,
reached at ``intensity=1``; :meth:`ProsodyRule.scaled` interpolates from
neutral.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

# 5 ms frames: WORLD's default, fine enough for F0 edits, cheap on 2 cores.
FRAME_PERIOD = 5.0
F0_FLOOR, F0_CEIL = 60.0, 800.0
# CheapTrick's FFT covers three periods of this F0; WORLD's default 71 Hz
# gives 1024 points at 22 kHz, half the cost of 60 Hz.  Lower F0s (creaky
# ends of the bundled voice) are analysed as if at 71 Hz, which only smooths
# their envelope a little.
ENVELOPE_F0_FLOOR = 71.0
# Active-speech RMS level (dBFS) of neutral synthetic speech; emotions add
# their ``energy`` to it; low enough to leave headroom for anger's +8 dB
# with a flattened (peakier) spectrum.
REFERENCE_LEVEL = -30.0
#: The profiles measured on the corpora (``python -m tts.profiles`` writes them).
PROFILES_PATH = Path(__file__).with_name("emotion_profiles.json")
# Band edges: 24 bands, log-spaced from 100 Hz to 8 kHz (about a third of an octave each).
BAND_EDGES = np.geomspace(100.0, 8000.0, 25)


def band_centers() -> np.ndarray:
    return np.sqrt(BAND_EDGES[:-1] * BAND_EDGES[1:])


@lru_cache(maxsize=1)
def load_profiles() -> dict:
    """The committed profiles: ``{"band_hz": [...], "emotions": {emotion: {...}}}``."""
    return json.loads(PROFILES_PATH.read_text())


@dataclass(frozen=True)
class ProsodyRule:
    """How an emotion changes neutral speech, at full intensity.

    Attributes
    ----------
    f0_level : float
        Shift of the F0 level in semitones.
    f0_range : float
        Factor on F0 excursions around the utterance median (in semitones):
        2.0 turns a 5 st range into 10 st.
    duration : float
        Factor on duration (1.29 = 29 % slower).
    energy : float
        Level change in dB.
    tilt : float
        Spectral tilt change in dB per octave above 1 kHz; positive is a
        flatter, tenser ("blaring") spectrum, negative a softer, darker one.
    breathiness : float
        0–1, fraction by which aperiodicity above 1 kHz moves towards noise.
    jitter : float
        Standard deviation in semitones of a random, 15 ms-smoothed F0
        perturbation ("irregular voicing").
    final_contour : float
        Semitones of rise (+) or fall (−) over the last 30 % of each
        utterance's voiced span (terminal inflection).
    variability : float
        Factor on the engine's phoneme-duration noise (Piper ``noise_w``):
        lively emotions vary their rhythm more.
    formant_shift : float
        Factor on formant frequencies: spreading the lips in a smile
        shortens the vocal tract and raises formants, frowning lowers them
        (Tartter 1980; Tartter & Braun 1994).
    spectrum_db : tuple of float
        Level change in dB of each band of :data:`BAND_EDGES`
        (long-term spectrum shape, mean 0): the voice quality acted
        speakers show in this emotion, measured by :mod:`tts.profiles`.
        Empty means no change.
    """

    f0_level: float = 0.0
    f0_range: float = 1.0
    duration: float = 1.0
    energy: float = 0.0
    tilt: float = 0.0
    breathiness: float = 0.0
    jitter: float = 0.0
    final_contour: float = 0.0
    variability: float = 1.0
    formant_shift: float = 1.0
    spectrum_db: tuple = ()

    # Multiplicative fields interpolate geometrically, the rest linearly.
    _FACTORS = ("f0_range", "duration", "variability", "formant_shift")

    def scaled(self, intensity: float) -> "ProsodyRule":
        """The rule at ``intensity`` in [0, 1]: 0 is neutral, 1 the full rule."""
        k = float(np.clip(intensity, 0.0, 1.0))
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "spectrum_db":
                values[f.name] = _bands(np.asarray(value) * k)
            else:
                values[f.name] = value**k if f.name in self._FACTORS else value * k
        return ProsodyRule(**values)

    def relative_to(self, source: "ProsodyRule") -> "ProsodyRule":
        """The change from speech already showing ``source`` to this rule.

        Used to convert an emotional recording: undo what can be undone of the
        source emotion (level, range, tempo, energy, tilt, contour) and apply
        the target.  Added noise (breathiness, jitter) cannot be removed, so
        those only count the target's excess.
        """
        values = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(source, f.name)
            if f.name == "spectrum_db":
                values[f.name] = _bands(_padded(a) - _padded(b))
            elif f.name in self._FACTORS:
                values[f.name] = a / b
            elif f.name in ("breathiness", "jitter"):
                values[f.name] = max(a - b, 0.0)
            else:
                values[f.name] = a - b
        return ProsodyRule(**values)

    @property
    def is_identity(self) -> bool:
        return self == ProsodyRule()


def _padded(bands: tuple) -> np.ndarray:
    return np.asarray(bands, dtype=np.float64) if bands else np.zeros(BAND_EDGES.size - 1)


def _bands(values: np.ndarray) -> tuple:
    """Band levels as a rule stores them: rounded, and empty when all are 0 dB."""
    rounded = tuple(round(float(v), 3) for v in values)
    return rounded if any(rounded) else ()


#: The eight RAVDESS emotions plus EMO-DB's boredom, at full intensity, as
#: the literature gives them.  Directions come from the sources cited per
#: row; magnitudes were then set inside those directions by a small search
#: against the project's own recognizer on the bench's RAVDESS statements
#: (see bench/results/tts.md), e.g. sadness ended at 135 % duration
#: (Mozziconacci: 129 %) and disgust at 145 % (Murray & Arnott: "very much
#: slower").  :data:`EMOTION_RULES` completes them with measurements.
LITERATURE_RULES: dict[str, ProsodyRule] = {
    # The engine's own delivery, by definition.
    "neutral": ProsodyRule(),
    # Low activation (Schröder 2004): a little lower, narrower, slower, softer
    # and darker than neutral.
    "calm": ProsodyRule(f0_level=-1.0, f0_range=0.8, duration=1.10, energy=-3.0, tilt=-1.5, breathiness=0.15),
    # M&A: pitch much higher, range much wider, intensity higher, breathy
    # blaring, smooth upward inflections.  Mozziconacci: 10 st (x2), 83 %;
    # RAVDESS actors slow down instead (our measurement: 100-113 %), so the
    # tempo stays near neutral.  Smiling raises formants (Tartter 1980).
    "happy": ProsodyRule(
        f0_level=5.0, f0_range=1.7, duration=0.95, energy=6.0, tilt=3.0, breathiness=0.15,
        final_contour=2.0, variability=1.2, formant_shift=1.04,
    ),
    # M&A: slightly slower, slightly lower, slightly narrower, lower
    # intensity, downward inflections.  Mozziconacci: 129 % duration.
    # Banse & Scherer: steep spectral slope.  Frowning lowers formants
    # (Tartter & Braun 1994).
    "sad": ProsodyRule(
        f0_level=-1.5, f0_range=0.65, duration=1.35, energy=-5.0, tilt=-2.5, breathiness=0.15,
        final_contour=-3.0, variability=0.7, formant_shift=0.95,
    ),
    # M&A: pitch very much higher, range much wider, intensity higher,
    # abrupt changes, tense articulation.  Mozziconacci: 10 st, 79 %.
    # Banse & Scherer (hot anger): much more high-frequency energy; the
    # slight jitter stands for harsh voice.
    "angry": ProsodyRule(
        f0_level=5.0, f0_range=1.4, duration=0.90, energy=8.0, tilt=5.0, breathiness=0.1, jitter=0.2,
        final_contour=-1.0,
    ),
    # M&A: much faster, pitch very much higher, range much wider, irregular
    # voicing.  Mozziconacci: highest level of all, 8 st (x1.6), 89 %.
    # Breathy, lax voice rather than tense (Gobl & Ní Chasaide 2003).
    "fearful": ProsodyRule(
        f0_level=8.0, f0_range=1.5, duration=0.80, energy=0.0, tilt=-2.0, breathiness=0.45, jitter=0.3,
        variability=1.35, formant_shift=1.02,
    ),
    # M&A: very much slower, very much lower, slightly wider, lower
    # intensity, grumbled chest tone, wide downward terminal inflections.
    "disgust": ProsodyRule(
        f0_level=-2.5, f0_range=1.35, duration=1.45, energy=-3.0, final_contour=-4.0, variability=0.85,
        formant_shift=0.95,
    ),
    # Cahn 1990: raised pitch, wide range, a little faster, final rise.
    "surprised": ProsodyRule(
        f0_level=6.0, f0_range=2.0, duration=0.90, energy=4.0, tilt=1.0, final_contour=5.0,
        variability=1.3, formant_shift=1.04,
    ),
    # Mozziconacci: same level as neutral, 4 st (x0.8), 150 % duration;
    # Banse & Scherer: soft, steep slope; creaky-lax voice (Gobl & Ní Chasaide).
    "boredom": ProsodyRule(f0_range=0.8, duration=1.5, energy=-4.0, tilt=-2.0, variability=0.7),
}


# The measured spectral change is applied at this multiple: a median of
# long-term spectra over speakers understates what a single take shows, and
# 1.6 conveyed the emotion to the recognizer best of 1.0, 1.6 and 2.2 on 56
# conversions of 4 RAVDESS actors (the bench then runs all 24).
SPECTRUM_GAIN = 1.6
# Louder than this over neutral would clip at REFERENCE_LEVEL with the flatter
# spectrum of loud emotions (RAVDESS' strong anger is 20 dB above the same
# actor's neutral).
MAX_ENERGY = 10.0


def with_measurements(rule: ProsodyRule, profile: dict | None) -> ProsodyRule:
    """Complete a literature rule with what acted speakers do (:mod:`tts.profiles`).

    The literature gives directions, and magnitudes for flat synthetic
    contours; RAVDESS and EMO-DB actors show larger ones.  From the measured
    profile the rule takes the F0 level and the loudness when they go the
    literature's way (or the literature leaves them unchanged), else it keeps
    its own, e.g. sadness stays lower and softer though RAVDESS' strong sad
    takes are higher and louder than neutral; and it takes the long-term
    spectrum change in place of the literature's single tilt figure.  Tempo,
    range and voice-quality fields stay the literature's.
    """
    if profile is None:
        return rule
    changes = {}
    for name, measured in (("f0_level", profile["f0_level"]), ("energy", min(profile["energy"], MAX_ENERGY))):
        if np.sign(measured) == np.sign(getattr(rule, name)) or getattr(rule, name) == 0:
            changes[name] = round(float(measured), 2)
    changes["spectrum_db"] = _bands(SPECTRUM_GAIN * np.asarray(profile["spectrum_db"]))
    changes["tilt"] = 0.0
    return replace(rule, **changes)


def _measured_rules() -> dict[str, ProsodyRule]:
    profiles = load_profiles()["emotions"]
    return {e: with_measurements(r, profiles.get(e)) if e != "neutral" else r for e, r in LITERATURE_RULES.items()}


#: The rules in use: :data:`LITERATURE_RULES` completed by :func:`with_measurements`.
EMOTION_RULES: dict[str, ProsodyRule] = _measured_rules()


def emotion_rule(emotion: str, intensity: float = 1.0) -> ProsodyRule:
    """The rule for ``emotion`` (a canonical label) at ``intensity``."""
    try:
        return EMOTION_RULES[emotion].scaled(intensity)
    except KeyError:
        raise ValueError(f"Unknown emotion {emotion!r}; choose one of {', '.join(EMOTION_RULES)}.") from None


@dataclass
class WorldFeatures:
    """WORLD analysis of one signal: F0 (Hz, 0 = unvoiced), envelope, aperiodicity."""

    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray
    sample_rate: int


def track_pitch(samples: np.ndarray, sample_rate: int, times: np.ndarray) -> np.ndarray:
    """F0 in Hz (0 = unvoiced) at ``times`` (seconds, 5 ms apart), by Praat.

    Two passes (Hirst 2011): a wide 60–800 Hz search finds the speaker's
    quartiles, then the search is limited to 0.75 x Q1 … 2 x Q3.  The wide
    pass alone reads creak and fricatives as 450–550 Hz on the bundled voice.
    """
    import parselmouth

    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=sample_rate)
    first = sound.to_pitch_ac(time_step=0.01, pitch_floor=F0_FLOOR, pitch_ceiling=F0_CEIL)
    voiced = first.selected_array["frequency"]
    voiced = voiced[voiced > 0]
    floor, ceil = F0_FLOOR, F0_CEIL
    if voiced.size >= 5:
        q1, q3 = np.percentile(voiced, [25, 75])
        floor, ceil = max(F0_FLOOR * 0.8, 0.75 * q1), min(F0_CEIL * 1.4, 2.0 * q3)
    pitch = sound.to_pitch_ac(time_step=FRAME_PERIOD / 1000, pitch_floor=floor, pitch_ceiling=ceil)
    tracked = pitch.selected_array["frequency"]
    f0 = np.zeros(times.size)
    if tracked.size:
        nearest = np.round((times - pitch.xs()[0]) / (FRAME_PERIOD / 1000)).astype(int)
        inside = (nearest >= 0) & (nearest < tracked.size)
        f0[inside] = tracked[nearest[inside]]
    return f0


def analyze(samples: np.ndarray, sample_rate: int) -> WorldFeatures:
    """WORLD analysis, with F0 tracked by Praat.

    WORLD's fast DIO tracker jumps an octave up on low male voices whose
    fundamental is weak (the bundled Piper voice: 85–110 Hz read as ~170 Hz),
    and Harvest is six times slower; Praat's autocorrelation tracker is both
    right and fast (:func:`track_pitch`).  StoneMask refines it.
    """
    pyworld = _pyworld()
    x = np.ascontiguousarray(samples, dtype=np.float64)
    times = np.arange(int(x.size / sample_rate / (FRAME_PERIOD / 1000)) + 1) * (FRAME_PERIOD / 1000)
    f0 = pyworld.stonemask(x, track_pitch(x, sample_rate, times), times, sample_rate)
    fft_size = pyworld.get_cheaptrick_fft_size(sample_rate, ENVELOPE_F0_FLOOR)
    envelope = pyworld.cheaptrick(x, f0, times, sample_rate, fft_size=fft_size)
    aperiodicity = pyworld.d4c(x, f0, times, sample_rate, fft_size=fft_size)
    return WorldFeatures(f0, envelope, aperiodicity, sample_rate)


def _pyworld():
    import warnings

    # pyworld 0.3.5 imports pkg_resources only to read its own version.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import pyworld
    return pyworld


def synthesize_world(features: WorldFeatures) -> np.ndarray:
    out = _pyworld().synthesize(
        np.ascontiguousarray(features.f0),
        np.ascontiguousarray(features.envelope),
        np.ascontiguousarray(features.aperiodicity),
        features.sample_rate,
        FRAME_PERIOD,
    )
    return out.astype(np.float32)


def render(
    samples: np.ndarray,
    sample_rate: int,
    rule: ProsodyRule = ProsodyRule(),
    *,
    pitch_shift: float = 0.0,
    formant_shift: float = 1.0,
    time_stretch: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Apply an emotion rule and a voice transform to speech.

    Parameters
    ----------
    samples : numpy.ndarray
        Mono float speech.
    sample_rate : int
        Its rate.
    rule : ProsodyRule
        The emotion, already scaled to its intensity.  Its ``energy`` is not
        applied here (see :func:`set_level`); its ``duration`` neither, since
        engines render tempo better themselves — pass it as ``time_stretch``
        for recordings.
    pitch_shift : float
        Voice pitch shift in semitones, added to the rule's level.
    formant_shift : float
        Factor on formant frequencies (spectral-envelope warp): 1.2 moves
        an adult male's formants towards a woman's.
    time_stretch : float
        Duration factor applied by repeating or dropping WORLD frames.
    seed : int
        Seed of the jitter noise, so output is reproducible.

    Returns
    -------
    numpy.ndarray
        Float32 speech at ``sample_rate``.

    Examples
    --------
    >>> y = render(x, 22050, emotion_rule("sad"), time_stretch=1.29)  # doctest: +SKIP
    """
    if rule.is_identity and pitch_shift == 0 and formant_shift == 1 and time_stretch == 1:
        return np.asarray(samples, dtype=np.float32)
    world = analyze(samples, sample_rate)
    f0 = _shape_f0(world.f0, rule, pitch_shift, np.random.default_rng(seed))
    envelope = _warp_envelope(world.envelope, formant_shift * rule.formant_shift)
    envelope = envelope * _tilt_gain(rule.tilt, envelope.shape[1], sample_rate)
    envelope = envelope * _spectrum_gain(rule.spectrum_db, envelope.shape[1], sample_rate)
    aperiodicity = _breathe(world.aperiodicity, rule.breathiness, sample_rate)
    if time_stretch != 1:
        frames = _stretch_index(f0.size, time_stretch)
        f0, envelope, aperiodicity = f0[frames], envelope[frames], aperiodicity[frames]
    return synthesize_world(WorldFeatures(f0, envelope, aperiodicity, sample_rate))


def _shape_f0(f0: np.ndarray, rule: ProsodyRule, pitch_shift: float, rng: np.random.Generator) -> np.ndarray:
    voiced = f0 > 0
    if voiced.sum() < 2:
        return f0
    semitones = 12 * np.log2(f0[voiced])
    center = np.median(semitones)
    semitones = center + rule.f0_level + pitch_shift + (semitones - center) * rule.f0_range
    position = np.flatnonzero(voiced)
    if rule.final_contour:
        start, end = position[0], position[-1]
        ramp_start = end - 0.3 * (end - start)
        semitones += rule.final_contour * np.clip((position - ramp_start) / max(end - ramp_start, 1), 0, 1)
    if rule.jitter:
        noise = rng.standard_normal(f0.size)
        noise = np.convolve(noise, np.ones(3) / np.sqrt(3), mode="same")  # 15 ms, unit variance
        semitones += rule.jitter * noise[voiced]
    out = np.zeros_like(f0)
    out[voiced] = np.clip(2 ** (semitones / 12), 40.0, 1100.0)
    return out


def _warp_envelope(envelope: np.ndarray, factor: float) -> np.ndarray:
    """Move spectral-envelope features (formants) up by ``factor`` in frequency."""
    if factor == 1:
        return envelope
    bins = envelope.shape[1]
    source = np.arange(bins) / factor
    low = np.clip(np.floor(source).astype(int), 0, bins - 1)
    high = np.clip(low + 1, 0, bins - 1)
    weight = np.clip(source - low, 0.0, 1.0)
    # Interpolate in the log domain so narrow formant peaks keep their shape.
    log_env = np.log(np.maximum(envelope, 1e-16))
    return np.exp(log_env[:, low] * (1 - weight) + log_env[:, high] * weight)


def _tilt_gain(tilt: float, bins: int, sample_rate: int) -> np.ndarray:
    """Power gain per envelope bin for ``tilt`` dB/octave above 1 kHz."""
    if not tilt:
        return np.ones(bins)
    freqs = np.linspace(0, sample_rate / 2, bins)
    octaves = np.log2(np.maximum(freqs, 1000.0) / 1000.0)
    return 10 ** (tilt * octaves / 10)


def _spectrum_gain(spectrum_db: tuple, bins: int, sample_rate: int) -> np.ndarray:
    """Power gain per envelope bin for band levels ``spectrum_db``, held flat beyond the bands."""
    if not spectrum_db:
        return np.ones(bins)
    freqs = np.linspace(0, sample_rate / 2, bins)
    db = np.interp(np.log(np.maximum(freqs, 1.0)), np.log(band_centers()), np.asarray(spectrum_db))
    return 10 ** (db / 10)


def _breathe(aperiodicity: np.ndarray, amount: float, sample_rate: int) -> np.ndarray:
    """Move aperiodicity towards 1 (noise) above 1 kHz by ``amount``."""
    if not amount:
        return aperiodicity
    freqs = np.linspace(0, sample_rate / 2, aperiodicity.shape[1])
    weight = amount * np.clip((freqs - 1000.0) / 3000.0, 0.0, 1.0)
    return np.clip(aperiodicity + (1 - aperiodicity) * weight, 0.0, 1.0)


def _stretch_index(frames: int, factor: float) -> np.ndarray:
    count = max(1, int(round(frames * factor)))
    return np.minimum(np.round(np.arange(count) / factor).astype(int), frames - 1)


def speech_level(samples: np.ndarray, sample_rate: int) -> float:
    """Active-speech RMS level in dBFS: RMS over 20 ms frames within 20 dB of the loudest."""
    frame = max(1, int(0.02 * sample_rate))
    count = samples.size // frame
    if count == 0:
        return -120.0
    rms = np.sqrt(np.mean(np.square(samples[: count * frame].reshape(count, frame), dtype=np.float64), axis=1))
    active = rms[rms >= rms.max() * 0.1]
    return float(20 * np.log10(max(np.sqrt(np.mean(active**2)), 1e-9)))


def set_level(samples: np.ndarray, sample_rate: int, level: float, *, peak: float = 0.98) -> np.ndarray:
    """Scale ``samples`` to an active-speech level of ``level`` dBFS, never past ``peak``."""
    gain = 10 ** ((level - speech_level(samples, sample_rate)) / 20)
    out = samples * gain
    top = float(np.max(np.abs(out))) if out.size else 0.0
    if top > peak:
        out = out * (peak / top)
    return out.astype(np.float32)


@dataclass(frozen=True)
class ProsodyMeasure:
    """Prosody of a clip as Praat measures it (independent of WORLD)."""

    f0_median: float  # Hz over voiced frames
    f0_range: float  # semitones between the 10th and 90th percentiles
    duration: float  # seconds of speech, leading/trailing silence trimmed
    level: float  # dBFS, see speech_level


def measure(samples: np.ndarray, sample_rate: int) -> ProsodyMeasure:
    """Measure F0, F0 range, speech duration and level.

    Examples
    --------
    >>> measure(y, 22050).f0_median  # doctest: +SKIP
    118.4
    """
    x = np.asarray(samples, dtype=np.float64)
    f0 = track_pitch(x, sample_rate, np.arange(0, x.size / sample_rate, FRAME_PERIOD / 1000))
    f0 = f0[f0 > 0]
    median = float(np.median(f0)) if f0.size else 0.0
    spread = float(12 * np.log2(np.percentile(f0, 90) / np.percentile(f0, 10))) if f0.size > 2 else 0.0
    frame = int(0.01 * sample_rate)
    count = max(1, x.size // frame)
    rms = np.sqrt(np.mean(x[: count * frame].reshape(count, -1) ** 2, axis=1))
    active = np.flatnonzero(rms > rms.max() * 10 ** (-35 / 20))
    duration = (active[-1] - active[0] + 1) * frame / sample_rate if active.size else 0.0
    return ProsodyMeasure(median, spread, float(duration), speech_level(x, sample_rate))


def formant_ratio(reference: np.ndarray, other: np.ndarray, sample_rate: int) -> float:
    """How far ``other``'s formants sit above ``reference``'s, as a frequency factor.

    The long-term spectral envelopes (WORLD, voiced frames, 200 Hz–5 kHz on a
    log-frequency axis) are aligned by the shift that correlates them best;
    formant trackers are too erratic at a child's F0 for this.  The two
    clips should say the same words.

    Examples
    --------
    >>> formant_ratio(man, woman, 22050)  # doctest: +SKIP
    1.15
    """
    grid = np.geomspace(200.0, 5000.0, 400)
    curves = []
    for samples in (reference, other):
        world = analyze(samples, sample_rate)
        envelope = 10 * np.log10(np.maximum(world.envelope[world.f0 > 0], 1e-16)).mean(axis=0)
        curve = np.interp(grid, np.linspace(0, sample_rate / 2, envelope.size), envelope)
        curves.append(curve - curve.mean())
    a, b = curves
    shifts = range(-80, 81)  # grid steps of 0.8 %: up to a factor of 1.9 either way

    def correlation(k: int) -> float:
        x, y = (a[: a.size - k], b[k:]) if k >= 0 else (a[-k:], b[: b.size + k])
        return float(np.corrcoef(x, y)[0, 1])

    best = max(shifts, key=correlation)
    return float((grid[1] / grid[0]) ** best)
