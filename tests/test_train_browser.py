"""The Train tab in a real browser: a small training run on project-made clips, then its charts."""

import shutil

import pytest

from tests.test_workbench import tone_zip

pytestmark = pytest.mark.browser
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_train_tab_trains_compares_and_saves(page, tmp_path):
    # A zip upload: the corpus box takes only folders in the server's datasets folder.
    archive = tone_zip(tmp_path)
    name = "browser-test-bundle"
    try:
        page.get_by_role("tab", name="Train").click()
        page.locator("#train-zip input[type=file]").set_input_files(str(archive))
        page.wait_for_selector("#train-zip :text('corpus.zip')", timeout=60_000)
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
