"""The Transcribe tab in a real browser (headless Chromium, fixtures in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asr import paddle_backend

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "examples"


@pytest.fixture
def tab(request):
    page = request.getfixturevalue("page")
    page.get_by_role("tab", name="Transcribe").click()
    return page


def test_transcribe_tab_end_to_end(tab):
    page = tab
    page.locator("#asr-audio input[type=file]").set_input_files(str(EXAMPLES / "asr_en_happy.wav"))
    page.locator("#asr-run").click()
    transcript = page.locator("#asr-text textarea")
    page.wait_for_function(
        "el => /happy to see you/i.test(el.value)", arg=transcript.element_handle(), timeout=120_000
    )
    assert re.search(r"wonderful news", transcript.input_value(), re.I)
    segments = page.locator("#asr-segments")
    assert "happy to see you" in segments.inner_text().lower()
    summary = page.locator("#asr-summary").inner_text()
    assert "base" in summary and "Words:" in summary and "fused:" in summary
    page.locator("#asr-chart .js-plotly-plot").wait_for()
    assert page.locator("#asr-fused").inner_text().strip()


def test_transcribe_tab_offers_only_usable_backends(tab):
    page = tab
    backends = page.locator("#asr-backend")
    assert "faster-whisper" in backends.inner_text() and "pocketsphinx" in backends.inner_text()
    if paddle_backend.availability():
        assert "paddlespeech" not in backends.inner_text()
        greyed = page.locator("#asr-backend-unavailable").inner_text()
        assert "paddlespeech" in greyed and "requirements-paddle.txt" in greyed
    page.get_by_label("pocketsphinx").check()
    page.locator("#asr-model input").wait_for()
    page.wait_for_function("() => document.querySelector('#asr-model input').value === 'en-us'")


def test_transcribe_tab_without_audio_shows_a_message(tab):
    page = tab
    page.locator("#asr-run").click()
    page.get_by_text("Upload or record a clip first.").first.wait_for(timeout=30_000)


def test_transcribe_tab_translates_other_languages_for_the_text_emotion(tab):
    page = tab
    page.locator("#asr-audio input[type=file]").set_input_files(str(EXAMPLES / "asr_de.wav"))
    page.locator("#asr-run").click()
    page.get_by_text("In English:").wait_for(timeout=120_000)
    assert "Heute" in page.locator("#asr-text textarea").input_value()
    assert "de" in page.locator("#asr-summary").inner_text()
