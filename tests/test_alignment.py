"""DTW alignment of two takes (tts.alignment): a known time stretch must be recovered."""

import numpy as np

from tts.alignment import aligned_targets, analyse_take, dtw_path, local_rate

RATE = 16_000


def _speechlike(seconds: float, rate: int = RATE, stretch: float = 1.0) -> np.ndarray:
    """A glide of harmonics through three vowel-like formant patterns, ``stretch`` times as long."""
    t = np.arange(int(seconds * stretch * rate)) / rate
    phase = t / (seconds * stretch)  # 0…1 through the "utterance", whatever its length
    f0 = 120 + 40 * np.sin(2 * np.pi * phase)
    signal = np.zeros_like(t)
    for formant, weight in ((500 + 1500 * phase, 1.0), (2500 - 1200 * phase, 0.5)):
        signal += weight * np.sin(2 * np.pi * np.cumsum(formant) / rate) * np.sin(2 * np.pi * np.cumsum(f0) / rate)
    return (0.1 * signal).astype(np.float32)


def test_a_stretched_take_aligns_along_the_stretch():
    source = analyse_take(_speechlike(1.0), RATE)
    target = analyse_take(_speechlike(1.0, stretch=1.5), RATE)
    path = dtw_path(source.cepstra, target.cepstra)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (source.frames - 1, target.frames - 1)
    matched = aligned_targets(path, source.frames)
    middle = slice(source.frames // 5, 4 * source.frames // 5)
    # Each source frame should land near 1.5 times its index (a wrong alignment strays by tens of frames).
    assert np.median(np.abs(matched[middle] - 1.5 * np.arange(source.frames)[middle])) < 6
    rate = local_rate(path, source.frames)
    assert abs(rate.sum() - target.frames) < 0.02 * target.frames
    assert 1.3 < np.median(rate[middle]) < 1.7


def test_empty_takes_are_refused():
    import pytest

    with pytest.raises(ValueError, match="at least one frame"):
        dtw_path(np.zeros((0, 40)), np.zeros((5, 40)))
