"""The recording paths in Chromium with a fake microphone: Recognize, Transcribe and Live hear what is said.

Chromium's fake capture device plays a project clip in a loop (``I hate this.
Get out of my house right now!``, an angry Piper voice, read four times), so
every window the page records is that speech.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from conftest import CHROMIUM_ARGS, EXAMPLES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def microphone(tmp_path_factory) -> Path:
    samples, rate = soundfile.read(EXAMPLES / "asr_en_angry.wav", dtype="float32")
    path = tmp_path_factory.mktemp("mic") / "microphone.wav"
    soundfile.write(path, np.tile(samples, 4), rate)
    return path


@pytest.fixture(scope="module")
def mic_page(playwright_session, app_url, microphone):
    p, chromium = playwright_session
    browser = p.chromium.launch(executable_path=chromium, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}"])
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    browser.close()


def record(page, scope: str, seconds: float = 4.0) -> None:
    """Switch ``scope``'s audio input to the microphone, record ``seconds`` and stop."""
    area = page.locator(scope)
    area.get_by_label("Record audio").click()
    area.get_by_role("button", name="Record", exact=True).click()
    page.wait_for_timeout(seconds * 1000)
    area.get_by_role("button", name="Stop", exact=True).click()
    # The recording is uploaded after Stop; the component offers it for download once it has a value
    # (pressing a tab's button before that sends no audio: "Upload or record a clip first").
    area.get_by_label("Download").wait_for(timeout=30_000)


def test_recognize_hears_an_angry_recording(mic_page, app_url):
    page = mic_page
    page.goto(app_url)
    page.wait_for_selector("#emotion-label")
    record(page, "#recognize-audio")
    page.wait_for_function("() => /%/.test(document.querySelector('#emotion-label').innerText)", timeout=60_000)
    assert "angry" in page.locator("#emotion-label").inner_text().lower()
    # The recording gets the upload's follow-up too: top-5 bars, arousal/valence, the JSON to download.
    page.wait_for_selector("#top5 .js-plotly-plot .barlayer .point", timeout=60_000)
    page.wait_for_function("() => /Arousal/.test(document.querySelector('#arousal-valence').innerText)",
                           timeout=30_000)
    page.wait_for_selector("#recognize-download a", timeout=30_000)


def test_transcribe_writes_down_a_recording(mic_page, app_url):
    page = mic_page
    page.goto(app_url)
    page.get_by_role("tab", name="Transcribe").click()
    record(page, "#asr-audio", seconds=5.0)
    page.locator("#asr-run").click()
    page.wait_for_function("() => (document.querySelector('#asr-text textarea') || {}).value", timeout=90_000)
    text = page.locator("#asr-text textarea").input_value().lower()
    assert "house" in text or "get out" in text, text


def test_live_follows_the_microphone(mic_page, app_url):
    page = mic_page
    page.goto(app_url)
    page.get_by_role("tab", name="Live").click()
    page.locator("#live-mic").get_by_role("button", name="Record").click()
    page.wait_for_function("() => /updated in/.test(document.querySelector('#live-status').innerText)",
                           timeout=60_000)
    page.wait_for_function("() => /angry/i.test(document.querySelector('#live-label').innerText)", timeout=30_000)
    page.locator("#live-mic").get_by_role("button", name="Stop").click()
