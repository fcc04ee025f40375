"""Emotion conversion learned from parallel takes (issue 15, first version: per-emotion statistics).

For every (neutral, emotional) pair of :func:`tts.parallel.parallel_pairs`,
both takes are analysed with WORLD and aligned (:mod:`tts.alignment`), and
the conversion learns, per target emotion, the median over pairs of:

* **F0 level** — the emotional take's median voiced log-F0 against the neutral
  take's, in semitones;
* **F0 contour shape** — per wavelet scale (:mod:`tts.cwt`), the log ratio of
  the emotional to the neutral contour's standard deviation (speaker-normalised:
  both contours in units of the neutral take's log-F0 spread), so that an
  emotion that moves more at syllable scale than at phrase scale is rendered so;
* **local speaking rate** — target frames per neutral frame along the DTW path,
  separately for voiced and unvoiced frames;
* **level** — active-speech level change in dB;
* **energy contour** — the log ratio of the spread (dB standard deviation) of the
  voiced frames' energy: how much more the loudness moves within the utterance;
* **spectral envelope** — the mean change of the aligned mel-cepstra (c1…,
  loudness apart), separately for voiced and unvoiced frames: voice quality
  and tilt.

:meth:`LearnedConversion.convert` applies them to any speech, scaled by an
intensity from 0 (unchanged) to 1 (the full learned change) — log ratios and
shifts are multiplied by the intensity, so it interpolates between neutral
and the full conversion.  The model is a JSON file and a safetensors file: no
code runs on load.

    python -m tts.learned --out assets/conversion        # train on ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ser.errors import Unavailable

from .alignment import CEPSTRA, aligned_targets, analyse_take, dtw_path, frame_energy, local_rate
from .cwt import SCALES, decompose, interpolate_log_f0, normalised_reconstruction
from .prosody import (ENVELOPE_F0_FLOOR, WorldFeatures, _pyworld, analyze, set_level, speech_level,
                      synthesize_world)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
#: Speakers never trained on, so the benchmark scores conversion on voices the model has not heard:
#: RAVDESS actors 01-04 (two men, two women), EMO-DB speakers 03 (man) and 08 (woman), ASED 01-05.
HELD_OUT = (tuple(f"ravdess-{i:02d}" for i in range(1, 5)) + ("emodb-03", "emodb-08")
            + tuple(f"ased-{i:02d}" for i in range(1, 6)))
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "assets" / "conversion"
LEARNED_RATE = 16_000  # the rate the pairs are analysed at (ser.audio.SAMPLE_RATE)
MAX_RATE_LOG = np.log(2.0)  # local-rate ratios are kept within 0.5-2x


class ConversionError(Unavailable, ValueError):
    """The learned conversion's files are missing, damaged or of another format."""


@dataclass
class EmotionMapping:
    """What the conversion learned for one target emotion (all relative to neutral)."""

    f0_shift: float  # semitones
    scale_gain: np.ndarray  # (SCALES,) log std ratio per wavelet scale
    rate_voiced: float  # log ratio of target to source frames
    rate_unvoiced: float
    level: float  # dB
    cepstra_voiced: np.ndarray  # (CEPSTRA,) mean change, c0 = 0
    cepstra_unvoiced: np.ndarray
    energy_gain: float = 0.0  # log ratio of the voiced frames' energy-contour spread
    pairs: int = 0


@dataclass
class LearnedConversion:
    """Per-emotion mappings (:class:`EmotionMapping`) and where they came from."""

    mappings: dict[str, EmotionMapping]
    info: dict = field(default_factory=dict)
    #: How much of the learned contour-shape and energy-contour changes is applied (chosen on
    #: validation speakers, :func:`choose_weights`); 1 = all of it.
    shape_weight: float = 1.0
    energy_weight: float = 1.0

    @property
    def emotions(self) -> tuple[str, ...]:
        return ("neutral", *sorted(self.mappings))

    # -- applying -------------------------------------------------------------------------

    def mapping(self, emotion: str, source: str = "neutral") -> EmotionMapping:
        """The change from ``source`` to ``emotion``: every learned quantity is a shift or a log
        ratio against neutral, so the change between two emotions is their difference.

        Raises
        ------
        ValueError
            The model has no mapping for one of them.
        """
        for name in (emotion, source):
            if name != "neutral" and name not in self.mappings:
                raise ValueError(f"The learned conversion knows {', '.join(self.emotions)}; not {name!r}.")
        zero = EmotionMapping(0.0, np.zeros(SCALES), 0.0, 0.0, 0.0, np.zeros(CEPSTRA), np.zeros(CEPSTRA))
        to, frm = self.mappings.get(emotion, zero), self.mappings.get(source, zero)
        return EmotionMapping(to.f0_shift - frm.f0_shift, to.scale_gain - frm.scale_gain,
                              to.rate_voiced - frm.rate_voiced, to.rate_unvoiced - frm.rate_unvoiced,
                              to.level - frm.level, to.cepstra_voiced - frm.cepstra_voiced,
                              to.cepstra_unvoiced - frm.cepstra_unvoiced,
                              energy_gain=to.energy_gain - frm.energy_gain, pairs=to.pairs)

    def convert(self, samples: np.ndarray, sample_rate: int, emotion: str, intensity: float = 1.0,
                *, source: str = "neutral") -> np.ndarray:
        """``samples`` (showing ``source``) said in ``emotion`` at ``intensity`` (0-1); float32 at ``sample_rate``.

        Raises
        ------
        ValueError
            The model has no mapping for ``emotion`` or ``source``.
        """
        m = self.mapping(emotion, source)
        if emotion == source or intensity <= 0:
            return np.asarray(samples, dtype=np.float32)
        a = float(min(intensity, 1.0))
        world = analyze(samples, sample_rate)
        f0 = _map_f0(world.f0, m, a, self.shape_weight)
        voiced = world.f0 > 0
        gain = _envelope_gain(np.stack([m.cepstra_voiced, m.cepstra_unvoiced]) * a, sample_rate,
                              world.envelope.shape[1])
        envelope = world.envelope * np.where(voiced[:, None], gain[0], gain[1])
        envelope *= _energy_contour_gain(envelope, voiced, a * self.energy_weight * m.energy_gain)[:, None]
        index = _time_map(voiced, m.rate_voiced * a, m.rate_unvoiced * a)
        out = synthesize_world(WorldFeatures(np.ascontiguousarray(f0[index]), np.ascontiguousarray(envelope[index]),
                                             np.ascontiguousarray(world.aperiodicity[index]), sample_rate))
        return set_level(out, sample_rate, speech_level(samples, sample_rate) + m.level * a)

    # -- storage ----------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write ``conversion.json`` and ``conversion.safetensors`` into ``folder``."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, scalars = {}, {}
        for emotion, m in sorted(self.mappings.items()):
            arrays[f"{emotion}.scale_gain"] = m.scale_gain.astype(np.float32)
            arrays[f"{emotion}.cepstra_voiced"] = m.cepstra_voiced.astype(np.float32)
            arrays[f"{emotion}.cepstra_unvoiced"] = m.cepstra_unvoiced.astype(np.float32)
            scalars[emotion] = {"f0_shift": round(m.f0_shift, 4), "rate_voiced": round(m.rate_voiced, 4),
                                "rate_unvoiced": round(m.rate_unvoiced, 4), "level": round(m.level, 3),
                                "energy_gain": round(m.energy_gain, 4),
                                "pairs": m.pairs}
        save_file(arrays, str(folder / "conversion.safetensors"))
        meta = {"format_version": FORMAT_VERSION, "scales": SCALES, "cepstra": CEPSTRA,
                "shape_weight": self.shape_weight, "energy_weight": self.energy_weight,
                "emotions": scalars, "info": self.info}
        (folder / "conversion.json").write_text(json.dumps(meta, indent=1) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path = DEFAULT_PATH) -> "LearnedConversion":
        """Read a saved conversion; every array is checked for its name, shape and finiteness.

        Raises
        ------
        ConversionError
            Missing, damaged or inconsistent files (the message says which).
        """
        from safetensors.numpy import load_file

        folder = Path(folder)
        try:
            meta = json.loads((folder / "conversion.json").read_text())
            arrays = load_file(str(folder / "conversion.safetensors"))
        except Exception as error:  # the parsers' own errors (SafetensorError, JSONDecodeError, OSError)
            raise ConversionError(f"No usable learned conversion in {folder}: {str(error)[:200]}") from None
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            raise ConversionError(f"{folder / 'conversion.json'} is not format {FORMAT_VERSION}.")
        mappings = {}
        for emotion, values in dict(meta.get("emotions", {})).items():
            try:
                vectors = {key: np.asarray(arrays[f"{emotion}.{key}"], dtype=np.float64)
                           for key in ("scale_gain", "cepstra_voiced", "cepstra_unvoiced")}
                numbers = {key: float(values[key])
                           for key in ("f0_shift", "rate_voiced", "rate_unvoiced", "level", "energy_gain")}
            except (KeyError, TypeError, ValueError):
                raise ConversionError(f"The learned conversion's {emotion!r} entry is incomplete.") from None
            shapes = (vectors["scale_gain"].shape, vectors["cepstra_voiced"].shape, vectors["cepstra_unvoiced"].shape)
            if shapes != ((SCALES,), (CEPSTRA,), (CEPSTRA,)) or not all(
                    np.isfinite(v).all() for v in vectors.values()) or not np.isfinite(list(numbers.values())).all():
                raise ConversionError(f"The learned conversion's {emotion!r} arrays have the wrong shape or values.")
            mappings[str(emotion)] = EmotionMapping(**numbers, **vectors, pairs=int(values.get("pairs", 0)))
        weights = []
        for name in ("shape_weight", "energy_weight"):
            try:
                weights.append(float(meta.get(name, 1.0)))
            except (TypeError, ValueError):
                weights.append(float("nan"))
            if not 0.0 <= weights[-1] <= 2.0:
                raise ConversionError(f"The learned conversion's {name} {meta.get(name)!r} is not 0-2.")
        return cls(mappings, dict(meta.get("info", {})), *weights)


def _envelope_gain(delta: np.ndarray, sample_rate: int, bins: int) -> np.ndarray:
    """The power gain (frames × ``bins``) that a mel-cepstral change learned at 16 kHz means at ``sample_rate``.

    Decoded on the 16 kHz axis it was learned on, then read off at this rate's
    frequencies (above 8 kHz: the 8 kHz gain).
    """
    fft_size = _pyworld().get_cheaptrick_fft_size(LEARNED_RATE, ENVELOPE_F0_FLOOR)  # as analyze() at 16 kHz
    learned_bins = fft_size // 2 + 1
    gain = _pyworld().decode_spectral_envelope(np.ascontiguousarray(delta), LEARNED_RATE, fft_size)
    if sample_rate == LEARNED_RATE and bins == learned_bins:
        return gain
    learned_axis = np.linspace(0, LEARNED_RATE / 2, learned_bins)
    axis = np.linspace(0, sample_rate / 2, bins)
    return np.stack([np.interp(axis, learned_axis, row) for row in gain])


def _energy_contour_gain(envelope: np.ndarray, voiced: np.ndarray, log_gain: float) -> np.ndarray:
    """Per-frame power factors that widen (``log_gain`` > 0) the voiced frames' energy contour about
    its mean by ``exp(log_gain)``; unvoiced frames are left alone; at most ±12 dB a frame."""
    if log_gain == 0 or voiced.sum() < 2:
        return np.ones(envelope.shape[0])
    energy = frame_energy(envelope)
    deviation = energy - energy[voiced].mean()
    change = np.clip(deviation * (np.exp(log_gain) - 1), -12.0, 12.0)
    return np.where(voiced, 10 ** (change / 10), 1.0)


def _map_f0(f0: np.ndarray, m: EmotionMapping, a: float, shape_weight: float = 1.0) -> np.ndarray:
    voiced = f0 > 0
    if voiced.sum() < 2:
        return f0.copy()
    log_f0, _ = interpolate_log_f0(f0)
    mean, spread = log_f0[voiced].mean(), max(log_f0[voiced].std(), 1e-3)
    z = (log_f0 - mean) / spread
    # Only the *change* of each scale is summed back and added to the contour, so a zero change
    # gives the contour itself (the wavelets' sum is close to it, not equal).
    change = decompose(z) * (np.exp(a * shape_weight * m.scale_gain) - 1)[:, None]
    shaped = z + normalised_reconstruction(change, z)
    out = np.exp(mean + spread * shaped + a * m.f0_shift * np.log(2) / 12)
    return np.where(voiced, out, 0.0)


def _time_map(voiced: np.ndarray, rate_voiced: float, rate_unvoiced: float) -> np.ndarray:
    """Source frame index of each output frame, with voiced and unvoiced frames stretched apart."""
    weights = np.exp(np.clip(np.where(voiced, rate_voiced, rate_unvoiced), -MAX_RATE_LOG, MAX_RATE_LOG))
    if weights.size > 11:  # 55 ms moving average: no abrupt tempo steps
        weights = np.convolve(np.pad(weights, 5, mode="edge"), np.ones(11) / 11, mode="valid")
    ends = np.cumsum(weights)
    count = max(1, int(round(ends[-1])))
    return np.minimum(np.searchsorted(ends, np.arange(count) + 0.5), voiced.size - 1)


# -- learning ---------------------------------------------------------------------------------

def pair_statistics(neutral: np.ndarray, emotional: np.ndarray, sample_rate: int) -> dict | None:
    """What one pair says about its emotion (None when either take has too little voicing)."""
    source, target = analyse_take(neutral, sample_rate), analyse_take(emotional, sample_rate)
    v_n, v_e = source.world.f0 > 0, target.world.f0 > 0
    if v_n.sum() < 20 or v_e.sum() < 20:
        return None
    lf0_n, _ = interpolate_log_f0(source.world.f0)
    lf0_e, _ = interpolate_log_f0(target.world.f0)
    mean, spread = lf0_n[v_n].mean(), max(lf0_n[v_n].std(), 1e-3)
    w_n, w_e = decompose((lf0_n - mean) / spread), decompose((lf0_e - lf0_e[v_e].mean()) / spread)
    scale_gain = np.log(w_e[:, v_e].std(axis=1) + 1e-6) - np.log(w_n[:, v_n].std(axis=1) + 1e-6)
    path = dtw_path(source.cepstra, target.cepstra)
    rate = local_rate(path, source.frames)
    matched = np.round(aligned_targets(path, source.frames)).astype(int)
    energy_n, energy_e = frame_energy(source.world.envelope), frame_energy(target.world.envelope)
    change = target.cepstra[matched] - source.cepstra
    change[:, 0] = 0.0  # loudness is the level's job
    return {
        # medians: an octave error of the tracker in a few frames does not move them
        "f0_shift": float(12 * (np.median(lf0_e[v_e]) - np.median(lf0_n[v_n])) / np.log(2)),
        "scale_gain": scale_gain,
        "rate_voiced": float(np.log(rate[v_n].mean())), "rate_unvoiced": float(np.log(max(rate[~v_n].mean(), 1e-3))),
        "level": speech_level(emotional, sample_rate) - speech_level(neutral, sample_rate),
        "energy_gain": float(np.log(max(energy_e[v_e].std(), 1e-3)) - np.log(max(energy_n[v_n].std(), 1e-3))),
        "cepstra_voiced": change[v_n].mean(axis=0), "cepstra_unvoiced": change[~v_n].mean(axis=0) if (~v_n).any()
        else np.zeros(CEPSTRA),
    }


def collect(pairs, *, sample_rate: int = 16_000, progress=None) -> dict[tuple[str, str], list[dict]]:
    """:func:`pair_statistics` of every pair (:class:`tts.parallel.Pair`), by (emotion, corpus)."""
    from ser.audio import load_audio

    collected: dict[tuple[str, str], list[dict]] = {}
    for i, pair in enumerate(pairs):
        stats = pair_statistics(load_audio(pair.neutral), load_audio(pair.emotional), sample_rate)
        if stats is not None:
            collected.setdefault((pair.emotion, pair.corpus), []).append(stats)
        if progress:
            progress(i + 1, pair)
    return collected


#: How the pairs' statistics become one mapping: ``"pooled"`` — the median over all pairs of an
#: emotion; ``"corpus"`` — the median within each corpus, then the median over corpora, so that
#: no one corpus (ASED has the most speakers) sets an emotion's change alone.
BALANCES = ("corpus", "pooled")


def aggregate(collected: dict[tuple[str, str], list[dict]], balance: str = "corpus") -> LearnedConversion:
    """One :class:`EmotionMapping` per emotion from :func:`collect`'s statistics (see :data:`BALANCES`)."""
    if balance not in BALANCES:
        raise ValueError(f"balance must be one of {', '.join(BALANCES)}, not {balance!r}.")

    def median(rows):  # per quantity: robust to the odd mis-tracked or mis-aligned pair
        return {key: np.median([r[key] for r in rows], axis=0) for key in rows[0]}

    mappings = {}
    for emotion in sorted({e for e, _ in collected}):
        groups = [rows for (e, _), rows in sorted(collected.items()) if e == emotion]
        middle = median([r for rows in groups for r in rows]) if balance == "pooled" else \
            median([median(rows) for rows in groups])
        mappings[emotion] = EmotionMapping(
            float(middle["f0_shift"]), middle["scale_gain"], float(middle["rate_voiced"]),
            float(middle["rate_unvoiced"]), float(middle["level"]), middle["cepstra_voiced"],
            middle["cepstra_unvoiced"], energy_gain=float(middle["energy_gain"]),
            pairs=sum(len(rows) for rows in groups))
    return LearnedConversion(mappings)


def learn(pairs, *, balance: str = "corpus", sample_rate: int = 16_000, progress=None) -> LearnedConversion:
    """The conversion learned from ``pairs``: :func:`collect`, then :func:`aggregate`."""
    return aggregate(collect(pairs, sample_rate=sample_rate, progress=progress), balance)


#: Speakers that choose the conversion's settings: left out of a first fit, their pairs score each
#: candidate (:func:`choose_weights`), then they join the final fit.  Disjoint from HELD_OUT.
VALIDATION = (tuple(f"ravdess-{i:02d}" for i in range(5, 9)) + ("emodb-09", "emodb-10")
              + tuple(f"ased-{i:02d}" for i in range(6, 11)))
WEIGHTS = (0.0, 0.5, 1.0)


def choose_weights(model: LearnedConversion, pairs, candidates=WEIGHTS) -> tuple[dict, dict]:
    """The contour-shape and energy-contour weights closest to the real emotional takes of ``pairs``.

    The shape weight by mean F0 RMSE (energy change off), then the energy weight by mean
    energy-contour RMSE (with that shape weight).  ``model`` must not have been fitted on the
    pairs' speakers.  Returns ``{"shape_weight": w, "energy_weight": w}`` and every candidate's
    score.
    """
    from ser.audio import load_audio

    from .alignment import distances

    takes = [(load_audio(p.neutral), analyse_take(load_audio(p.emotional), LEARNED_RATE), p.emotion) for p in pairs]

    def score(metric: str, **weights) -> float:
        trial = LearnedConversion(model.mappings, **weights)
        return round(float(np.nanmean([distances(analyse_take(trial.convert(neutral, LEARNED_RATE, emotion),
                                                                  LEARNED_RATE), reference)[metric]
                                        for neutral, reference, emotion in takes])), 4)

    shape = {w: score("f0_rmse", shape_weight=w, energy_weight=0.0) for w in candidates}
    chosen = {"shape_weight": min(shape, key=shape.get)}
    energy = {w: score("energy_rmse", shape_weight=chosen["shape_weight"], energy_weight=w) for w in candidates}
    chosen["energy_weight"] = min(energy, key=energy.get)
    return chosen, {"shape_weight_f0_rmse": shape, "energy_weight_energy_rmse": energy}


def training_pairs(datasets: Path, per_corpus_emotion: int | None, exclude=HELD_OUT, only=None) -> list:
    """The parallel pairs of every corpus found under ``datasets``, ``exclude``'s speakers left out
    (with ``only``: just those speakers').

    With ``per_corpus_emotion``, at most that many pairs per corpus and emotion, spread evenly
    over the sorted list (so over speakers), not the first ones.
    """
    from .parallel import PARALLEL_CORPORA, parallel_pairs

    chosen = []
    for corpus in PARALLEL_CORPORA:
        if not (datasets / corpus).is_dir():
            logger.warning("no %s under %s: trained without it", corpus, datasets)
            continue
        pairs = parallel_pairs(datasets / corpus, corpus, speakers=only, exclude=exclude)
        for emotion in sorted({p.emotion for p in pairs}):
            of_emotion = [p for p in pairs if p.emotion == emotion]
            if per_corpus_emotion and len(of_emotion) > per_corpus_emotion:
                step = len(of_emotion) / per_corpus_emotion
                of_emotion = [of_emotion[int(i * step)] for i in range(per_corpus_emotion)]
            chosen.extend(of_emotion)
    return chosen


def main(argv=None) -> None:
    import os

    parser = argparse.ArgumentParser(prog="python -m tts.learned", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path,
                        default=Path(os.environ.get("SER_DATASETS", DEFAULT_PATH.parents[2] / "shared" / "datasets")))
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--per-corpus-emotion", type=int, default=None,
                        help="at most this many pairs per corpus and emotion (default: all)")
    parser.add_argument("--balance", choices=BALANCES, default="corpus",
                        help="median per corpus then over corpora (default), or over all pairs pooled")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    fitting = training_pairs(args.datasets, args.per_corpus_emotion, exclude=HELD_OUT + VALIDATION)
    validation = training_pairs(args.datasets, args.per_corpus_emotion, exclude=(), only=VALIDATION)
    pairs = fitting + validation

    def report(i, pair):
        if i % 100 == 0:
            logger.info("%d pairs analysed", i)

    collected = collect(fitting, progress=report)
    first = aggregate(collected, args.balance)
    checked = validation[::max(1, len(validation) // 120)]  # about 120 pairs, spread over speakers
    chosen, scores = choose_weights(first, checked)
    logger.info("weights %s (validation scores %s)", chosen, scores)
    for key, rows in collect(validation, progress=report).items():
        collected.setdefault(key, []).extend(rows)
    model = aggregate(collected, args.balance)
    model.shape_weight, model.energy_weight = chosen["shape_weight"], chosen["energy_weight"]
    model.info = {"pairs": len(pairs), "held_out_speakers": list(HELD_OUT),
                  "validation_speakers": list(VALIDATION),
                  "validation": {name: {str(k): v for k, v in values.items()} for name, values in scores.items()},
                  "validation_pairs_scored": len(checked),
                  "corpora": sorted({p.corpus for p in pairs}), "balance": args.balance,
                  "command": "python -m tts.learned" + (f" --per-corpus-emotion {args.per_corpus_emotion}"
                                                        if args.per_corpus_emotion else "")
                  + (f" --balance {args.balance}" if args.balance != "corpus" else "")}
    model.save(args.out)
    for emotion, m in sorted(model.mappings.items()):
        print(f"{emotion:10s} pairs {m.pairs:4d}  F0 {m.f0_shift:+5.1f} st  voiced rate x{np.exp(m.rate_voiced):.2f}"
              f"  unvoiced x{np.exp(m.rate_unvoiced):.2f}  level {m.level:+5.1f} dB"
              f"  energy contour x{np.exp(m.energy_gain):.2f}")


if __name__ == "__main__":
    main()
