"""Issue 16's "users expect" list in a real browser (Playwright driving Debian's Chromium):
top-5 bars, arousal/valence, the model line and a JSON download in Recognize; "none of these"
with an emotion subset; batch upload with a CSV; a bundle download in Train; Timeline segments
you can hear; and the smaller rough edges (which Train input is used, the words' fusion)."""

import io
import json
import zipfile

import httpx
import numpy as np
import pytest
import soundfile

from conftest import EXAMPLES

pytestmark = pytest.mark.browser


def recognize_upload(page, clip):
    page.get_by_role("tab", name="Recognize").click()
    page.locator("input[type=file]").first.set_input_files(str(clip))


def plot_data(page, elem_id: str):
    return page.evaluate(f"() => document.querySelector('#{elem_id} .js-plotly-plot').data")


def download(page, app_url: str, elem_id: str) -> bytes:
    """The bytes behind a gr.File output's link, fetched as the browser's download would."""
    page.wait_for_selector(f"#{elem_id} a[href]", timeout=60_000)
    href = page.locator(f"#{elem_id} a[href]").first.get_attribute("href")
    response = httpx.get(href if href.startswith("http") else app_url.rstrip("/") + "/" + href.lstrip("/"),
                         timeout=30)
    response.raise_for_status()
    return response.content


def test_recognize_shows_top5_bars_arousal_valence_model_line_and_a_json_download(page, app_url, tmp_path):
    recognize_upload(page, EXAMPLES / "asr_de.wav")  # sad dominates (about 69 %)
    page.wait_for_selector("#top5 .js-plotly-plot .barlayer .point", timeout=90_000)
    bars = plot_data(page, "top5")[0]
    assert len(bars["y"]) == 5 and bars["orientation"] == "h"
    shares = bars["x"]
    assert shares == sorted(shares) and bars["y"][-1] == "sad"  # the likeliest on top
    assert all(text.endswith("%") for text in bars["text"])  # every small share keeps its number
    page.wait_for_function("() => /Arousal\\s*[+−-]\\d\\.\\d\\d.*Valence\\s*[+−-]\\d\\.\\d\\d/s"
                           ".test(document.querySelector('#arousal-valence')?.innerText || '')", timeout=30_000)
    text = page.locator("#arousal-valence").inner_text()
    valence = float(text.split("Valence")[1].split()[0].replace("−", "-"))
    assert valence < -0.3  # mostly sad: unpleasant
    page.wait_for_selector("#circumplex .js-plotly-plot", timeout=30_000)
    line = page.locator("#model-line").inner_text()
    assert "trained on" in line and "ravdess" in line and "weakest" in line and "never heard" in line
    result = json.loads(download(page, app_url, "recognize-download"))
    assert result["emotion"] == "sad" and set(result["arousal_valence"]) == {"arousal", "valence", "coverage"}
    assert result["arousal_valence"]["valence"] == pytest.approx(valence, abs=0.006)
    assert len(result["probabilities"]) == 9
    page.screenshot(path=str(tmp_path / "recognize-extras.png"), full_page=True)


def test_a_subset_that_misses_the_emotion_says_none_of_these_fits(page):
    # The case: an angry clip with sad/neutral/happy ticked showed "happy 69 %" and nothing else.
    page.get_by_role("tab", name="Recognize").click()
    page.get_by_text("Model and emotions").first.click()
    page.get_by_label("3 emotions").check()
    page.wait_for_function(
        "() => [...document.querySelectorAll('input[type=checkbox]:checked')]"
        ".filter(b => b.offsetParent !== null).length === 3", timeout=30_000)
    page.locator("input[type=file]").first.set_input_files(str(EXAMPLES / "asr_en_angry.wav"))
    page.wait_for_function("() => /none of these fits well/i.test("
                           "document.querySelector('#none-of-these')?.innerText || '')", timeout=90_000)
    verdict = page.locator("#none-of-these").inner_text().lower()
    assert "the full model hears angry" in verdict
    assert "happy" in page.locator("#emotion-label").inner_text().lower()  # the subset's answer is still shown


def test_a_clip_the_subset_covers_says_nothing_extra(page):
    recognize_upload(page, EXAMPLES / "asr_de.wav")
    page.wait_for_selector("#top5 .js-plotly-plot .barlayer .point", timeout=90_000)
    assert "none of these" not in page.locator("#none-of-these").inner_text().lower()


def test_train_says_the_zip_wins_and_downloads_the_bundle_it_just_trained(page, app_url, tmp_path):
    import shutil
    from scipy.io import wavfile

    from conftest import ROOT
    from tests.test_workbench import RATE, tone

    archive = tmp_path / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for speaker in (3, 8, 10):
            for emotion, code in (("angry", "W"), ("sad", "T")):
                for take in range(2):
                    clip = tmp_path / f"{speaker:02d}a0{take}{code}a.wav"
                    wavfile.write(clip, RATE, tone(emotion, speaker, take))
                    z.write(clip, clip.name)
    name = "browser-extras-bundle"
    try:
        page.get_by_role("tab", name="Train").click()
        # Nothing trained in this session yet: nothing to download (and no way to name another bundle).
        page.get_by_role("button", name="Download the bundle (zip)").click()
        page.wait_for_selector("text=/Train a model in this session first/", timeout=30_000)
        assert page.get_by_label("Corpus folders", exact=False).input_value() == "emodb"  # pre-filled
        page.locator("#train-zip input[type=file]").set_input_files(str(archive))
        page.wait_for_function("() => /zip corpus\\.zip is used.*folder box.*emodb.*ignored/s.test("
                               "document.querySelector('#train-source')?.innerText || '')", timeout=60_000)
        page.get_by_label("Features of the classical models").fill("egemaps")
        page.get_by_label("Features of the classical models").press("Enter")
        page.get_by_label("Bundle name").fill(name)
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function("() => document.querySelector('#bundle-path textarea, #bundle-path input')"
                               f".value.includes('{name}')", timeout=180_000)
        summary = page.locator("#train-summary").inner_text()
        assert "corpus.zip" in summary and "ignored" in summary and "zip wins" in summary
        page.get_by_role("button", name="Download the bundle (zip)").click()
        with zipfile.ZipFile(io.BytesIO(download(page, app_url, "bundle-zip"))) as bundle:
            names = bundle.namelist()
            assert f"{name}/bundle.json" in names and f"{name}/README.md" in names
            assert json.loads(bundle.read(f"{name}/bundle.json"))["name"] == name
            assert all(n.startswith(f"{name}/") for n in names)
    finally:
        shutil.rmtree(ROOT / "models" / name, ignore_errors=True)


def open_batch(page):
    page.get_by_role("tab", name="Recognize").click()
    page.locator("#batch-accordion").get_by_text("Many files").click()


def test_many_files_give_a_table_and_a_csv_with_an_error_row_for_an_unreadable_file(page, app_url, tmp_path):
    import csv

    from ser.batch import columns
    from ser.recognizer import get_recognizer

    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(200))  # a WAV header and nothing readable
    clips = [EXAMPLES / "asr_de.wav", broken, EXAMPLES / "asr_en_angry.wav"]
    open_batch(page)
    page.locator("#batch-files input[type=file]").set_input_files([str(c) for c in clips])
    page.wait_for_selector("#batch-files :text('broken')", timeout=60_000)
    page.get_by_role("button", name="Recognize all").click()
    page.wait_for_function("() => /2 of 3 files recognised/.test("
                           "document.querySelector('#batch-status')?.innerText || '')", timeout=120_000)
    rows = list(csv.reader(io.StringIO(download(page, app_url, "batch-csv").decode())))
    assert rows[0] == columns(get_recognizer("default").labels)
    table = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert list(table) == ["asr_de.wav", "broken.wav", "asr_en_angry.wav"]  # names, never server paths
    assert table["asr_de.wav"]["emotion"] == "sad" and table["asr_en_angry.wav"]["emotion"] == "angry"
    assert table["asr_de.wav"]["error"] == "" and float(table["asr_de.wav"]["p_sad"]) > 0.5
    assert table["broken.wav"]["error"] and table["broken.wav"]["emotion"] == ""
    assert "broken.wav: " in page.locator("#batch-status").inner_text()  # said where it shows, not only off-screen
    shown = page.locator("#batch-table").inner_text()
    assert "broken.wav" in shown and "asr_de.wav" in shown
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)


def test_more_files_than_the_cap_are_refused_in_words(page, tmp_path):
    tiny = np.zeros(1600, np.float32)
    paths = []
    for i in range(51):
        paths.append(tmp_path / f"tiny_{i:02d}.wav")
        soundfile.write(paths[-1], tiny, 16_000)
    open_batch(page)
    page.locator("#batch-files input[type=file]").set_input_files([str(p) for p in paths])
    page.wait_for_selector("#batch-files :text('tiny_50')", timeout=60_000)
    page.get_by_role("button", name="Recognize all").click()
    page.wait_for_selector("text=/At most 50 files at once \\(you gave 51\\)/", timeout=60_000)
