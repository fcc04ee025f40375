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


def heard(clip, emotions=None):
    """What the library's default recognizer says of ``clip``: the page must show the same answer."""
    from ser.recognizer import get_recognizer

    return get_recognizer("default").recognize(clip, emotions)


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
    from ser.dimensions import arousal_valence

    expected = heard(EXAMPLES / "asr_de.wav")
    dims = arousal_valence(expected.probabilities)
    recognize_upload(page, EXAMPLES / "asr_de.wav")
    page.wait_for_selector("#top5 .js-plotly-plot .barlayer .point", timeout=90_000)
    bars = plot_data(page, "top5")[0]
    assert len(bars["y"]) == 5 and bars["orientation"] == "h"
    shares = bars["x"]
    assert shares == sorted(shares) and bars["y"][-1] == expected.emotion  # the likeliest on top
    assert shares[-1] == pytest.approx(100 * expected.confidence, abs=0.01)
    assert all(text.endswith("%") for text in bars["text"])  # every small share keeps its number
    page.wait_for_function("() => /Arousal\\s*[+−-]\\d\\.\\d\\d.*Valence\\s*[+−-]\\d\\.\\d\\d/s"
                           ".test(document.querySelector('#arousal-valence')?.innerText || '')", timeout=30_000)
    text = page.locator("#arousal-valence").inner_text()
    valence = float(text.split("Valence")[1].split()[0].replace("−", "-"))
    assert valence == pytest.approx(dims.valence, abs=0.006)  # the model's mix, placed on the circumplex
    page.wait_for_selector("#circumplex .js-plotly-plot", timeout=30_000)
    line = page.locator("#model-line").inner_text()
    assert "trained on" in line and "ravdess" in line and "weakest" in line and "never heard" in line
    result = json.loads(download(page, app_url, "recognize-download"))
    assert result["emotion"] == expected.emotion
    assert set(result["arousal_valence"]) == {"arousal", "valence", "coverage"}
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
    subset_answer = heard(EXAMPLES / "asr_en_angry.wav", ["sad", "neutral", "happy"]).emotion
    assert subset_answer in page.locator("#emotion-label").inner_text().lower()  # the subset's answer is still shown


def test_a_clip_the_subset_covers_says_nothing_extra(page):
    recognize_upload(page, EXAMPLES / "asr_de.wav")
    page.wait_for_selector("#top5 .js-plotly-plot .barlayer .point", timeout=90_000)
    assert "none of these" not in page.locator("#none-of-these").inner_text().lower()


def test_train_says_the_zip_wins_and_downloads_the_bundle_it_just_trained(page, app_url, tmp_path):
    import shutil

    from conftest import ROOT
    from tests.test_workbench import tone_zip

    archive = tone_zip(tmp_path)
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
    expected = heard(EXAMPLES / "asr_de.wav")
    assert table["asr_de.wav"]["emotion"] == expected.emotion and table["asr_en_angry.wav"]["emotion"] == "angry"
    assert table["asr_de.wav"]["error"] == ""
    assert float(table["asr_de.wav"][f"p_{expected.emotion}"]) == pytest.approx(expected.confidence, abs=1e-3)
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


@pytest.fixture()
def recording(tmp_path):
    """Five project clips with 2.5 s pauses between them (as tests/test_timeline_browser.py builds it)."""
    from ser import load_audio

    pause = np.zeros(int(2.5 * 16_000), np.float32)
    parts = [pause]
    for name in ["calm_meeting.wav", "asr_en_happy.wav", "quick_news.wav", "asr_en_angry.wav", "slow_day.wav"]:
        parts += [load_audio(EXAMPLES / name), pause]
    path = tmp_path / "meeting.wav"
    soundfile.write(path, np.concatenate(parts), 16_000)
    return path


def test_timeline_segments_are_one_coloured_bar_each_and_a_clicked_row_plays_its_audio(page, app_url, recording):
    page.get_by_role("tab", name="Timeline").click()
    page.locator("#timeline-file input[type=file]").set_input_files(str(recording))
    page.locator("#timeline-with-text input").uncheck()
    page.get_by_role("button", name="Analyze timeline").click()
    page.wait_for_selector("#timeline-chart .js-plotly-plot .barlayer .point", timeout=120_000)
    figure = page.evaluate("() => { const g = document.querySelector('#timeline-chart .js-plotly-plot');"
                           " return {data: g.data, hovermode: g.layout.hovermode}; }")
    bars = figure["data"][0]
    assert bars["type"] == "bar" and len(bars["x"]) == 5  # one bar per segment, every segment in one trace
    assert len(bars["marker"]["color"]) == 5 and len(bars["text"]) == 5  # a colour and one hover text each
    assert figure["hovermode"] == "closest"  # not "x unified", which repeated the text once per emotion
    hovering = [t for t in figure["data"] if t.get("hoverinfo") != "skip"]
    assert hovering == [bars]
    rows = page.locator("#timeline-table [role=row]")
    second = rows.nth(2).locator("[role=gridcell]")  # row 0 is the header
    start, end = float(second.nth(0).inner_text()), float(second.nth(1).inner_text())
    second.nth(2).click()
    page.wait_for_selector("#timeline-player a.download-link[href]", timeout=30_000)
    href = page.locator("#timeline-player a.download-link").get_attribute("href")
    clip, rate = soundfile.read(io.BytesIO(httpx.get(href, timeout=30).content), dtype="float32")
    assert rate == 16_000 and abs(len(clip) / rate - (end - start)) < 0.02
    original, _ = soundfile.read(recording, dtype="float32")
    cut = original[int(round(start * rate)):int(round(end * rate))]
    assert len(cut) == len(clip) and np.abs(cut - clip).max() < 1e-3  # the segment itself, from the upload
    assert f"{start:.2f}–{end:.2f} s" in page.locator("#timeline-segment").inner_text()


def test_sixty_four_segments_stay_one_trace_of_bars():
    # The chart the Timeline tab draws (ser.plots.segment_strip), at the size where areas became a barcode.
    from ser.plots import segment_strip

    emotions = ["angry", "sad", "neutral", "happy"] * 16
    starts = [3.0 * i for i in range(64)]
    figure = segment_strip(starts, [s + 2.0 for s in starts], emotions, [0.6] * 64,
                           [f"segment {i}" for i in range(64)], threshold=0.42)
    bars = [t for t in figure.data if t.type == "bar"]
    assert len(bars) == 1 and len(bars[0].x) == 64 and list(bars[0].width) == [2.0] * 64
    assert len(figure.data) <= 1 + 4 + 1  # the bars, one legend entry per emotion, the not-sure line
    assert figure.layout.hovermode == "closest"


def transcribe(page, clip, heard: str, first: bool = True):
    """Transcribe ``clip`` in the Transcribe tab; its summary once the transcript holds ``heard``."""
    if not first:  # the player of the last clip replaces the upload box until cleared
        page.locator("#asr-audio button[aria-label='Clear']").click()
    page.locator("#asr-audio input[type=file]").set_input_files(str(clip))
    page.wait_for_timeout(500)
    page.locator("#asr-run").click()
    page.wait_for_function(
        "heard => { const t = document.querySelector('#asr-text textarea')?.value || '';"
        " const s = document.querySelector('#asr-summary')?.innerText || '';"
        " return t.toLowerCase().includes(heard) && /Language:/.test(s) && !/\\d\\.\\ds/.test(s); }",
        arg=heard, timeout=180_000)
    return page.locator("#asr-summary").inner_text()


def test_transcribe_says_when_the_lexicon_found_no_words_and_notes_the_transformer_once(page):
    import importlib.util

    page.get_by_role("tab", name="Transcribe").click()
    # "The meeting has been moved to Thursday afternoon.": no word of the NRC lexicon.
    first = transcribe(page, EXAMPLES / "calm_meeting.wav", "thursday")
    assert "no emotion words found" in first and "voice's alone" in first
    page.wait_for_selector("#asr-chart .js-plotly-plot .barlayer", timeout=30_000)
    chart = plot_data(page, "asr-chart")
    voice, words, fused = ({trace["name"]: dict(zip(trace["x"], trace["y"])) for trace in chart}[name]
                           for name in ("voice", "words", "fused"))
    assert not any(words.values())  # no pretended neutral share of the words
    assert fused == pytest.approx(voice, abs=0.01)
    second = transcribe(page, EXAMPLES / "asr_en_happy.wav", "happy", first=False)
    assert "happy" in second.split("voice:")[0]  # the words did count here, and say which
    if importlib.util.find_spec("transformers") is None:
        assert "pip install transformers torch" in first  # told once …
        assert "pip install" not in second  # … not on every result
