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
