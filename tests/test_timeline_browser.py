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
    page.locator("#timeline-table tbody tr").nth(1).locator("td").first.click()
    page.wait_for_function(
        "() => /\\d+\\.\\d+–\\d+\\.\\d+ s/.test(document.querySelector('#timeline-segment')?.innerText || '')",
        timeout=30_000)
    # Hovering the chart shows the segment under the pointer.
    box = page.locator("#timeline-chart .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    page.wait_for_selector("#timeline-chart .hoverlayer text", timeout=10_000)
    page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)


def test_live_tab_has_a_streaming_microphone(page):
    page.get_by_role("tab", name="Live").click()
    page.wait_for_selector("#live-mic", timeout=30_000)
    assert page.locator("#live-mic").get_by_role("button").count() >= 1
