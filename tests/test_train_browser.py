"""The Train tab in a real browser: a small training run on project-made clips, then its charts."""

import shutil

import pytest
from scipy.io import wavfile

from tests.test_workbench import RATE, tone

pytestmark = pytest.mark.browser
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_train_tab_trains_compares_and_saves(page, tmp_path):
    for speaker in (3, 8, 10):
        for emotion, code in (("angry", "W"), ("sad", "T")):
            for take in range(2):
                wavfile.write(tmp_path / f"{speaker:02d}a0{take}{code}a.wav", RATE, tone(emotion, speaker, take))
    name = "browser-test-bundle"
    try:
        page.get_by_role("tab", name="Train").click()
        page.get_by_label("Corpus folders", exact=False).fill(str(tmp_path))
        page.get_by_label("Features of the classical models").fill("egemaps")
        page.get_by_label("Features of the classical models").press("Enter")
        page.get_by_label("knn", exact=True).check()
        page.get_by_label("Bundle name").fill(name)
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_selector("#comparison .js-plotly-plot", timeout=180_000)
        page.wait_for_selector("#confusion .js-plotly-plot", timeout=30_000)
        assert "(best)" in page.locator("#train-summary").inner_text()
        page.wait_for_function("() => document.querySelector('#bundle-path textarea, #bundle-path input')"
                               ".value.includes('browser-test-bundle')", timeout=30_000)
        assert (ROOT / "models" / name / "bundle.json").is_file()
        page.screenshot(path=str(tmp_path / "train.png"), full_page=True)
    finally:
        shutil.rmtree(ROOT / "models" / name, ignore_errors=True)
