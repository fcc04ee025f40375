"""The Re-voice tab in a real browser (headless Chromium, fixtures in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "examples"
CLIP = EXAMPLES / "asr_en_happy.wav"  # project-made: "I am so happy to see you again. This is wonderful news!"


@pytest.fixture
def tab(request):
    page = request.getfixturevalue("page")
    page.get_by_role("tab", name="Re-voice").click()
    return page


def choose(page, elem_id: str, option: str) -> None:
    page.locator(f"#{elem_id} input").click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}\b")).first.click()


def wait_for_result(page) -> str:
    transcript = page.locator("#tts-transcript textarea")
    page.wait_for_function(
        "el => /happy to see you/i.test(el.value)", arg=transcript.element_handle(), timeout=180_000
    )
    page.locator("#tts-radar .js-plotly-plot").wait_for()
    page.locator("#tts-download a[href*='.wav']").first.wait_for()
    page.locator("#tts-result audio, #tts-result [data-testid='waveform-Result']").first.wait_for(state="attached")
    return page.locator("#tts-summary").inner_text()


def test_revoice_tab_new_voice(tab, tmp_path):
    page = tab
    page.locator("#tts-audio input[type=file]").set_input_files(str(CLIP))
    choose(page, "tts-emotion", "sad")
    choose(page, "tts-voice", "smallgirl")
    page.locator("#tts-run").click()
    summary = wait_for_result(page)
    assert re.search(r"rendered\s+sad", summary) and "smallgirl" in summary
    assert re.search(r"Recognised\s+\w+\s+\(\d+%\)", summary)
    page.screenshot(path=str(tmp_path / "revoice.png"), full_page=True)


def test_revoice_tab_keep_my_voice(tab):
    page = tab
    page.locator("#tts-audio input[type=file]").set_input_files(str(CLIP))
    page.get_by_label("Keep my voice").check()
    page.locator("#tts-voice").wait_for(state="hidden")
    choose(page, "tts-emotion", "angry")
    page.locator("#tts-run").click()
    summary = wait_for_result(page)
    assert re.search(r"rendered\s+angry", summary) and "your own voice" in summary


def test_revoice_tab_without_audio_shows_a_message(tab):
    page = tab
    page.locator("#tts-run").click()
    page.get_by_text("Upload or record a clip first.").first.wait_for(timeout=30_000)


def test_revoice_tab_shows_named_stages_while_it_works(tab):
    page = tab
    page.locator("#tts-audio input[type=file]").set_input_files(str(CLIP))
    # Every status text Gradio draws while the job runs, collected as it appears.
    page.evaluate("""() => {
        window.seenStages = [];
        new MutationObserver(() => {
            for (const el of document.querySelectorAll('.progress-text, .meta-text, .meta-text-center, .progress-level')) {
                const text = el.innerText.trim();
                if (text && !window.seenStages.includes(text)) window.seenStages.push(text);
            }
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""")
    page.locator("#tts-run").click()
    wait_for_result(page)
    seen = page.evaluate("() => window.seenStages")
    stages = {int(m.group(1)) for text in seen for m in [re.search(r"Stage (\d) of 4", text)] if m}
    assert {3, 4} <= stages, seen  # transcribing and speaking last seconds; the first two can be quicker
    assert any(re.search(r"sentence \d of 2", text) for text in seen), seen


def test_revoice_tab_learned_method_shows_pitch_contours_and_the_results_emotion(tab, tmp_path):
    page = tab
    page.locator("#tts-audio input[type=file]").set_input_files(str(CLIP))
    page.get_by_label("Keep my voice").check()
    page.get_by_label("Learned from emotional speech").check()
    choose(page, "tts-emotion", "sad")
    page.locator("#tts-run").click()
    summary = wait_for_result(page)
    assert "learned method" in summary and re.search(r"hears the result as\s+\S+", summary)
    page.locator("#tts-pitch .js-plotly-plot").wait_for()
    # Two lines (input and result) on the pitch chart, two filled traces on the radar.
    assert page.locator("#tts-pitch .scatterlayer .trace").count() == 2
    assert page.locator("#tts-radar .scatterlayer .trace, #tts-radar .trace.scatterpolar").count() >= 2
    page.screenshot(path=str(tmp_path / "revoice-learned.png"), full_page=True)
