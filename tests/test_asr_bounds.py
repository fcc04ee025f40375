"""Whisper's decoding is bounded in tokens and time, and says when a transcript is doubtful."""

from __future__ import annotations

import time

import pytest

from conftest import recording
from ser import load_audio

pytest.importorskip("faster_whisper")

from asr import whisper_backend  # noqa: E402
from asr.whisper_backend import decoding_budget, transcribe  # noqa: E402


def test_the_budget_grows_with_the_audio_and_stays_inside_whispers_limit():
    tokens, seconds = decoding_budget(3.0)
    assert tokens == whisper_backend.MIN_NEW_TOKENS + 3 * whisper_backend.TOKENS_PER_SECOND
    assert seconds == whisper_backend.MIN_TIME_BUDGET + 3 * whisper_backend.TIME_PER_AUDIO_SECOND
    # A 30 s window of fast speech needs ~210 tokens at 7 per second; the cap leaves room for the prompt.
    assert decoding_budget(600.0)[0] == whisper_backend.MAX_NEW_TOKENS
    # faster-whisper's longest prompt is 227 tokens (223 of earlier text, <|startofprev|>, the start sequence).
    assert whisper_backend.MAX_NEW_TOKENS + 227 < 448


def test_two_minutes_of_speech_transcribe_once_the_prompt_of_earlier_text_is_full(tmp_path):
    # With 224 new tokens a window after ~100 s of speech failed: "The length of the prompt is 227, and the
    # `max_new_tokens` 224 ... exceeds the `max_length` of the Whisper model: 448" (Transcribe tab, REST).
    samples = load_audio(recording(tmp_path, 120))
    transcript = transcribe(samples)
    assert transcript.segments[-1].end > 100 and len(transcript.text.split()) > 150, transcript.text[-200:]


@pytest.fixture(scope="module")
def unreadable(ased):
    """3 s of Amharic: Whisper base guesses Georgian at 19 % and writes garbage."""
    return load_audio(next(ased.rglob("f2-02-01-01-27.flac")))


def test_speech_whisper_cannot_read_is_bounded_and_said(unreadable):
    started = time.perf_counter()
    transcript = transcribe(unreadable)
    took = time.perf_counter() - started
    # The budget (19 s) plus one decode of at most 60 tokens; before, such clips took 26-41 s.
    assert took < decoding_budget(3.0)[1] + 10, took
    assert transcript.language != "am" or transcript.language_probability < 0.5
    assert any("not sure which language" in n for n in transcript.notes), transcript.notes


def test_a_spent_budget_stops_before_the_first_decode(unreadable):
    transcript = transcribe(unreadable, time_budget=0.0)  # language detection and encoding still run
    assert transcript.text == "" and any("stopped at 0 of 3 s" in n for n in transcript.notes), transcript.notes


def test_clear_english_has_no_notes(speech):
    transcript = transcribe(speech, language="en")
    assert transcript.notes == () and "meeting" in transcript.text.lower()


def test_a_sentence_said_again_after_a_pause_is_not_a_loop():
    from types import SimpleNamespace as Segment

    from asr.short_window import loops

    said = " Dogs are sitting by the door."
    assert not loops([Segment(text=said, start=0.9, end=2.5), Segment(text=said, start=5.0, end=6.6)])
    assert loops([Segment(text=said, start=0.9, end=2.5), Segment(text=said, start=2.5, end=3.2)])
    assert loops([Segment(text=said + said, start=0.9, end=3.2)]) and not loops([])
