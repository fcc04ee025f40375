"""The F0 wavelet transform (tts.cwt): scales separate slow and fast movements and sum back."""

import numpy as np
import pytest

from tts.cwt import SCALES, decompose, interpolate_log_f0, normalised_reconstruction


def test_unvoiced_frames_are_bridged_in_log_f0():
    contour, voiced = interpolate_log_f0(np.array([0, 100, 0, 0, 400, 0.0]))
    assert voiced.tolist() == [False, True, False, False, True, False]
    # Halfway between 100 and 400 Hz in log is 200 Hz; the ends are held.
    assert np.allclose(np.exp(contour), [100, 100, 100 * 4 ** (1 / 3), 100 * 4 ** (2 / 3), 400, 400])
    with pytest.raises(ValueError, match="no voiced frame"):
        interpolate_log_f0(np.zeros(10))


def test_slow_and_fast_movements_land_in_coarse_and_fine_scales():
    frames = np.arange(800)  # 4 s of 5 ms frames
    slow = np.sin(2 * np.pi * frames / 400)  # a 2 s phrase-level movement
    fast = np.sin(2 * np.pi * frames / 16)  # an 80 ms segmental wobble
    slow_energy = (decompose(slow) ** 2).mean(axis=1)
    fast_energy = (decompose(fast) ** 2).mean(axis=1)
    assert slow_energy.argmax() >= 5 and fast_energy.argmax() <= 3
    assert decompose(slow).shape == (SCALES, 800)


def test_a_contour_comes_back_from_its_scales():
    rng = np.random.default_rng(0)
    frames = 600
    contour = np.convolve(rng.standard_normal(frames + 40), np.hanning(40) / 20, mode="valid")[:frames]
    contour -= contour.mean()
    back = normalised_reconstruction(decompose(contour), contour)
    assert np.corrcoef(back, contour)[0, 1] > 0.9
    assert abs(np.std(back) - np.std(contour)) < 1e-9
