"""Time alignment of two takes of the same text (issue 15: learned emotion conversion).

Both takes are analysed with WORLD (:func:`tts.prosody.analyze`), their
envelopes coded as mel-cepstra (``pyworld.code_spectral_envelope``) and
aligned by dynamic time warping on the cepstra without the energy term
(c1…), so a louder or softer take aligns by what is said, not how loud.
From the path come what the conversion learns: which frame of the emotional
take answers each neutral frame, and the local speaking-rate ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .prosody import WorldFeatures, _pyworld, analyze

#: Mel-cepstral coefficients kept per frame (c0 … c39).
CEPSTRA = 40


@dataclass
class Take:
    """One analysed take: WORLD features and their mel-cepstra (frames × :data:`CEPSTRA`)."""

    world: WorldFeatures
    cepstra: np.ndarray

    @property
    def frames(self) -> int:
        return self.cepstra.shape[0]


def analyse_take(samples: np.ndarray, sample_rate: int) -> Take:
    """WORLD analysis of ``samples`` plus the mel-cepstra the alignment compares."""
    world = analyze(samples, sample_rate)
    cepstra = _pyworld().code_spectral_envelope(world.envelope, sample_rate, CEPSTRA)
    return Take(world, cepstra)


def dtw_path(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The DTW path between two cepstra sequences as ``(k, 2)`` frame pairs (source, target), in order.

    Euclidean distance on c1 onwards; steps (1,1), (1,0), (0,1).
    """
    import librosa

    if source.shape[0] == 0 or target.shape[0] == 0:
        raise ValueError("Both takes need at least one frame to be aligned.")
    _, path = librosa.sequence.dtw(X=source[:, 1:].T, Y=target[:, 1:].T, metric="euclidean")
    return np.ascontiguousarray(path[::-1])


def aligned_targets(path: np.ndarray, frames: int) -> np.ndarray:
    """For each source frame, the mean target frame the path matches it with (float)."""
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=frames)
    counts = np.bincount(path[:, 0], minlength=frames)
    return sums / np.maximum(counts, 1)


def local_rate(path: np.ndarray, frames: int, *, smooth: int = 11) -> np.ndarray:
    """Target frames per source frame along the path (>1: the target is slower there), smoothed.

    The path's count of target frames per source frame, spread evenly where
    several source frames share one target frame, then a moving average of
    ``smooth`` frames (55 ms at 5 ms frames).  Sums to about the target's length.
    """
    share = np.zeros(frames)
    for target in np.unique(path[:, 1]):
        sources = path[path[:, 1] == target, 0]
        share[sources] += 1.0 / sources.size
    if smooth > 1:
        kernel = np.ones(smooth) / smooth
        padded = np.pad(share, smooth // 2, mode="edge")
        share = np.convolve(padded, kernel, mode="valid")[:frames]
    return share


#: Mel-cepstral distortion uses c1 … c24, the customary range (c0 is loudness).
MCD_ORDER = 24


def frame_energy(envelope: np.ndarray) -> np.ndarray:
    """Each frame's spectral-envelope energy in dB."""
    return 10 * np.log10(np.maximum(envelope.mean(axis=1), 1e-20))


def distances(output: Take, reference: Take) -> dict[str, float]:
    """How far ``output`` is from ``reference`` (another take of the same text), after DTW.

    * ``f0_rmse`` — root-mean-square log-F0 difference in semitones, over the
      path's frames voiced in both (NaN when fewer than 10 are);
    * ``mcd`` — mel-cepstral distortion in dB over c1…c24,
      ``10 / ln 10 · sqrt(2 Σ (c - c')²)``, mean over the path;
    * ``energy_rmse`` — root-mean-square difference in dB of the energy contours (each take's
      :func:`frame_energy` less its voiced mean: the level is not counted), over the same frames;
    * ``duration`` — ``|ln(len(output) / len(reference))|``, 0 for equal length.
    """
    path = dtw_path(output.cepstra, reference.cepstra)
    a, b = output.cepstra[path[:, 0], 1:MCD_ORDER + 1], reference.cepstra[path[:, 1], 1:MCD_ORDER + 1]
    mcd = float(np.mean(10 / np.log(10) * np.sqrt(2 * ((a - b) ** 2).sum(axis=1))))
    f0_a, f0_b = output.world.f0[path[:, 0]], reference.world.f0[path[:, 1]]
    both = (f0_a > 0) & (f0_b > 0)
    f0_rmse = (float(np.sqrt(np.mean((12 * np.log2(f0_a[both] / f0_b[both])) ** 2)))
               if both.sum() >= 10 else float("nan"))
    energy_rmse = float("nan")
    if both.sum() >= 10:
        e_a, e_b = frame_energy(output.world.envelope), frame_energy(reference.world.envelope)
        e_a, e_b = e_a - e_a[output.world.f0 > 0].mean(), e_b - e_b[reference.world.f0 > 0].mean()
        energy_rmse = float(np.sqrt(np.mean((e_a[path[:, 0]][both] - e_b[path[:, 1]][both]) ** 2)))
    return {"f0_rmse": f0_rmse, "mcd": mcd, "energy_rmse": energy_rmse,
            "duration": float(abs(np.log(output.frames / reference.frames)))}
