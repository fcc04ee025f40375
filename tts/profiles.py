"""Emotion profiles measured in acted speech: how each emotion changes a speaker.

For every speaker of RAVDESS and EMO-DB, each emotion is compared with the
same speaker saying the same text neutrally:

* F0 median (semitones) and F0 range (10th–90th percentile, as a factor),
* speech duration (factor),
* active-speech level (dB),
* long-term average spectrum (LTAS) shape: band levels from 100 Hz to
  8 kHz relative to their mean, so the overall level is left to the energy
  (Banse & Scherer 1996 describe emotions by exactly these measures).

The profile of an emotion is the median over speakers of those changes.  Only
RAVDESS' *strong* takes are used for its emotions (the rules' full intensity
is a strong expression); EMO-DB has one intensity.  The result is written to
``tts/emotion_profiles.json`` (a few hundred numbers; no audio leaves the
corpora) and read by :mod:`tts.prosody`, which shapes the spectral envelope
with the LTAS change.

    python -m tts.profiles [--datasets ../shared/datasets]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

# The rules read the committed profiles (tts.prosody); this module measures and writes them.
from .prosody import BAND_EDGES, PROFILES_PATH, band_centers, measure

ANALYSIS_RATE = 16_000
N_FFT, HOP = 1024, 256
ACTIVE_DB = 30.0  # frames within this many dB of the loudest count as speech


def ltas(samples: np.ndarray, sample_rate: int = ANALYSIS_RATE) -> np.ndarray:
    """Band levels (dB) of the long-term average spectrum over active frames, mean removed."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    count = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(x, (count, N_FFT), (x.strides[0] * HOP, x.strides[0]))
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2
    energy = power.sum(axis=1)
    active = energy >= energy.max() * 10 ** (-ACTIVE_DB / 10)
    spectrum = power[active].mean(axis=0)
    freqs = np.fft.rfftfreq(N_FFT, 1 / sample_rate)
    bands = np.array([
        spectrum[(freqs >= lo) & (freqs < hi)].mean() for lo, hi in zip(BAND_EDGES[:-1], BAND_EDGES[1:])
    ])
    levels = 10 * np.log10(np.maximum(bands, 1e-20))
    return levels - levels.mean()


def describe(samples: np.ndarray) -> dict:
    """The measures of one 16 kHz utterance."""
    m = measure(samples, ANALYSIS_RATE)
    return {"f0": m.f0_median, "range": m.f0_range, "duration": m.duration, "level": m.level,
            "ltas": ltas(samples).tolist()}


def _text_key(utterance) -> str:
    """What was said: RAVDESS statement code, EMO-DB text code."""
    stem = utterance.path.stem
    return stem.split("-")[4] if utterance.corpus == "ravdess" else stem[2:5]


def _strong_enough(utterance) -> bool:
    if utterance.corpus != "ravdess" or utterance.emotion == "neutral":
        return True
    return utterance.path.stem.split("-")[3] == "02"


def measure_corpora(datasets: Path, *, speakers: set[str] | None = None) -> list[dict]:
    """The measures of every strong-enough utterance, of ``speakers`` (``"ravdess-01"`` …) or of all."""
    from ser.audio import load_audio
    from ser.corpora import read_corpus

    rows = []
    for corpus in ("ravdess", "emodb"):
        root = datasets / corpus
        if not root.is_dir():
            print(f"{root} is missing; skipped", file=sys.stderr)
            continue
        utterances = [u for u in read_corpus(root) if _strong_enough(u) and (speakers is None or u.speaker in speakers)]
        for i, u in enumerate(utterances, 1):
            row = describe(load_audio(u.path))
            if row["f0"] <= 0:
                continue
            row.update(corpus=corpus, speaker=f"{corpus}:{u.speaker}", emotion=u.emotion, text=_text_key(u))
            rows.append(row)
            if i % 200 == 0:
                print(f"{corpus}: {i}/{len(utterances)}", file=sys.stderr, flush=True)
    return rows


def profiles_from(rows: list[dict]) -> dict:
    """Median over speakers of each emotion's change against the same speaker and text in neutral."""
    neutral = defaultdict(list)
    for r in rows:
        if r["emotion"] == "neutral":
            neutral[(r["speaker"], r["text"])].append(r)
    changes = defaultdict(lambda: defaultdict(list))  # emotion -> speaker -> [change]
    for r in rows:
        refs = neutral.get((r["speaker"], r["text"]))
        if r["emotion"] == "neutral" or not refs:
            continue
        ref = {k: np.mean([n[k] for n in refs], axis=0) for k in ("f0", "range", "duration", "level", "ltas")}
        changes[r["emotion"]][r["speaker"]].append({
            "f0_level": 12 * np.log2(r["f0"] / ref["f0"]),
            "f0_range": r["range"] / max(ref["range"], 0.5),
            "duration": r["duration"] / ref["duration"],
            "energy": r["level"] - ref["level"],
            "spectrum": np.asarray(r["ltas"]) - ref["ltas"],
        })
    out = {}
    for emotion, by_speaker in sorted(changes.items()):
        per_speaker = {k: [np.mean([c[k] for c in cs], axis=0) for cs in by_speaker.values()]
                       for k in ("f0_level", "f0_range", "duration", "energy", "spectrum")}
        out[emotion] = {
            "speakers": len(by_speaker),
            "f0_level": round(float(np.median(per_speaker["f0_level"])), 2),
            "f0_range": round(float(np.exp(np.median(np.log(per_speaker["f0_range"])))), 3),
            "duration": round(float(np.exp(np.median(np.log(per_speaker["duration"])))), 3),
            "energy": round(float(np.median(per_speaker["energy"])), 2),
            "spectrum_db": [round(float(v), 2) for v in np.median(per_speaker["spectrum"], axis=0)],
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", type=Path,
                        default=Path(os.environ.get("SER_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")))
    parser.add_argument("--out", type=Path, default=PROFILES_PATH)
    args = parser.parse_args(argv)
    started = time.time()
    rows = measure_corpora(args.datasets)
    if not rows:
        sys.exit(f"No corpus found under {args.datasets}.")
    result = {
        "what": "Median change per emotion against the same speaker and text in neutral (tts/profiles.py).",
        "corpora": sorted({r["corpus"] for r in rows}),
        "utterances": len(rows),
        "band_hz": [round(float(c), 1) for c in band_centers()],
        "emotions": profiles_from(rows),
    }
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out} from {len(rows)} utterances in {time.time() - started:.0f} s")
    for emotion, p in result["emotions"].items():
        print(f"{emotion:10s} F0 {p['f0_level']:+.1f} st, range x{p['f0_range']:.2f}, duration x{p['duration']:.2f},"
              f" level {p['energy']:+.1f} dB, spectrum {min(p['spectrum_db']):+.1f}..{max(p['spectrum_db']):+.1f} dB")


if __name__ == "__main__":
    main()
