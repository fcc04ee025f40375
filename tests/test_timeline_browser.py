"""The Timeline tab in a real browser: upload a ~30 s project-made recording, see chart, summary, transcript."""

import numpy as np
import pytest
import soundfile

from conftest import EXAMPLES

pytestmark = pytest.mark.browser

CLIPS = ["calm_meeting.wav", "asr_en_happy.wav", "quick_news.wav", "asr_en_angry.wav", "slow_day.wav"]


@pytest.fixture()
def recording(tmp_path):
    from ser import load_audio

    pause = np.zeros(int(2.5 * 16_000), np.float32)
    parts = [pause]
    for name in CLIPS:
        parts += [load_audio(EXAMPLES / name), pause]
    path = tmp_path / "meeting.wav"
    soundfile.write(path, np.concatenate(parts), 16_000)
    return path


def test_timeline_tab_shows_chart_summary_and_transcript(page, recording, tmp_path):
    page.get_by_role("tab", name="Timeline").click()
    page.locator("#timeline-file input[type=file]").set_input_files(str(recording))
    page.get_by_role("button", name="Analyze timeline").click()
    page.wait_for_selector("#timeline-chart .js-plotly-plot .scatterlayer", timeout=120_000)
    page.wait_for_function(
        "() => /\\d+%/.test(document.querySelector('#timeline-summary')?.innerText || '')", timeout=30_000)
    assert "5 segments" in page.locator("#timeline-counts").inner_text()
    table = page.locator("#timeline-table")
    assert "happy" in table.inner_text().lower()  # the transcript of asr_en_happy.wav says so
    # Gradio 6 renders the table as a grid of div cells; click the transcript cell that says "happy".
    page.locator("#timeline-table [role=gridcell]").filter(has_text="happy").first.click()
    page.wait_for_function(
        "() => /\\d+\\.\\d+–\\d+\\.\\d+ s/.test(document.querySelector('#timeline-segment')?.innerText || '')",
        timeout=30_000)
    # Hovering a step shows its segment: time span, emotion and transcript ride on every trace.
    hover = page.evaluate("() => document.querySelector('#timeline-chart .js-plotly-plot').data[0].text")
    assert any("happy" in text.lower() and " s: " in text for text in hover)
    page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)


def test_live_tab_has_a_streaming_microphone(page):
    page.get_by_role("tab", name="Live").click()
    page.wait_for_selector("#live-mic", timeout=30_000)
    assert page.locator("#live-mic").get_by_role("button").count() >= 1


@pytest.fixture()
def trained_bundle():
    """A two-emotion bundle in the app's models/ folder, as the Train tab leaves one (removed afterwards)."""
    import shutil

    from conftest import ROOT
    from ser.bundle import ModelBundle, save_bundle
    from ser.models import make_classifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 88)).astype(np.float32)  # 88 = eGeMAPS' width
    y = np.array(["angry", "sad"] * 20)
    X[:, 0] += 3 * (y == "angry")
    name = "browser-two-emotions"
    folder = save_bundle(ModelBundle(emotion_model=make_classifier("logreg").fit(X, y), feature_set="egemaps",
                                     name=name), ROOT / "models" / name)
    yield name
    shutil.rmtree(folder, ignore_errors=True)


def ticked(page, elem_id: str) -> list[list[str]]:
    """[every choice, the ticked ones] of a CheckboxGroup."""
    return page.evaluate(
        "id => { const boxes = [...document.querySelectorAll(`#${id} input[type=checkbox]`)];"
        " const name = b => b.closest('label').innerText.trim();"
        " return [boxes.map(name), boxes.filter(b => b.checked).map(name)]; }", elem_id)


@pytest.mark.parametrize("tab, prefix", [("Timeline", "timeline"), ("Live", "live")])
def test_model_picker_lists_trained_bundles_and_emotions_follow(page, trained_bundle, tab, prefix):
    # The bundle was saved after the app started: the picker re-reads models/ when opened.
    page.get_by_role("tab", name=tab).click()
    page.locator(f"#{prefix}-accordion").get_by_text("Model and emotions").click()
    # The accordion renders its checkboxes after the click: wait for them (read at once, none were found).
    page.wait_for_function("id => document.querySelectorAll(`#${id} input[type=checkbox]`).length > 2",
                           arg=f"{prefix}-emotions", timeout=30_000)
    choices, ticks = ticked(page, f"{prefix}-emotions")
    assert "boredom" in choices and ticks == choices  # the default model's nine
    page.locator(f"#{prefix}-model input").click()
    page.get_by_role("option", name=trained_bundle, exact=True).click()
    page.wait_for_function("id => document.querySelectorAll(`#${id} input[type=checkbox]`).length === 2",
                           arg=f"{prefix}-emotions", timeout=30_000)
    assert ticked(page, f"{prefix}-emotions") == [["angry", "sad"], ["angry", "sad"]]
