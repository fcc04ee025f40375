"""The Recognize tab in a real browser (Playwright driving Debian's Chromium)."""

import pytest

pytestmark = pytest.mark.browser


def test_recognize_tab_shows_label_gender_and_radar(page, example_clip, tmp_path):
    page.get_by_role("tab", name="Recognize").click()
    page.locator("#component-0 input[type=file], input[type=file]").first.set_input_files(str(example_clip))
    page.get_by_role("button", name="Recognize", exact=True).click()
    label = page.locator("#emotion-label")
    page.wait_for_function(
        "() => { const el = document.querySelector('#emotion-label'); "
        "return el && /\\d+%/.test(el.innerText); }", timeout=90_000)
    assert any(e in label.inner_text().lower() for e in
               ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised", "boredom"])
    page.wait_for_selector("#radar .js-plotly-plot .polar", timeout=30_000)
    assert "male" in page.locator("#gender").inner_text().lower()
    page.screenshot(path=str(tmp_path / "recognize.png"), full_page=True)


def test_bad_upload_shows_a_clear_message(page, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is a text file, not audio " * 20)
    page.get_by_role("tab", name="Recognize").click()
    page.locator("input[type=file]").first.set_input_files(str(bad))
    page.get_by_role("button", name="Recognize", exact=True).click()
    # The message comes from ser.audio, shown in Gradio's error toast.
    page.wait_for_selector("text=/is not a readable audio file/", timeout=60_000)
